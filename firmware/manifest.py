# Python modules frozen into the firmware.
# asyncio: the Python package from MicroPython's extmod (its C core is the _asyncio module).
include("$(MPY_DIR)/extmod/asyncio")
# ssl: CPython-style TLS on the tls module (mbedTLS), with bytes instead of files.
module("ssl.py", base_path="modules")
