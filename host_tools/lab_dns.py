#!/usr/bin/env python3
"""The lab's DNS resolver: answers the boards' queries for the lab's names from a table,
on loopback only, and nothing else (network rule: no query ever leaves the machine).

A board reaches it as 192.168.0.1:53 through a UDP forward of the emulator (the W5100's
UDP socket mapping on the Nucleo); it runs on 127.0.0.1. Every name in the table must map
to an address of the lab's emulated network (192.168.0.0/24), so no answer can send a
board elsewhere.

Answers (RFC 1035): A records for names in the table (authoritative, TTL 60); no data
(NOERROR, no answer) for other types of a known name; NXDOMAIN for any other name;
FORMERR for a malformed query, NOTIMP for another opcode, REFUSED for another class.
Responses and unparseable datagrams are dropped. Each datagram is hostile input: a bad one
is logged in one line and the resolver serves the next.

    python host_tools/lab_dns.py --name ssl-server.lab=192.168.0.1 --port 5353
    dig @127.0.0.1 -p 5353 ssl-server.lab A
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/lab_dns.py)

from host_tools import cli, lab  # noqa: E402

log = logging.getLogger("lab_dns")

TTL = 60
TYPE_A, CLASS_IN = 1, 1
NOERROR, FORMERR, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 3, 4, 5
RCODE_NAMES = {NOERROR: "NOERROR", FORMERR: "FORMERR", NXDOMAIN: "NXDOMAIN",
               NOTIMP: "NOTIMP", REFUSED: "REFUSED"}
MAX_NAME = 255


class DnsError(Exception):
    """A bad table or address given by the user: one line."""


class _Malformed(Exception):
    pass


def _check_table(names: dict) -> dict:
    """name -> IPv4 text, names lower-case without the final dot; DnsError otherwise."""
    net = ipaddress.ip_network(lab.NETWORK)
    table = {}
    for name, addr in names.items():
        key = str(name).strip().rstrip(".").lower()
        labels = key.split(".")
        if not key or len(key) > 253 or any(not 0 < len(part) <= 63 for part in labels):
            raise DnsError(f"'{name}' is not a DNS name (labels of 1-63 characters, at most "
                           f"253 in all)")
        try:
            ip = ipaddress.IPv4Address(str(addr).strip())
        except ValueError:
            raise DnsError(f"'{name}': '{addr}' is not an IPv4 address") from None
        if ip not in net:
            raise DnsError(f"'{name}': {ip} is outside the lab's network {lab.NETWORK}; a "
                           f"board may only be sent to the lab's addresses (network rule), "
                           f"e.g. {lab.HOST_IP} for the PC")
        table[key] = str(ip)
    return table


def _question(data: bytes) -> tuple[str, int, int, int]:
    """(name, type, class, end offset) of the first question; _Malformed if it is not one
    (compression pointers are not allowed in a question)."""
    labels, i = [], 12
    while True:
        if i >= len(data):
            raise _Malformed("name runs past the end")
        n = data[i]
        i += 1
        if n == 0:
            break
        if n & 0xC0:
            raise _Malformed("compressed or extended label in a question")
        if i + n > len(data):
            raise _Malformed("label runs past the end")
        labels.append(data[i:i + n])
        i += n
        if sum(len(x) + 1 for x in labels) + 1 > MAX_NAME:
            raise _Malformed("name longer than 255 bytes")
    if i + 4 > len(data):
        raise _Malformed("question without type and class")
    qtype, qclass = struct.unpack_from("!HH", data, i)
    name = b".".join(labels).decode("ascii", errors="replace").lower()
    return name, qtype, qclass, i + 4


def answer(query: bytes, table: dict) -> tuple[bytes | None, str]:
    """The response to one datagram (None: drop it) and a log line."""
    if len(query) < 12:
        return None, f"dropped a {len(query)}-byte datagram (shorter than a DNS header)"
    qid, flags, qdcount = struct.unpack_from("!HHH", query, 0)
    if flags & 0x8000:
        return None, "dropped a response (QR=1)"
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100

    def reply(rcode: int, question: bytes = b"", answers: bytes = b"", ancount: int = 0):
        out_flags = 0x8000 | (opcode << 11) | 0x0400 | rd | rcode      # QR, AA
        header = struct.pack("!HHHHHH", qid, out_flags, 1 if question else 0, ancount, 0, 0)
        return header + question + answers

    if opcode != 0:
        return reply(NOTIMP), f"opcode {opcode}: NOTIMP"
    if qdcount != 1:
        return reply(FORMERR), f"{qdcount} questions: FORMERR"
    try:
        name, qtype, qclass, end = _question(query)
    except _Malformed as e:
        return reply(FORMERR), f"malformed query ({e}): FORMERR"
    question = query[12:end]
    if qclass != CLASS_IN:
        return reply(REFUSED, question), f"{name} class {qclass}: REFUSED"
    addr = table.get(name)
    if addr is None:
        return reply(NXDOMAIN, question), f"{name}: NXDOMAIN"
    if qtype != TYPE_A:
        return reply(NOERROR, question), f"{name} type {qtype}: no data"
    record = struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL, 4) + \
        socket.inet_aton(addr)
    return reply(NOERROR, question, record, 1), f"{name} A {addr}"


@dataclass
class LabDns:
    """The resolver on 127.0.0.1:port (0: a free one), in a thread; a context manager."""

    names: dict
    host: str = "127.0.0.1"
    port: int = 0
    log: list = field(default_factory=list)      # one line per datagram, as logged

    def __post_init__(self):
        self.table = _check_table(self.names)
        self.host = lab.check_loopback(self.host, "DNS address", error=DnsError)
        self.port = lab.check_port(self.port, "DNS port", allow_zero=True, error=DnsError)
        self._sock = None
        self._thread = None

    def start(self) -> "LabDns":
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise DnsError(f"cannot listen on {self.host}:{self.port} ({e.strerror}); pick "
                           f"another port with --port (0 = a free one)") from None
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="lab-dns", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self._sock.recvfrom(4096)
            except OSError:
                return                                      # closed by stop()
            if peer is None:
                return                                      # shut down by stop()
            response, line = answer(data, self.table)
            self.log.append(line)
            log.info("%s:%d %s", peer[0], peer[1], line)
            if response is not None:
                try:
                    self._sock.sendto(response, peer)
                except OSError as e:
                    log.warning("cannot answer %s:%d (%s)", peer[0], peer[1], e.strerror)

    def stop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)     # wakes the thread's recvfrom
            except OSError:
                pass
            self._sock.close()
            self._thread.join(timeout=5)
            self._sock = None

    def __enter__(self) -> "LabDns":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def parse_names(pairs, what: str = "--name") -> dict:
    """{name: address} from NAME=ADDRESS texts (the CLI's --name, Robot's Start Lab DNS);
    DnsError names the first that is not one. The table is checked by LabDns."""
    table = {}
    for text in pairs:
        name, sep, addr = str(text).partition("=")
        if not sep:
            raise DnsError(f"{what} '{text}' is not NAME=ADDRESS, e.g. "
                           f"ssl-server.lab={lab.HOST_IP}")
        table[name] = addr
    return table


def main(argv=None) -> int:
    p = cli.parser("lab_dns", description=__doc__.split("\n\n")[0])
    p.add_argument("--name", action="append", default=[], metavar="NAME=ADDRESS",
                   help=f"a name and its lab address, e.g. ssl-server.lab={lab.HOST_IP}; "
                        "repeatable")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    p.add_argument("--port", default=5353, help="UDP port (0: a free one; default 5353)")
    cli.add_output_options(p)
    args = p.parse_args(argv)
    cli.setup_logging("lab_dns", args)

    def run() -> int:
        names = parse_names(args.name)
        if not names:
            raise DnsError(f"no names to answer; give --name NAME=ADDRESS, e.g. "
                           f"--name ssl-server.lab={lab.HOST_IP}")
        server = LabDns(names, host=args.host, port=args.port).start()
        try:
            print(f"lab_dns: answering {', '.join(sorted(server.table))} on "
                  f"{server.host}:{server.port} (UDP); Ctrl-C stops", flush=True)
            threading.Event().wait()
        finally:
            server.stop()
        return 0

    return cli.run("lab_dns", run, errors=(DnsError,), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
