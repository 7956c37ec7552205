# This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
# SPDX-License-Identifier: MIT (see LICENSE at the top of the repository)
"""A DNS stub resolver for boards whose network chip has its own UDP sockets (the W5100):
one A query (RFC 1035 4.1) to the configured server, the answer's first IPv4 address.

    import dnsclient
    ip = dnsclient.resolve(nic, "ssl-server.lab", ("192.168.0.1", 53))
    dnsclient.getaddrinfo(nic, "ssl-server.lab", 443, ("192.168.0.1", 53))

The server's answer is hostile input: a short, truncated or mismatched message, a name
compression loop or an answer of another type is an OSError naming what was wrong, never a
crash. An NXDOMAIN is OSError(ENOENT, "... not found")."""

import errno
import struct
import time

_TYPE_A = 1
_CLASS_IN = 1


def _query(qid, name):
    labels = name.rstrip(".").split(".")
    q = bytearray(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0))   # RD, one question
    for label in labels:
        b = label.encode()
        if not 0 < len(b) < 64:
            raise ValueError("bad host name: %r" % (name,))
        q.append(len(b))
        q.extend(b)
    q.extend(b"\x00" + struct.pack(">HH", _TYPE_A, _CLASS_IN))
    return bytes(q)


def _skip_name(msg, i):
    """The offset after the (possibly compressed) name at i."""
    for _ in range(128):                      # no name has more labels: a loop is an error
        if i >= len(msg):
            raise OSError(errno.EIO, "DNS: truncated name")
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n
    raise OSError(errno.EIO, "DNS: name too long")


def _parse(msg, qid):
    if len(msg) < 12:
        raise OSError(errno.EIO, "DNS: short answer (%d bytes)" % len(msg))
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    if rid != qid or not flags & 0x8000:
        raise OSError(errno.EIO, "DNS: answer to another query")
    rcode = flags & 0xF
    if rcode == 3:
        raise OSError(errno.ENOENT, "DNS: name not found")
    if rcode:
        raise OSError(errno.EIO, "DNS: server error (rcode %d)" % rcode)
    i = 12
    for _ in range(qd):
        i = _skip_name(msg, i) + 4
    for _ in range(an):
        i = _skip_name(msg, i)
        if i + 10 > len(msg):
            raise OSError(errno.EIO, "DNS: truncated answer")
        rtype, rclass, _, rdlen = struct.unpack(">HHIH", msg[i:i + 10])
        i += 10
        if i + rdlen > len(msg):
            raise OSError(errno.EIO, "DNS: truncated answer")
        if rtype == _TYPE_A and rclass == _CLASS_IN and rdlen == 4:
            return ".".join(str(b) for b in msg[i:i + 4])
        i += rdlen
    raise OSError(errno.ENOENT, "DNS: no IPv4 address in the answer")


def resolve(nic, name, server, timeout=2.0, tries=3):
    """The IPv4 address of name (a dotted address is returned as it is)."""
    parts = name.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return name
    s = nic.socket(2)                         # w5100.SOCK_DGRAM
    try:
        s.settimeout(timeout)
        last = None
        for attempt in range(tries):
            qid = (time.ticks_us() + attempt) & 0xFFFF
            s.sendto(_query(qid, name), server)
            try:
                msg, peer = s.recvfrom(512)
            except OSError as e:
                last = e
                continue
            if peer != tuple(server):
                last = OSError(errno.EIO, "DNS: answer from %s:%d" % peer)
                continue
            try:
                return _parse(msg, qid)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    raise OSError(errno.ENOENT, "%s: not found (%s)" % (name, e.args[1]))
                last = e
        raise OSError(errno.ETIMEDOUT, "%s: no answer from DNS server %s:%d (%s)"
                      % (name, server[0], server[1], last.args[-1] if last else "?"))
    finally:
        s.close()


def getaddrinfo(nic, host, port, server):
    """socket.getaddrinfo's shape: [(family, type, proto, canonname, (ip, port))]."""
    return [(2, 1, 0, "", (resolve(nic, host, server), port))]
