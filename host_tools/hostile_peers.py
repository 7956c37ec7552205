"""Hostile, broken and slow TLS peers for the board's HTTPS server (loopback only).

Each case sends something a well-behaved client never would and returns what the server
answered, so a test (pytest, Robot) or a person can check that the server refuses it with a
reason and goes on serving:

    python host_tools/hostile_peers.py 127.0.0.1:8443            # every case, one line each
    python host_tools/hostile_peers.py 127.0.0.1:8443 --case sslv3 --case 64k-line
    python host_tools/hostile_peers.py 127.0.0.1:8443 --silent 5 --slow 1 --hold 30

    from host_tools import hostile_peers as hp
    reply = hp.CASES["invalid-utf8-line"].run(port, ca)

Cases: invalid UTF-8 in the request line and in a header, binary garbage inside TLS and
after the handshake (raw bytes that are no TLS record), a 64 KiB request line, a truncated
ClientHello, a record header announcing 16 KiB then silence, a connection closed at once,
SSLv3 and TLS 1.0 hellos.
`silent()` opens connections that never send a byte; `slow_client()` sends a ClientHello one
byte every 15 s. Only 127.0.0.0/8 and ::1 are accepted as targets.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from host_tools import certs  # noqa: E402

__all__ = ["CASES", "Case", "client_hello", "handshake_then_raw", "legacy_hello",
           "raw_exchange", "silent", "slow_client", "tls_exchange"]

NAME = certs.BOARD_NAME
TIMEOUT = 90.0


def _check_loopback(host: str) -> str:
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        raise SystemExit(f"hostile_peers: {host} is not a loopback address; the lab only "
                         f"talks to 127.0.0.0/8 and ::1 (the board's --hostfwd port)")
    return host


def _insecure_ctx() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_hello() -> bytes:
    """A real ClientHello (Python's ssl through memory BIOs), as the bytes on the wire."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = _insecure_ctx().wrap_bio(inc, out, server_hostname=NAME)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def legacy_hello(version: int) -> bytes:
    """A ClientHello of an old protocol: SSLv3 (0x0300) or TLS 1.0 (0x0301), offering
    TLS_RSA_WITH_AES_256_CBC_SHA and TLS_RSA_WITH_3DES_EDE_CBC_SHA, no extensions."""
    body = struct.pack(">H", version) + os.urandom(32) + b"\x00" \
        + struct.pack(">H", 4) + b"\x00\x35\x00\x0a" + b"\x01\x00"
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16" + struct.pack(">HH", version, len(hs)) + hs


def _read_all(s, limit: int = 1 << 20) -> bytes:
    got = b""
    try:
        while len(got) < limit:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, socket.timeout, TimeoutError):
        pass
    return got


def raw_exchange(host: str, port: int, data: bytes, *, shut: bool = False,
                 timeout: float = TIMEOUT) -> bytes:
    """Send bytes on a plain TCP connection (shut: then close our sending side); what comes
    back until the server closes."""
    with socket.create_connection((_check_loopback(host), port), timeout=timeout) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        return _read_all(s)


def tls_exchange(host: str, port: int, ca, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """A TLS connection verified against ca for the board's name that sends data; all the
    server answers until it closes."""
    ctx = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection((_check_loopback(host), port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=NAME) as t:
            t.sendall(data)
            got = b""
            try:
                while True:
                    chunk = t.recv(4096)
                    if not chunk:
                        return got
                    got += chunk
            except ssl.SSLError:
                return got


def handshake_then_raw(host: str, port: int, garbage: bytes, timeout: float = TIMEOUT) -> bytes:
    """Complete a TLS handshake through memory BIOs, then send raw bytes that are no valid
    TLS record; what the server sends back afterwards (its alert, encrypted)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = _insecure_ctx().wrap_bio(inc, out, server_hostname=NAME)
    with socket.create_connection((_check_loopback(host), port), timeout=timeout) as s:
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                s.sendall(out.read())
                data = s.recv(16384)
                if not data:
                    raise ConnectionError("the server closed during the handshake")
                inc.write(data)
        s.sendall(out.read())          # the client's Finished
        s.sendall(garbage)
        return _read_all(s)


def silent(host: str, port: int, n: int) -> list:
    """n TCP connections that never send a byte (close them when done)."""
    return [socket.create_connection((_check_loopback(host), port), timeout=10)
            for _ in range(n)]


def slow_client(host: str, port: int, stop: threading.Event, interval: float = 15.0) -> None:
    """A ClientHello, one byte every `interval` s, until the server closes or stop is set."""
    hello = client_hello()
    try:
        with socket.create_connection((_check_loopback(host), port), timeout=10) as s:
            for byte in hello:
                s.sendall(bytes([byte]))
                if stop.wait(interval):
                    return
                s.settimeout(0.01)
                try:
                    if s.recv(100) == b"":
                        return
                except socket.timeout:
                    pass
    except OSError:
        pass


@dataclass
class Case:
    """One hostile input: what it is, and how to send it (host, port, ca) -> reply."""
    name: str
    what: str
    send: Callable

    def run(self, port: int, ca, host: str = "127.0.0.1") -> bytes:
        return self.send(host, port, ca)


CASES = {c.name: c for c in [
    Case("invalid-utf8-line", "a request line with bytes that are no UTF-8",
         lambda h, p, ca: tls_exchange(h, p, ca, b"GET /\xff\xfe\xc3( HTTP/1.0\r\n\r\n")),
    Case("invalid-utf8-header", "a header with bytes that are no UTF-8 and a NUL",
         lambda h, p, ca: tls_exchange(h, p, ca, b"GET / HTTP/1.0\r\nX-Bad: \xc3\x28\xff\x00\r\n\r\n")),
    Case("garbage-in-tls", "3 KB of binary garbage as the request, inside TLS",
         lambda h, p, ca: tls_exchange(h, p, ca, bytes([0x00, 0x8F, 0xFF, 0x1B]) + os.urandom(3000))),
    Case("garbage-after-handshake", "raw bytes after the handshake, no valid TLS record",
         lambda h, p, ca: handshake_then_raw(h, p, b"\x17\x03\x03\x00\x40" + os.urandom(564))),
    Case("64k-line", "a 64 KiB request line",
         lambda h, p, ca: tls_exchange(h, p, ca, b"GET /" + b"A" * 65536 + b" HTTP/1.0\r\n\r\n")),
    Case("truncated-hello", "half a ClientHello, then the client's FIN",
         lambda h, p, ca: raw_exchange(h, p, client_hello()[:150], shut=True)),
    Case("header-then-silence", "a record header announcing 16 KiB, then nothing",
         lambda h, p, ca: raw_exchange(h, p, b"\x16\x03\x01\x40\x00")),
    Case("closed-at-once", "a connection closed at once, without a byte",
         lambda h, p, ca: raw_exchange(h, p, b"", shut=True)),
    Case("sslv3", "an SSLv3 ClientHello", lambda h, p, ca: raw_exchange(h, p, legacy_hello(0x0300))),
    Case("tls1.0", "a TLS 1.0 ClientHello", lambda h, p, ca: raw_exchange(h, p, legacy_hello(0x0301))),
]}


def _summary(reply: bytes) -> str:
    if not reply:
        return "closed, nothing sent back"
    if reply[:1] == b"\x15" and len(reply) >= 7:
        return f"TLS alert level {reply[5]} description {reply[6]}"
    if reply.startswith(b"HTTP/"):
        return reply.split(b"\r\n", 1)[0].decode(errors="replace")
    return f"{len(reply)} bytes ({reply[:16].hex()}...)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", help="HOST:PORT of the board's HTTPS server (loopback)")
    ap.add_argument("--case", action="append", choices=sorted(CASES),
                    help="run this case (repeatable; default: all)")
    ap.add_argument("--ca", default=None, help="CA certificate (default: the lab's)")
    ap.add_argument("--silent", type=int, default=0, help="open N silent connections")
    ap.add_argument("--slow", type=int, default=0, help="start N one-byte-per-15-s clients")
    ap.add_argument("--hold", type=float, default=0, help="keep those open S seconds")
    args = ap.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    host = _check_loopback(host.strip("[]") or "127.0.0.1")
    port = int(port)
    ca = Path(args.ca) if args.ca else certs.path("ca")
    status = 0
    if args.silent or args.slow:
        stop = threading.Event()
        socks = silent(host, port, args.silent)
        threads = [threading.Thread(target=slow_client, args=(host, port, stop), daemon=True)
                   for _ in range(args.slow)]
        for t in threads:
            t.start()
        print(f"hostile_peers: {args.silent} silent and {args.slow} slow connections for "
              f"{args.hold:g} s")
        time.sleep(args.hold)
        stop.set()
        for s in socks:
            s.close()
    for name in args.case or ([] if args.silent or args.slow else CASES):
        case = CASES[name]
        try:
            reply = case.run(port, ca, host)
            print(f"{name:24} {case.what}: {_summary(reply)}")
        except (OSError, ssl.SSLError) as e:
            print(f"{name:24} {case.what}: {type(e).__name__}: {e}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
