"""The demo: ST's SSL client demonstration, with no board on the desk.

Makes the test PKI if needed, starts the PC SSL server (like ST's ssl_server.exe) on
127.0.0.1, boots the emulated STM324xG-EVAL with the MicroPython firmware in the SSL client
role (the board reaches the server as 192.168.0.1:443 through QEMU's guest forward), and
shows both consoles side by side as the board connects, shakes hands, writes its request
and reads the page. It stops after --connections successful connections (default 2) and
prints a summary; Ctrl-C stops it earlier.

With --board F411 (make demo BOARD=nucleo-f411re) it is the Nucleo write-up's HTTPS client
instead: the lab's DNS resolver answers ssl-server.lab, the PC server presents the chain
through the issuing CA, the Nucleo (W5100 shield) prints "Press any key to continue...",
gets a key, resolves the name, does TLS 1.2, prints the server's certificate and the page.

    python host_tools/demo.py [--connections N] [--cert-kind rsa|ec] [--board F417|F439|F411]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/demo.py)

from host_tools import certs, cli, lab  # noqa: E402
from host_tools.board import Board, BoardError, default_firmware  # noqa: E402
from host_tools.lab import HOST_IP  # noqa: E402
from host_tools.lab_dns import LabDns  # noqa: E402
from host_tools.ssl_server import SslServer, SslServerError  # noqa: E402

log = logging.getLogger("demo")

# --board F417 -> stm324xg-eval (ST's SSL client); F411 -> nucleo-f411re (the W5100 client)
BOARDS = {m.short: m.name for m in lab.MACHINES.values() if m.ethernet or m.w5100}


class DemoError(RuntimeError):
    pass


def _make_pki(out) -> None:
    """The test PKI in its default place, made if needed, and one line saying so."""
    written = certs.make_pki()
    out(f"demo: test PKI in {certs.default_out()} "
        f"({len(written)} files written)" if written else
        f"demo: test PKI in {certs.default_out()} (already there)")


def run(connections: int = 2, cert_kind: str = "rsa", board: str = "F417",
        firmware: Path | None = None, timeout: float = 180.0, out=print) -> list:
    """Run the demo; return the PC server's connection records. Raises DemoError."""
    machine = lab.machine(board).name
    if lab.machine(board).w5100:
        return run_nucleo(firmware, timeout, out)
    firmware = firmware or default_firmware(machine)
    if firmware is None:
        raise DemoError("the demo boots the lab's MicroPython firmware, which is built in a "
                        "checkout ('make firmware'); pass --firmware ELF (or set "
                        "STM32LAB_FIRMWARE)")
    _make_pki(out)
    with SslServer(cert=certs.path(f"server-{cert_kind}"), port=0, echo=False) as server:
        out(f"demo: PC SSL server on 127.0.0.1:{server.port}; the board reaches it as "
            f"{HOST_IP}:443")
        config = {"role": "client", "ca": certs.path("ca"), "period": 3}
        with Board(firmware, machine=machine, config=config,
                   guestfwd=[f"443:{server.port}"]).start(paused=True) as b:
            import serial

            with serial.serial_for_url(b.uart(), timeout=0.1) as console:
                b.wait_uart_connected()
                b.resume()
                out(f"demo: {machine} booting {firmware.name} as SSL client")
                return _follow(b, server, console, connections, timeout, out)


def run_nucleo(firmware: Path | None = None, timeout: float = 180.0, out=print) -> list:
    """The Nucleo-F411RE's HTTPS client (the write-up's): one connection."""
    machine = "nucleo-f411re"
    firmware = firmware or default_firmware(machine)   # its only build: software crypto
    if firmware is None:
        raise DemoError("the demo boots the lab's MicroPython firmware, which is built in a "
                        "checkout ('make firmware BOARD=nucleo-f411re'); pass --firmware ELF")
    _make_pki(out)
    with LabDns({certs.PC_NAME: HOST_IP}) as dns, \
            SslServer(cert=certs.path("server-chain"), port=0, echo=False) as server:
        out(f"demo: lab DNS on 127.0.0.1:{dns.port} ({certs.PC_NAME} -> {HOST_IP}); PC SSL "
            f"server on 127.0.0.1:{server.port} with the chain through the issuing CA; the "
            f"Nucleo reaches both as {HOST_IP} (:53, :443) through its W5100")
        config = {"server_name": certs.PC_NAME, "ca": certs.path("ca"), "tls_max": "1.2"}
        with Board(firmware, machine=machine, config=config,
                   guestfwd=[f"443:{server.port}", f"53:{dns.port}"]).start(paused=True) as b:
            import serial

            with serial.serial_for_url(b.uart(), timeout=0.1) as console:
                b.wait_uart_connected()
                b.resume()
                out(f"demo: {machine} booting {firmware.name} as the HTTPS client")
                return _follow(b, server, console, 1, timeout, out,
                               answer=(b"Press any key to continue...", b"\r"))


# After the last connection the board still reports it (bytes written and read): the demo
# shows its console until it has been quiet this long (at most DRAIN_MAX seconds).
DRAIN_QUIET, DRAIN_MAX = 1.0, 10.0


def _follow(board, server, console, connections, timeout, out, answer=None) -> list:
    """Shows both consoles until `connections` succeeded; answer=(prompt, reply) types
    reply on the board's console once it shows prompt (the Nucleo's "Press any key")."""
    shown, partial = 0, b""
    deadline = time.monotonic() + timeout
    done_at = quiet_since = None
    while True:
        data = console.read(4096)
        now = time.monotonic()
        if data:
            quiet_since = now
            partial += data
            if answer and answer[0] in partial:
                console.write(answer[1])
                out("BOARD | " + answer[0].decode() + "  <- demo: a key pressed")
                partial = partial.replace(answer[0], b"", 1)
                answer = None
            *lines, partial = partial.split(b"\n")
            for line in lines:
                out("BOARD | " + line.decode(errors="replace").rstrip("\r"))
        new = server.lines[shown:]
        shown += len(new)
        for line in new:
            out("PC    | " + line)
        good = [c for c in server.connections if c.done and c.ok]
        if len(good) >= connections and done_at is None:
            done_at = quiet_since = now
        if done_at is not None and (now - quiet_since >= DRAIN_QUIET
                                    or now - done_at >= DRAIN_MAX):
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
    p = cli.parser("demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=2, metavar="N",
                   help="stop after N successful connections (default %(default)s)")
    p.add_argument("--cert-kind", choices=["rsa", "ec"], default="rsa",
                   help="the PC server's certificate (default %(default)s)")
    def board(text: str) -> str:
        """F417 or stm324xg-eval (make demo BOARD=...): the short name."""
        try:
            short = lab.machine(text).short
        except lab.BoardError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        if short not in BOARDS:
            raise argparse.ArgumentTypeError(f"{text} has no demo (no network)")
        return short

    p.add_argument("--board", type=board, default=lab.machine().short,
                   help=", ".join(f"{short}: {name}" for short, name in sorted(BOARDS.items()))
                   + " (F411: the Nucleo's HTTPS client, one connection)"
                   + " (default %(default)s)")
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

    def run_demo() -> int:
        try:
            records = run(args.connections, args.cert_kind, args.board, args.firmware,
                          args.timeout)
        except OSError as e:
            raise DemoError(str(e)) from None
        _summary(records, print)
        return 0

    def interrupted() -> int:
        print("demo: stopped")
        return 0

    return cli.run("demo", run_demo, debug=args.debug, interrupted=interrupted,
                   errors=(DemoError, BoardError, certs.CertsError, SslServerError))


if __name__ == "__main__":
    sys.exit(main())
