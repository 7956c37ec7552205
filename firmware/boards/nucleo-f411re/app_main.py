# This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
# SPDX-License-Identifier: MIT (see LICENSE at the top of the repository)
#
# The Nucleo-F411RE's seed application: the write-up's HTTPS client
# (../shared/reference/, "HTTPS client on STM32 Nucleo-F411RE"). main.c runs it before the
# REPL; it returns to the REPL when it is done or fails (one line saying why).
#
#     Press any key to continue...
#     cert. version     : 3                    <- the server's certificate, as mbedTLS's
#     serial number     : ...                     x509_crt_info prints it
#     issuer name       : ...
#     subject name      : ...
#     HTTP/1.0 200 OK                          <- the reply to GET path
#     ...
#
# From the config sector (apps/boardcfg.py): server_name (resolved through the DNS server
# dns, port 53, over the W5100's UDP socket), server_port, path, ca (the embedded CA: the
# root the server's chain must end in), seed (the entropy seed: the F411 has no RNG),
# tls_min/tls_max/ciphers, ip, netmask, gateway. role=repl (or an empty sector) skips it.
import sys

import boardcfg
import socket
import ssl
import tls
import tlsconf
import w5100
from machine import SPI, Pin

TIMEOUT = 20            # seconds for the connect and for each read
MAX_REPLY = 64 * 1024   # a larger reply is cut there


def _why(e):
    return e.args[-1] if getattr(e, "args", None) else repr(e)


def run(cfg):
    host = cfg.server_name or cfg.server_ip
    if not cfg.seed:
        print("no entropy seed: the F411 has no RNG; put seed=<64 hex digits> in the "
              "config sector (the lab's launcher does)")
        return
    try:
        tls.seed(bytes.fromhex(cfg.seed))
    except ValueError as e:
        print("bad seed in the config sector: %s" % _why(e))
        return
    if not cfg.ca:
        print("no CA certificate: put ca= and its PEM block in the config sector")
        return

    print("Press any key to continue...")
    sys.stdin.read(1)

    try:
        nic = w5100.W5100(SPI(1, baudrate=8_000_000), Pin("PB6", Pin.OUT, value=1))
        nic.ifconfig((cfg.ip, cfg.netmask, cfg.gateway))
    except OSError as e:
        print("W5100: %s" % _why(e))
        return
    socket.attach(nic, dns=(cfg.dns, 53))
    try:
        addr = socket.getaddrinfo(host, cfg.server_port)[0][-1]
    except (OSError, ValueError) as e:
        print("getaddrinfo(%s) failed: %s" % (host, _why(e)))
        return
    sock = socket.socket()
    sock.settimeout(TIMEOUT)
    try:
        sock.connect(addr)
    except OSError as e:
        sock.close()
        print("connect to %s (%s:%d) failed: %s" % (host, addr[0], addr[1], _why(e)))
        return
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tlsconf.apply(ctx, cfg)                  # tls_min/tls_max/ciphers (write-up: 1.2)
        ctx.load_verify_locations(cadata=cfg.ca)
        conn = ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as e:
        sock.close()
        print("TLS handshake with %s failed: the server's certificate is not trusted (%s)"
              % (host, _why(e)))
        return
    except (OSError, ValueError) as e:
        sock.close()
        print("TLS handshake with %s failed: %s" % (host, _why(e)))
        return
    try:
        print(tls.x509_info(conn.getpeercert(True)), end="")
        conn.write(b"GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (cfg.path.encode(), host.encode()))
        got = 0
        while got < MAX_REPLY:
            chunk = conn.read(512)
            if not chunk:
                break
            got += len(chunk)
            sys.stdout.write(chunk.decode("utf-8", "replace"))
        print()
    except OSError as e:
        print("\nreading from %s failed: %s" % (host, _why(e)))
    finally:
        conn.close()


def main():
    cfg = boardcfg.load()
    if cfg.source == "none" or cfg.role == "repl":
        return
    run(cfg)


main()
