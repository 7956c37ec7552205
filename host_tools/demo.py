"""The demo: ST's SSL client demonstration, with no board on the desk.

Makes the test PKI if needed, starts the PC SSL server (like ST's ssl_server.exe) on
127.0.0.1, boots the emulated STM324xG-EVAL with the MicroPython firmware in the SSL client
role (the board reaches the server as 192.168.0.1:443 through QEMU's guest forward), and
shows both consoles side by side as the board connects, shakes hands, writes its request
and reads the page. It stops after --connections successful connections (default 2) and
prints a summary; Ctrl-C stops it earlier.

    python host_tools/demo.py [--connections N] [--cert-kind rsa|ec] [--board F417|F439]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from host_tools import certs  # noqa: E402
from host_tools.board import Board, BoardError, TOP  # noqa: E402
from host_tools.ssl_server import SslServer  # noqa: E402

log = logging.getLogger("demo")

MACHINES = {"F417": "stm324xg-eval", "F439": "stm324x9i-eval"}


class DemoError(RuntimeError):
    pass


def default_firmware(machine: str) -> Path:
    return TOP / "firmware" / f"build-{machine}" / "firmware.elf"


def run(connections: int = 2, cert_kind: str = "rsa", board: str = "F417",
        firmware: Path | None = None, timeout: float = 180.0, out=print) -> list:
    """Run the demo; return the PC server's connection records. Raises DemoError."""
    machine = MACHINES[board]
    firmware = firmware or default_firmware(machine)
    written = certs.make_pki()
    out(f"demo: test PKI in {certs.default_out()} "
        f"({len(written)} files written)" if written else
        f"demo: test PKI in {certs.default_out()} (already there)")
    with SslServer(cert=certs.path(f"server-{cert_kind}"), port=0, echo=False) as server:
        out(f"demo: PC SSL server on 127.0.0.1:{server.port}; the board reaches it as "
            f"192.168.0.1:443")
        config = {"role": "client", "ca": certs.path("ca"), "period": 3}
        with Board(firmware, machine=machine, config=config,
                   guestfwd=[f"443:{server.port}"]).start(paused=True) as b:
            import serial

            with serial.serial_for_url(b.uart(), timeout=0.1) as console:
                b.wait_uart_connected()
                b.resume()
                out(f"demo: {machine} booting {firmware.name} as SSL client")
                return _follow(b, server, console, connections, timeout, out)


def _follow(board, server, console, connections, timeout, out) -> list:
    shown, partial = 0, b""
    deadline = time.monotonic() + timeout
    while True:
        data = console.read(4096)
        if data:
            partial += data
            *lines, partial = partial.split(b"\n")
            for line in lines:
                out("BOARD | " + line.decode(errors="replace").rstrip("\r"))
        new = server.lines[shown:]
        shown += len(new)
        for line in new:
            out("PC    | " + line)
        good = [c for c in server.connections if c.done and c.ok]
        if len(good) >= connections:
            return server.connections
        if not board.is_running():
            raise DemoError(f"the board stopped: {board.engine.exit_report()}")
        if time.monotonic() > deadline:
            raise DemoError(f"{len(good)} of {connections} connections succeeded within "
                            f"{timeout:.0f} s; see the BOARD and PC lines above")


def _summary(records, out) -> None:
    good = [c for c in records if c.done and c.ok]
    for c in good:
        out(f"demo: connection #{c.number}: {c.protocol}, {c.cipher}, "
            f"{c.bytes_read} bytes read from the board, {c.bytes_written} bytes written")
    out(f"demo: {len(good)} successful SSL connection(s) from the board")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=2, metavar="N",
                   help="stop after N successful connections (default %(default)s)")
    p.add_argument("--cert-kind", choices=["rsa", "ec"], default="rsa",
                   help="the PC server's certificate (default %(default)s)")
    p.add_argument("--board", choices=sorted(MACHINES), default="F417",
                   help="F417: stm324xg-eval (default), F439: stm324x9i-eval")
    p.add_argument("--firmware", type=Path, metavar="ELF",
                   help="firmware to run (default: the MicroPython build for the board)")
    p.add_argument("--timeout", type=float, default=180.0, metavar="S",
                   help="give up after S seconds (default %(default)s)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="demo: %(message)s")
    if args.connections < 1:
        print("demo: --connections must be at least 1", file=sys.stderr)
        return 1
    try:
        records = run(args.connections, args.cert_kind, args.board, args.firmware,
                      args.timeout)
    except KeyboardInterrupt:
        print("demo: stopped")
        return 0
    except (DemoError, BoardError, certs.CertsError, OSError) as e:
        if args.debug:
            raise
        print(f"demo: {e}", file=sys.stderr)
        return 1
    _summary(records, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
