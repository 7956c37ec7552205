# Python modules frozen into the firmware.
# asyncio: the Python package from MicroPython's extmod (its C core is the _asyncio module).
include("$(MPY_DIR)/extmod/asyncio")
