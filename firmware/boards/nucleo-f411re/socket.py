# This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
# SPDX-License-Identifier: MIT (see LICENSE at the top of the repository)
"""socket on the Nucleo: the W5100 shield's sockets (modules/w5100.py) and getaddrinfo
through the lab's DNS resolver (modules/dnsclient.py), in CPython's shape, once the chip
is attached:

    import socket, w5100
    socket.attach(w5100.W5100(spi, cs), dns=("192.168.0.1", 53))
    addr = socket.getaddrinfo("ssl-server.lab", 443)[0][-1]
    s = socket.socket()
    s.connect(addr)
"""

import errno

import dnsclient

AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2

_nic = None
_dns = ("192.168.0.1", 53)


def attach(nic, dns=None):
    """Use nic (a w5100.W5100) for every socket; dns: the resolver's (ip, port)."""
    global _nic, _dns
    _nic = nic
    if dns:
        _dns = tuple(dns)


def _chip():
    if _nic is None:
        raise OSError(errno.ENODEV, "socket: no network chip; call socket.attach(nic) first")
    return _nic


def socket(af=AF_INET, type=SOCK_STREAM, proto=0):
    if af != AF_INET:
        raise OSError(errno.EAFNOSUPPORT, "socket: IPv4 only (the W5100)")
    return _chip().socket(type)


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    """[(AF_INET, SOCK_STREAM, 0, '', (ip, port))], the name asked of the lab resolver."""
    return dnsclient.getaddrinfo(_chip(), host, port, _dns)
