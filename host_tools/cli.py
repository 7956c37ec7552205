"""What every host tool's command line shares: its name, the output options, and the
runner that turns signals into a clean stop and errors into one line on stderr.

A tool's ``main`` is::

    def main(argv=None) -> int:
        args = parser().parse_args(argv)
        cli.setup_logging("board", args)
        return cli.run("board", lambda: _main(args), errors=(BoardError,),
                       debug=args.debug, interrupted=...)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Callable

from host_tools import paths

__all__ = ["Stop", "add_output_options", "command", "parser", "prog", "run", "setup_logging"]

COMMAND_PREFIX = "stm32lab-"


class Stop(Exception):
    """SIGTERM, SIGHUP or SIGINT arrived: stop as for Ctrl-C."""


def prog(name: str) -> str:
    """The name the tool was started by, for usage lines: stm32lab-board (the installed
    command), board.py (python host_tools/board.py) or python -m host_tools.board."""
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if argv0.startswith(COMMAND_PREFIX) or argv0 == f"{name}.py":
        return argv0
    return f"python -m host_tools.{name}"


def command(name: str) -> str:
    """How a user runs a tool here, for "run ..." hints: python host_tools/certs.py in a
    checkout, the installed command (stm32lab-certs) elsewhere."""
    if paths.checkout() is not None:
        return f"python host_tools/{name}.py"
    return COMMAND_PREFIX + name.replace("_", "-")


def parser(name: str, **kwargs) -> argparse.ArgumentParser:
    """An ArgumentParser whose usage line names the command as it was typed."""
    return argparse.ArgumentParser(prog=prog(name), **kwargs)


def add_output_options(p: argparse.ArgumentParser, quiet_help: str = "errors only",
                       verbose_help: str = "more messages") -> None:
    """-v/--verbose, -q/--quiet and --debug, in an "output" group."""
    g = p.add_argument_group("output")
    v = g.add_mutually_exclusive_group()
    v.add_argument("-v", "--verbose", action="count", default=0, help=verbose_help)
    v.add_argument("-q", "--quiet", action="store_true", help=quiet_help)
    g.add_argument("--debug", action="store_true", help="show tracebacks (re-raise errors)")
    return g


def setup_logging(name: str, args) -> None:
    """Log lines as "name: message"; -q: errors only, -v: info, -vv: debug."""
    verbose = min(getattr(args, "verbose", 0), 2)
    level = logging.ERROR if getattr(args, "quiet", False) else logging.WARNING - 10 * verbose
    logging.basicConfig(level=level, format=f"{name}: %(message)s", force=True)


def run(name: str, body: Callable[[], int], *, errors: tuple, debug: bool = False,
        interrupted: Callable[[], int] | int = 0, cleanup: Callable[[], None] | None = None,
        signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)) -> int:
    """Run a tool's body and return its exit status.

    SIGINT, SIGTERM and SIGHUP stop it as Ctrl-C does (SIGINT too, because a program
    started in the background of a script inherits an ignored SIGINT): ``interrupted``
    (a status, or a function that stops what runs and returns one) decides the status, and
    a second signal is ignored so it cannot break that clean stop. An error of ``errors``
    is one line "name: message" on stderr and status 1 (``debug`` re-raises it).
    ``cleanup`` runs at the end whatever happened."""
    handlers = {}

    def on_signal(signum, frame):
        for sig in handlers:
            signal.signal(sig, signal.SIG_IGN)
        raise Stop()

    try:
        if threading.current_thread() is threading.main_thread():
            for sig in signals:
                handlers[sig] = signal.signal(sig, on_signal)
        return body()
    except (KeyboardInterrupt, Stop):
        return interrupted() if callable(interrupted) else interrupted
    except errors as e:
        if debug:
            raise
        print(f"{name}: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        try:
            if cleanup is not None:
                cleanup()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
