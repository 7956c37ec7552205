# Python modules frozen into the firmware.
# asyncio: the Python package from MicroPython's extmod (its C core is the _asyncio module).
include("$(MPY_DIR)/extmod/asyncio")
# ssl: CPython-style TLS on the tls module (mbedTLS), with bytes instead of files.
module("ssl.py", base_path="modules")
# tlsio: TLS on non-blocking sockets under asyncio, error names, safe console text.
module("tlsio.py", base_path="modules")
# --- apps ---
# The board applications (apps/): the ST demo's tasks, SSL client, HTTPS server, and the
# configuration from the config flash sector; main.c runs app_main.py before the REPL.
module("boardcfg.py", base_path="apps")
module("sysinfo.py", base_path="apps")
module("demo.py", base_path="apps")
module("lcd_log.py", base_path="apps")
module("demo_client.py", base_path="apps")
module("demo_server.py", base_path="apps")
module("tlsconf.py", base_path="apps")
module("app_main.py", base_path="apps")
# --- end apps ---
