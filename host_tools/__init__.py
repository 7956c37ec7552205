"""PC-side tools of the STM32F4 SSL/TLS emulation lab.

Each module is importable and also runs as a script, for example
``python host_tools/board.py --help``.
"""
