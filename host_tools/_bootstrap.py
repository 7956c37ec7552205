"""Lets ``python host_tools/TOOL.py`` import the package as ``python -m host_tools.TOOL`` does.

Run as a file, a tool has its own folder first on sys.path, where ``import host_tools``
finds nothing (and ``import board`` would find a second copy of a module). The tools
import this module first in that case only; it puts the folder that holds the package
there instead::

    if __package__ in (None, ""):
        import _bootstrap  # noqa: F401  (python host_tools/TOOL.py)
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
