"""Where the lab's files are, in a source checkout and in an installed package.

In a checkout (this package next to ``scripts/build-qemu.sh``) everything is where the
Makefile puts it: the firmware in ``firmware/build-<machine>/``, the test PKI in
``certs/out/``, QEMU in the build cache under the name ``scripts/build-qemu.sh --print``
gives. Installed (``pip install .``), there is no source tree: the test PKI goes to the
per-user cache, QEMU is looked up in the cache (``make qemu`` in a checkout put it there),
and a firmware ELF must be given. Every location can be set from the environment:

=====================  =====================================================
``$STM32LAB_CACHE``    the build cache (default ``~/.cache/stm32-tls-lab``)
``$STM32LAB_CERTS``    the test PKI (default ``certs/out`` or ``<cache>/certs``)
``$STM32LAB_QEMU``     the qemu-system-arm to run
``$STM32LAB_FIRMWARE`` the default firmware ELF of board.py
=====================  =====================================================

The cache also holds the guestfwd relay's native helper, built on first use
(``<cache>/relay/``, see :mod:`host_tools.relay`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["CACHE_NAME", "cache_dir", "certs_dir", "checkout", "default_firmware",
           "find_qemu"]

CACHE_NAME = "stm32-tls-lab"
PACKAGE = Path(__file__).resolve().parent
NOT_IN_CHECKOUT = "run 'make qemu' in a checkout of the lab"


def checkout() -> Path | None:
    """The source checkout this package runs from, or None when it is installed."""
    top = PACKAGE.parent
    if (top / "scripts" / "build-qemu.sh").is_file() and (top / "qemu").is_dir():
        return top
    return None


def cache_dir() -> Path:
    """The build cache shared by every checkout of this user: $STM32LAB_CACHE, else
    $XDG_CACHE_HOME/stm32-tls-lab, else ~/.cache/stm32-tls-lab (as scripts/build-qemu.sh)."""
    env = os.environ.get("STM32LAB_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / CACHE_NAME


def certs_dir() -> Path:
    """The test PKI: $STM32LAB_CERTS, else certs/out in a checkout, else <cache>/certs."""
    env = os.environ.get("STM32LAB_CERTS")
    if env:
        return Path(env)
    top = checkout()
    return top / "certs" / "out" if top else cache_dir() / "certs"


def default_firmware(machine: str, hw_crypto: bool = True) -> Path | None:
    """The MicroPython build of the checkout for machine (it may not be built yet), or
    None when installed (no firmware is built outside a checkout)."""
    top = checkout()
    if top is None:
        return None
    from host_tools import lab

    # a board without CRYP/HASH (the Nucleo) has one build, without the -swcrypto suffix
    sw = not hw_crypto and lab.machine(machine).crypto
    return top / "firmware" / f"build-{machine}{'-swcrypto' if sw else ''}" / "firmware.elf"


def find_qemu(explicit: str | None = None, error: type = RuntimeError) -> Path:
    """The lab's qemu-system-arm: explicit, else $STM32LAB_QEMU, else the build of this
    checkout's qemu/ (scripts/build-qemu.sh --print), else (installed) the newest build in
    the cache. Raises error with one line saying what to do when there is none."""
    path = explicit or os.environ.get("STM32LAB_QEMU")
    top = checkout()
    if not path and top is not None:
        script = top / "scripts" / "build-qemu.sh"
        try:
            path = subprocess.run(["bash", str(script), "--print"], check=True, text=True,
                                  capture_output=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            raise error(f"cannot ask {script} where QEMU is; run 'make qemu' "
                        f"or pass --qemu PATH") from None
    if not path:
        builds = sorted(cache_dir().glob("qemu-*/qemu-system-arm"),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        builds = [p for p in builds if os.access(p, os.X_OK)]
        if not builds:
            raise error(f"no lab QEMU in {cache_dir()}; {NOT_IN_CHECKOUT} (or set "
                        f"STM32LAB_QEMU or --qemu to a qemu-system-arm with the lab's "
                        f"machines)")
        path = builds[0]
    path = Path(path)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise error(f"QEMU not built at {path}; run 'make qemu' (or set STM32LAB_QEMU "
                    f"or --qemu to a qemu-system-arm)")
    return path
