# Python modules frozen into the Nucleo-F411RE firmware (the EVAL boards' apps need lwIP
# and TLS, which this board does not have).
include("$(MPY_DIR)/extmod/asyncio")
# The W5100 shield's driver (sockets on the chip's own TCP/IP stack) and a DNS stub
# resolver over its UDP sockets.
module("w5100.py", base_path="../../modules")
module("dnsclient.py", base_path="../../modules")
# socket in CPython's shape on top of them (socket.attach(nic) first)
module("socket.py")
# ssl: CPython-style TLS on the tls module (mbedTLS, software crypto; entropy from the seed
# the launcher provisions, tls.seed).
module("ssl.py", base_path="../../modules")
# The seed application (the write-up's HTTPS client), run by main.c before the REPL, and
# the config sector reader it shares with the EVAL boards' apps.
module("boardcfg.py", base_path="../../apps")
module("app_main.py")
module("tlsconf.py", base_path="../../apps")
