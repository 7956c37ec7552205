# Python modules frozen into the Nucleo-F411RE firmware: asyncio only for now (the EVAL
# boards' apps need lwIP and TLS, which this board does not have yet).
include("$(MPY_DIR)/extmod/asyncio")
