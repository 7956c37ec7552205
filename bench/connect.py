#!/usr/bin/env python3
"""Board-to-PC connections: the guestfwd relays side by side in one run.

Each board connection to the PC goes through a relay (host_tools/relay.py). Three boards
boot at once, one per relay, and take turns, a batch at a time, so all see the same host
load:

* ``python``: QEMU starts the Python relay for every connection (``cmd:``);
* ``native-cmd``: QEMU starts the native helper for every connection; the board stands
  still while QEMU forks (twice, glib's spawn);
* ``native`` (the launcher's default): the native helper the launcher keeps running,
  listening on a Unix socket that QEMU connects to (``unix:``, our QEMU patch 0015).

The figures:

* **connect**: the board's ``socket.connect`` to 192.168.0.1 (an echo server on
  127.0.0.1), timed by the guest's ``time.ticks_us()``. slirp answers the board's SYN once
  it has started the relay (``cmd:``) or connected to the Unix socket (``unix:``);
* **echo**: connect until the PC's echo of one byte is back, guest clock: the relay must
  have started and reached the PC, so this is the board-to-PC connect an application sees;
* **handshake**: ``socket.connect`` plus the TLS 1.2 ECDHE-RSA handshake
  (``wrap_socket``) with a Python ssl server holding the lab PKI's RSA server certificate,
  guest clock;
* connect + echo and connect + handshake on the host's clock: a batch's paste from its
  end to its last line, less an empty paste's round trip, divided by the batch size (this
  also counts the socket's close).

Medians of --count connects and handshakes per relay. The guest's clock can lose SysTick
interrupts when the host is loaded (bench/README.md), so the host's figure is there as a
check on the guest's.

    python3 bench/connect.py                        # print the table
    python3 bench/connect.py --json bench/results/connect.json
    python3 bench/connect.py --quick                # 2 of each: structure only (tests)
"""
from __future__ import annotations

import argparse
import json
import re
import socket
import ssl
import statistics
import sys
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from bench.crypto import Console, attach, machine_facts, qemu_path  # noqa: E402
from host_tools import certs  # noqa: E402
from host_tools.board import Board  # noqa: E402
from host_tools.lab import HOST_IP  # noqa: E402

RELAYS = ("python", "native-cmd", "native")
MACHINE = "stm324xg-eval"
ECHO_PORT, TLS_PORT = 7, 443            # the board's ports on 192.168.0.1
CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"

# The board's network up (the EVAL boards' Ethernet, up to 15 s for the link and the
# address), for the benches that talk to the PC.
LAN_UP = """
import network, socket, ssl, time
lan = network.LAN()
lan.active(True)
t0 = time.ticks_ms()
while not lan.isconnected():
    if time.ticks_diff(time.ticks_ms(), t0) > 15000:
        raise OSError('no network')
    time.sleep_ms(20)
"""

# Pasted once: the network, then connects(n) and handshakes(n), each printing one line
# of guest-timed microseconds.
SETUP = LAN_UP + """
ECHO = socket.getaddrinfo('{pc}', {echo})[0][-1]
TLS = socket.getaddrinfo('{pc}', {tls})[0][-1]
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.load_verify_locations(cadata={ca!r})
ssl.set_time({now})
def connects(n):
    us, echo = [], []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(30)
        t = time.ticks_us()
        s.connect(ECHO)
        us.append(time.ticks_diff(time.ticks_us(), t))
        s.write(b'x')
        if s.read(1) != b'x':
            raise OSError('no echo')
        echo.append(time.ticks_diff(time.ticks_us(), t))
        s.close()
    print('BENCH connect', *us)
    print('BENCH echo', *echo)
def handshakes(n):
    us = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(30)
        t = time.ticks_us()
        s.connect(TLS)
        ss = CTX.wrap_socket(s, server_hostname='{pc}')
        us.append(time.ticks_diff(time.ticks_us(), t))
        ss.close()
    print('BENCH handshake', *us)
def run(fn, n):
    try:
        fn(n)
    except Exception as e:
        print('BENCH-ERROR', repr(e))
    print('BENCH' + '-END')
print('BENCH' + '-END')
"""


class PcServers:
    """On 127.0.0.1: an echo server, and a TLS 1.2 server (RSA certificate, ECDHE-RSA
    only) that completes each handshake and closes."""

    def __init__(self, pki: Path):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki / "server-rsa.pem", pki / "server-rsa.key.pem")
        self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.set_ciphers(CIPHER)
        self.errors: list[str] = []
        self.handshakes = 0
        self.echo, self.tls = self._listen(), self._listen()
        for sock, serve in ((self.echo, self._serve_echo), (self.tls, self._serve_tls)):
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    @staticmethod
    def _listen() -> socket.socket:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        return s

    def port(self, which: str) -> int:
        return getattr(self, which).getsockname()[1]

    def _serve_echo(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        # Echo until the board closes: the board closes first, as a client does.
        conn.settimeout(30)
        with conn:
            try:
                while data := conn.recv(4096):
                    conn.sendall(data)
            except OSError:
                pass

    def _serve_tls(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.settimeout(30)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    if tls.cipher()[0] != CIPHER:
                        self.errors.append(f"negotiated {tls.cipher()[0]}")
                    self.handshakes += 1
            except (OSError, ssl.SSLError) as e:
                self.errors.append(repr(e))

    def close(self):
        self.echo.close()
        self.tls.close()


def boot(relay: str, qemu: str, firmware: Path, servers: PcServers, pki: Path):
    """A board at the REPL with the SETUP program run; (board, console)."""
    board = Board(firmware, emulator=qemu, machine=MACHINE, relay=relay,
                  guestfwd=[f"{ECHO_PORT}:{servers.port('echo')}",
                            f"{TLS_PORT}:{servers.port('tls')}"])
    board.start(paused=True)
    try:
        con = attach(board)
        setup = SETUP.format(pc=HOST_IP, echo=ECHO_PORT, tls=TLS_PORT,
                             ca=(pki / "ca.pem").read_text(), now=int(time.time()))
        _, lines = con.paste(setup, 60)
        if any("Traceback" in line for line in lines):
            raise RuntimeError(f"the board's set-up failed: {lines}")
    except BaseException:
        board.stop()
        raise
    return board, con


# (figure, clock, what it is): the rows of the table, in order
FIGURES = (
    ("connect", "guest", "socket.connect"),
    ("echo", "guest", "connect + 1 byte echoed by the PC"),
    ("connect", "host", "connect + echo + close"),
    ("handshake", "guest", "connect + TLS handshake"),
    ("handshake", "host", "connect + handshake + close"),
)


def batch(con: Console, relay: str, what: str, n: int, base: float) -> tuple[dict, float]:
    """Run connects(n) or handshakes(n): ({figure: guest microseconds each}, host seconds
    each)."""
    elapsed, lines = con.paste(f"run({what}s, {n})", 60 + 30 * n)
    text = "\n".join(lines)
    found = dict(re.findall(r"^BENCH (\w+)((?: \d+)+)$", text, re.M))
    names = ("connect", "echo") if what == "connect" else ("handshake",)
    if any(name not in found for name in names):
        raise RuntimeError(f"{what}s({n}) failed on the board with the {relay} relay:\n{text}")
    return ({name: [int(x) for x in found[name].split()] for name in names},
            max(elapsed - base, 0.0) / n)


def measure(qemu: str, firmware: Path, count: int, per_batch: int) -> dict:
    pki = certs.default_out()
    certs.make_pki(pki, report=lambda line: None)
    servers = PcServers(pki)
    boards = {}
    samples = {(r, f, c): [] for r in RELAYS for f, c, _ in FIGURES}
    try:
        for relay in RELAYS:
            boards[relay] = boot(relay, qemu, firmware, servers, pki)
        for relay, (_, con) in boards.items():
            # not counted: the first connect also resolves the PC's MAC address (ARP)
            # and the first handshake sets mbedTLS up
            batch(con, relay, "connect", 1, 0.0)
            batch(con, relay, "handshake", 1, 0.0)
        base = {r: min(con.paste("print('BENCH' + '-END')", 30)[0] for _ in range(3))
                for r, (_, con) in boards.items()}
        for what in ("connect", "handshake"):
            done = 0
            while done < count:
                n = min(per_batch, count - done)
                for relay, (_, con) in boards.items():     # take turns: the same load
                    guest, secs = batch(con, relay, what, n, base[relay])
                    for name, us in guest.items():
                        samples[relay, name, "guest"] += [u / 1000 for u in us]
                    samples[relay, what, "host"] += [secs * 1000] * n
                done += n
    finally:
        for board, con in boards.values():
            con.close()
            board.stop()
        servers.close()
    rows = [{"relay": r, "figure": f, "clock": c, "what": what, "count": count,
             "median_ms": round(statistics.median(samples[r, f, c]), 2),
             "samples_ms": [round(x, 2) for x in samples[r, f, c]]}
            for r in RELAYS for f, c, what in FIGURES]
    return {"rows": rows, "machine_name": MACHINE, "cipher": CIPHER, "batch": per_batch,
            "server_errors": servers.errors, "server_handshakes": servers.handshakes,
            "machine": machine_facts()}


def table(result: dict) -> str:
    """The relays side by side: medians in milliseconds."""
    rows = {(r["relay"], r["figure"], r["clock"]): r for r in result["rows"]}
    lines = [f"{'figure (ms, median)':44}" + "".join(f" {r:>10}" for r in RELAYS)]
    for figure, clock, what in FIGURES:
        lines.append(f"{f'{what}, {clock} clock':44}" + "".join(
            f" {rows[(r, figure, clock)]['median_ms']:>10.1f}" for r in RELAYS))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware", type=Path,
                    default=TOP / "firmware" / f"build-{MACHINE}" / "firmware.elf",
                    help="the MicroPython firmware ELF (default: the F417 hardware-crypto build)")
    ap.add_argument("--qemu", help="qemu-system-arm (default: scripts/build-qemu.sh --print)")
    ap.add_argument("--count", type=int, default=20,
                    help="connects and handshakes per relay (default 20)")
    ap.add_argument("--batch", type=int, default=5, help="how many a board runs per turn")
    ap.add_argument("--quick", action="store_true", help="2 of each (tests)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    if not args.firmware.exists():
        raise SystemExit(f"bench: {args.firmware} missing; build it with "
                         f"'make -C firmware BOARD={MACHINE}'")
    count, per_batch = (2, 1) if args.quick else (args.count, args.batch)
    result = measure(args.qemu or qemu_path(), args.firmware, count, per_batch)
    print(table(result))
    for error in result["server_errors"]:
        print(f"bench: the PC's TLS server: {error}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if not result["server_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
