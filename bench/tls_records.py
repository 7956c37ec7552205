#!/usr/bin/env python3
"""TLS record traffic, PC to board: the hardware-crypto and software-crypto firmware builds
side by side in one run, on the F417 and the F439, per cipher suite.

The board connects to a TLS 1.2 server on the PC (Python ``ssl`` on 127.0.0.1, reached as
192.168.0.1 through QEMU's guest forward), offers one suite, sends how many bytes it wants
and reads them. Each (board, build, suite) prints:

* **KiB/s of wall time**: from the PC's first byte of application data to the board's line
  saying it has read them all, on the host's clock, the median of --reps (3) runs (a trivial paste's round trip is
  subtracted; the guest's own clock loses SysTick interrupts when the host is loaded);
* **guest instructions per KiB**: a second run under ``--deterministic`` (``-icount
  shift=7``: one instruction is 128 ns of virtual time) counting only the time the board
  spends inside ``recv_into`` on its non-blocking TLS socket (mbedTLS's record decryption
  and MAC check, the copy out of lwIP), not the time it waits in ``poll`` for the PC's
  next segment, so the figure does not depend on the network's pace.

The bytes are checked: the board returns the SHA-256 of what it read (``hashlib``, which is
the HASH only on the F439 hardware build; it runs outside the timed reads), compared with
the PC's.

    python3 bench/tls_records.py                   # print the table
    python3 bench/tls_records.py --json bench/results/tls_records.json --png bench/results/tls_records.png
    python3 bench/tls_records.py --quick           # 16 KiB, one suite: structure only (tests)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from bench.connect import LAN_UP  # noqa: E402
from bench.crypto import (BOARDS, ICOUNT_SHIFT, attach, firmware_path,  # noqa: E402
                          machine_facts, plot_side_by_side, qemu_path, side_by_side)
from host_tools import certs  # noqa: E402
from host_tools.board import Board  # noqa: E402
from host_tools.lab import HOST_IP  # noqa: E402

TLS_PORT = 443                          # the board's port on 192.168.0.1
# (OpenSSL name, what the issue calls it): AES-CBC with HMAC-SHA1 (the F417's HASH has
# SHA-1), with HMAC-SHA256 (the F439's has SHA-256), and AES-GCM
SUITES = ("AES128-SHA", "AES128-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES256-GCM-SHA384")

SETUP = LAN_UP + """
import select, hashlib
ADDR = socket.getaddrinfo('{pc}', {port})[0][-1]
CA = {ca!r}
ssl.set_time({now})
BUF = bytearray(2048)
# No timeouts in the guest: under --deterministic (sleep=off) its clock leaps ahead while it
# waits for the PC, so any would expire at once; the host's paste timeout bounds a hang.
def records(suite, total):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=CA)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(suite)
    s = socket.socket()
    s.connect(ADDR)
    t = ctx.wrap_socket(s, server_hostname='{pc}')
    t.write(b'%d\\n' % total)
    s.setblocking(False)
    p = select.poll()
    p.register(s, select.POLLIN)
    h = hashlib.sha256()
    mv = memoryview(BUF)
    got = busy = 0
    while got < total:
        p.poll()
        while got < total:
            a = time.ticks_us()
            n = t.recv_into(BUF)
            busy += time.ticks_diff(time.ticks_us(), a)
            if n is None:
                break
            if n == 0:
                raise OSError('the PC closed after %d bytes' % got)
            h.update(mv[:n])
            got += n
    print('BENCH', t.cipher()[0], got, busy, h.digest().hex())
    t.close()
def run(suite, total):
    try:
        records(suite, total)
    except Exception as e:
        print('BENCH-ERROR', repr(e))
    print('BENCH' + '-END')
print('BENCH' + '-END')
"""


def payload(total: int) -> bytes:
    return bytes((i * 131 + 7) & 0xFF for i in range(total))


class PcServer:
    """A TLS 1.2 server on 127.0.0.1 (the lab PKI's RSA certificate, every suite): reads the
    byte count the board asks for, sends that many bytes of payload(), then waits for the
    board's close. Keeps the host's time of the first byte sent."""

    def __init__(self, pki: Path):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki / "server-rsa.pem", pki / "server-rsa.key.pem")
        self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.set_ciphers("ALL:@SECLEVEL=0")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.first_byte = None
        self.errors: list[str] = []
        self._data: dict[int, bytes] = {}
        threading.Thread(target=self._serve, daemon=True).start()

    def prepare(self, total: int) -> None:
        """Make the payload before the board asks for it (under --deterministic the guest
        would see the time it takes as a stall)."""
        self._data.setdefault(total, payload(total))

    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(60)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    line = b""
                    while not line.endswith(b"\n"):
                        chunk = tls.recv(16)
                        if not chunk:
                            raise OSError("the board closed before asking")
                        line += chunk
                    total = int(line)
                    data = self._data.setdefault(total, payload(total))
                    self.first_byte = time.monotonic()
                    tls.sendall(data)
                    try:
                        while tls.recv(4096):
                            pass
                    except (OSError, ssl.SSLError):
                        pass
            except (OSError, ssl.SSLError, ValueError) as e:
                self.errors.append(repr(e))

    def close(self):
        self.sock.close()


def run_guest(elf: Path, qemu: str, machine: str, deterministic: bool, suites, total: int,
              server: PcServer, pki: Path, reps: int = 1) -> dict:
    """Boot, read `total` bytes with each suite (reps times in a wall run); {suite:
    (median seconds or None, busy us, negotiated suite, sha256 hex of the last)}."""
    board = Board(elf, emulator=qemu, machine=machine, deterministic=deterministic,
                  icount_shift=ICOUNT_SHIFT, guestfwd=[f"{TLS_PORT}:{server.port()}"])
    board.start(paused=True)
    res = {}
    try:
        con = attach(board)
        setup = SETUP.format(pc=HOST_IP, port=TLS_PORT, ca=(pki / "ca.pem").read_text(),
                             now=int(time.time()))
        _, lines = con.paste(setup, 60)
        if any("Traceback" in line for line in lines):
            raise RuntimeError(f"{elf}: the board's set-up failed: {lines}")
        base = min(con.paste("print('BENCH' + '-END')", 30)[0] for _ in range(3))
        for suite in suites:
            times = []
            for _ in range(1 if deterministic else reps):
                server.first_byte = None
                elapsed, lines = con.paste(f"run('{suite}', {total})", 600)
                end = time.monotonic()
                text = "\n".join(lines)
                m = re.search(r"^BENCH (\S+) (\d+) (\d+) ([0-9a-f]+)$", text, re.M)
                if not m or server.first_byte is None:
                    raise RuntimeError(f"{elf} {suite}: {text} {server.errors[-3:]}")
                # the paste's round trip (base) is part of `end`, not of the transfer
                times.append(end - server.first_byte - base)
            secs = statistics.median(times) if not deterministic else None
            res[suite] = (secs, int(m.group(3)), m.group(1), m.group(4))
        con.close()
    finally:
        board.stop()
    return res


def measure(fw_dir: Path, qemu: str, boards, builds, suites, total: int, pki: Path,
            wall: bool = True, reps: int = 3) -> dict:
    server = PcServer(pki)
    server.prepare(total)
    want = hashlib.sha256(payload(total)).hexdigest()
    kib = total / 1024
    rows = []
    try:
        for board in boards:
            for build in builds:
                elf = firmware_path(fw_dir, board, build)
                if not elf.exists():
                    raise SystemExit(f"bench: {elf} missing; build it with 'make -C firmware "
                                     f"BOARD={BOARDS[board]} HW_CRYPTO={int(build == 'HW')}'")
                print(f"bench: {board} {build} ...", file=sys.stderr, flush=True)
                icnt = run_guest(elf, qemu, BOARDS[board], True, suites, total, server, pki)
                wl = (run_guest(elf, qemu, BOARDS[board], False, suites, total, server, pki,
                                reps) if wall else {})
                for suite in suites:
                    _, busy_us, got, digest = icnt[suite]
                    secs = wl[suite][0] if wall else None
                    ok = (digest == want and got == suite
                          and (not wall or wl[suite][3] == want))
                    rows.append({
                        "board": board, "build": build, "suite": suite, "bytes": total,
                        "kib_per_s": round(kib / secs, 1) if secs and secs > 0 else None,
                        "instr_per_kib": round(busy_us * 1000 / (1 << ICOUNT_SHIFT) / kib),
                        "negotiated": got, "ok": ok,
                    })
    finally:
        server.close()
    return {"rows": rows, "bytes": total, "reps": reps, "icount_shift": ICOUNT_SHIFT,
            "machine": machine_facts()}


def table(result: dict) -> str:
    """HW and SW side by side per board and suite: wall KiB/s, instructions per KiB."""
    return side_by_side(result, "suite", SUITES, 28, kib_width=9, digits=2)


def plot(result: dict, path: Path) -> None:
    plot_side_by_side(result, path, "suite", SUITES,
                      ("wall KiB/s, PC to board (higher is better)",
                       "guest instructions per KiB read (lower is better)"),
                      f"TLS 1.2 records, {result['bytes'] // 1024} KiB PC to board, "
                      f"HW vs SW firmware builds", log=False, width=15)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware-dir", type=Path, default=TOP / "firmware",
                    help="where the build-<board>[-swcrypto] directories are")
    ap.add_argument("--qemu", help="qemu-system-arm (default: scripts/build-qemu.sh --print)")
    ap.add_argument("--boards", default="F417,F439")
    ap.add_argument("--builds", default="HW,SW")
    ap.add_argument("--suites", default=",".join(SUITES))
    ap.add_argument("--kib", type=int, default=512, help="KiB the PC sends per connection")
    ap.add_argument("--reps", type=int, default=3,
                    help="wall runs per suite; the median is shown")
    ap.add_argument("--no-wall", action="store_true", help="instruction counts only")
    ap.add_argument("--quick", action="store_true",
                    help="16 KiB and the first suite only: structure only")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--png", type=Path, help="plot the figures here")
    args = ap.parse_args(argv)
    suites = args.suites.split(",")
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        ap.error(f"unknown suite {unknown[0]!r}; choose from {', '.join(SUITES)}")
    if args.quick:
        suites, total, args.reps = suites[:1], 16 * 1024, 1
    else:
        total = args.kib * 1024
    with tempfile.TemporaryDirectory(prefix="bench-pki-") as tmp:
        pki = Path(tmp)
        certs.make_pki(pki, report=lambda line: None)
        result = measure(args.firmware_dir, args.qemu or qemu_path(),
                         args.boards.split(","), args.builds.split(","), suites, total, pki,
                         wall=not args.no_wall, reps=args.reps)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.png:
        args.png.parent.mkdir(parents=True, exist_ok=True)
        plot(result, args.png)
    return 0 if all(r["ok"] for r in result["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
