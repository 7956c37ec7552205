"""Heap soak of the board's HTTPS server: many handshakes, good clients and hostile ones
mixed, with the board's free heap printed as it goes (the page's "Free memory", measured
after a garbage collection, and mbedTLS's own count).

    python bench/heap_soak.py                       # 1,000 handshakes on the STM324xG-EVAL
    python bench/heap_soak.py --handshakes 200 --every 20 --machine stm324x9i-eval

Each round of 10 connections: 6 good ones (TLS 1.3 and 1.2 in turn, every third resuming
its last session) and 4 from host_tools/hostile_peers.py (invalid UTF-8, garbage inside and
after TLS, a truncated ClientHello, SSLv3/TLS 1.0 hellos, a connection closed at once). It
prints one line per `every` handshakes and a summary; the exit status is 1 when a good
client failed, the board printed a traceback or restarted, or the free heap drifted by more
than --max-drift bytes from the first measurements to the last. It prints figures; the
pytest wrapper (tests/test_soak.py, marked slow) checks the same conditions.
"""

from __future__ import annotations

import argparse
import re
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP))

from host_tools import certs, hostile_peers  # noqa: E402
from host_tools.board import Board  # noqa: E402

BAD = ["invalid-utf8-line", "garbage-in-tls", "garbage-after-handshake", "truncated-hello",
       "sslv3", "tls1.0", "invalid-utf8-header", "closed-at-once"]


def page_value(body: bytes, label: str) -> str:
    m = re.search(rf"<p>{label}: ([^<]+)</p>".encode(), body)
    return m.group(1).decode() if m else ""


class Soak:
    def __init__(self, port: int, ca: Path, log: Path | None = None):
        self.port, self.ca, self.log = port, ca, log
        self.marks = []             # (connection, console log size when it failed)
        self.sessions = {}
        self.contexts = {}
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = ssl.create_default_context(cafile=str(ca))
            ctx.maximum_version = version
            self.contexts[version] = ctx    # (a session resumes in the context it came from)
        self.good = self.bad = self.failures = 0
        self.errors = []

    def good_client(self, n: int) -> bytes:
        version = ssl.TLSVersion.TLSv1_3 if n % 2 else ssl.TLSVersion.TLSv1_2
        ctx = self.contexts[version]
        resume = self.sessions.get(version) if n % 3 == 0 else None
        with socket.create_connection(("127.0.0.1", self.port), timeout=120) as raw:
            with ctx.wrap_socket(raw, server_hostname=certs.BOARD_NAME, session=resume) as t:
                t.sendall(b"GET / HTTP/1.0\r\n\r\n")
                body = b""
                while True:
                    chunk = t.recv(4096)
                    if not chunk:
                        break
                    body += chunk
                self.sessions[version] = t.session
        if not body.startswith(b"HTTP/1.0 200 OK"):
            raise RuntimeError(f"no page: {body[:80]!r}")
        return body

    def bad_client(self, n: int) -> None:
        name = BAD[n % len(BAD)]
        try:
            hostile_peers.CASES[name].run(self.port, self.ca)
        except (OSError, ssl.SSLError):
            pass                    # the board refusing it is the expected outcome

    def connection(self, n: int):
        """Connection n: good or hostile; the page body of a good one."""
        if n % 10 in (1, 4, 7, 9):
            self.bad += 1
            self.bad_client(n)
            return None
        self.good += 1
        try:
            return self.good_client(n)
        except (OSError, ssl.SSLError, RuntimeError) as e:
            self.failures += 1
            self.errors.append(f"#{n}: {e}")
            if self.log is not None:
                self.marks.append((n, self.log.stat().st_size))
            return None


def console_problems(text: str) -> list:
    problems = []
    if "Traceback" in text:
        problems.append("a traceback")
    if text.count("SSL/TLS lab: SSL server") > 1 or "MicroPython v1." in text:
        problems.append("a restart or a drop to the REPL")
    if "supervisor:" in text:
        problems.append("a supervisor restart")
    return problems


def run(handshakes: int = 1000, every: int = 50, machine: str = "stm324xg-eval",
        firmware: Path | None = None, out=print, max_drift: int = 2048,
        keep_log: Path | None = None) -> dict:
    """Run the soak; returns the figures and whether it passed."""
    pki = certs.default_out()
    certs.make_pki(pki, report=lambda line: None)     # (nothing to do when it is there)
    if firmware is None:
        firmware = Path(subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(TOP / "firmware"), "print-elf",
             f"BOARD={machine}"], capture_output=True, text=True, check=True).stdout.strip())
    config = {"role": "server", "cert": pki / "board-rsa.pem", "key": pki / "board-rsa.key.pem"}
    curve = []
    with Board(firmware, machine=machine, hostfwd=["0:443"], config=config) as board:
        log = Path(board.logs()["console"])
        deadline = time.monotonic() + 120
        while b"Waiting for a remote connection" not in log.read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError("the board's HTTPS server did not start:\n"
                                   + log.read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        soak = Soak(board.forwarded_port(443), pki / "ca.pem", log)
        started = time.monotonic()
        out(f"heap_soak: {machine}, {handshakes} connections, free heap every {every}")
        out(f"{'connections':>11} {'good':>5} {'hostile':>7} {'failed':>6} {'free heap':>10} "
            f"{'TLS now':>8} {'TLS peak':>9}")
        for n in range(1, handshakes + 1):
            body = soak.connection(n)
            if n % every == 0 or n == handshakes:
                # measure with a good client once the last connections have closed (the
                # board lingers up to 1 s on a close to read what the peer still sends)
                time.sleep(1.5)
                body = soak.good_client(n + 1)
                free = int(page_value(body, "Free memory").split()[0])
                tls = re.findall(r"\d+", page_value(body, "TLS memory"))
                curve.append((n, free))
                out(f"{n:>11} {soak.good:>5} {soak.bad:>7} {soak.failures:>6} {free:>10} "
                    f"{tls[0] if tls else '?':>8} {tls[1] if len(tls) > 1 else '?':>9}")
        elapsed = time.monotonic() - started
        time.sleep(1)
        raw = log.read_bytes()
        text = raw.decode(errors="replace")
        if keep_log:
            Path(keep_log).write_bytes(raw)
    for n, size in soak.marks:     # what the board said before a good client failed
        out(f"heap_soak: the board's console before connection #{n} failed:")
        for line in raw[:size].decode(errors="replace").splitlines()[-25:]:
            out("  | " + line)
    problems = console_problems(text)
    frees = [f for _, f in curve]
    # a leak shows as a trend: the median of the last three measurements below that of the
    # first three (single measurements vary with what else is alive at that moment)
    head, tail = sorted(frees[:3]), sorted(frees[-3:])
    drift = head[len(head) // 2] - tail[len(tail) // 2] if frees else 0
    if drift > max_drift:
        problems.append(f"the free heap fell by {drift} bytes from the start to the end")
    if soak.failures:
        problems.append(f"{soak.failures} good clients failed: {soak.errors[:5]}")
    out(f"heap_soak: {soak.good} good and {soak.bad} hostile connections in {elapsed:.0f} s; "
        f"free heap {min(frees)}..{max(frees)} bytes (first {frees[0]}, last {frees[-1]}, "
        f"drift {drift}); " + ("OK" if not problems else "PROBLEMS: " + "; ".join(problems)))
    return {"curve": curve, "good": soak.good, "bad": soak.bad, "failures": soak.failures,
            "errors": soak.errors, "problems": problems, "console": text}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--handshakes", type=int, default=1000)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--machine", default="stm324xg-eval",
                    choices=["stm324xg-eval", "stm324x9i-eval"])
    ap.add_argument("--firmware", type=Path, default=None)
    ap.add_argument("--max-drift", type=int, default=2048)
    ap.add_argument("--log", type=Path, default=None, help="keep the board's console log here")
    args = ap.parse_args(argv)
    result = run(args.handshakes, args.every, args.machine, args.firmware,
                 max_drift=args.max_drift, keep_log=args.log)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
