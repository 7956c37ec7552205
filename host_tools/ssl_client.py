"""Fetch a page over HTTPS from the board (the web browser's role in ST's demo).

The board's HTTPS server (192.168.0.10:443 inside QEMU) is reached through a loopback
forward, ``board.py --hostfwd 8443:443``; this tool then fetches ``https://127.0.0.1:8443/``.
The server certificate is verified against the lab CA (``certs/out/ca.pem``, or ``--ca``)
for the board's name ``stm32-board.lab`` (``--servername``, also sent as SNI); only an
explicit ``--insecure`` skips that. It prints the HTTP status, protocol, cipher suite, the
server certificate's subject, and the page::

    ssl_client: https://127.0.0.1:8443/ (server name stm32-board.lab)
      HTTP/1.0 200 OK
      protocol:     TLSv1.2
      cipher suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (OpenSSL: ECDHE-RSA-AES128-GCM-SHA256)
      server cert:  CN=stm32-board.lab,O=STM32 TLS Lab (test only), issued by ...; verified ...
    <html>...

Only loopback addresses are accepted (network rule). From Python::

    from host_tools.ssl_client import fetch
    result = fetch("https://127.0.0.1:8443/", ca="certs/out/ca.pem")
    assert result.status == 200 and "Successful" in result.text
"""

from __future__ import annotations

import argparse
import http.client
import io
import logging
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/ssl_client.py)

from host_tools import certs, cli, lab  # noqa: E402
from host_tools.lab import BOARD_IP  # noqa: E402
from host_tools.ssl_server import (  # noqa: E402
    TLS_VERSIONS, SslServerError, _split_ciphers, load_identity, suite_names)

__all__ = ["FetchError", "FetchResult", "fetch", "main", "parse_target"]

log = logging.getLogger("ssl_client")

BOARD_HTTPS_PORT = 443


class FetchError(RuntimeError):
    """A fetch failed. ``kind`` is one of "usage", "refused", "timeout", "closed",
    "verify", "tls"; the message is one line with the reason and, where known, the fix."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class FetchResult:
    """What one HTTPS fetch saw."""

    url: str
    server_name: str | None
    status: int
    reason: str
    http_version: str
    headers: list = field(default_factory=list)
    body: bytes = b""
    protocol: str | None = None
    cipher: str | None = None              # IANA name (OpenSSL's if it has none)
    cipher_openssl: str | None = None
    server_subject: str | None = None
    server_issuer: str | None = None
    verified: bool = False
    client_cert: bool = False
    elapsed: float = 0.0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def parse_target(target) -> tuple[str, int, str]:
    """(host, port, path) from "https://H:P/path", "H:P[/path]" or "PORT" (127.0.0.1)."""
    text = str(target).strip()
    if text.isdigit():
        text = f"127.0.0.1:{text}"
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme != "https":
        raise FetchError(f"'{target}' is not an https:// URL; ssl_client speaks HTTPS only",
                         "usage")
    try:
        port = parts.port or BOARD_HTTPS_PORT
    except ValueError:
        raise FetchError(f"'{target}' has a bad port number", "usage") from None
    host = parts.hostname or ""
    hint = ""
    if host == BOARD_IP:
        hint = (f"; {BOARD_IP} is the board inside QEMU: start it with "
                f"'board.py --hostfwd 8443:443' and fetch https://127.0.0.1:8443/")
    try:
        ip = lab.check_loopback(host, "host", hint=hint)
    except ValueError as e:
        raise FetchError(str(e), "usage") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return ip, port, path


def _names(der: bytes) -> tuple[str, str]:
    from cryptography import x509
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()


def _verify_error(e: ssl.SSLCertVerificationError, ca, server_name: str) -> FetchError:
    code = e.verify_code
    if code in (9, 10):
        check, hint = "validity", ("; the server's certificate is out of date (or the clock "
                                   "is wrong)")
    elif code == 62:
        check, hint = "hostname", (f"; the certificate does not name '{server_name}': use "
                                   f"the server's own certificate or pass --servername NAME")
    elif code in (2, 18, 19, 20, 21):
        check, hint = "issuer", (f"; the certificate is not signed by the CA in {ca} "
                                 f"(use --ca FILE, or --insecure to skip verification)")
    else:
        check, hint = "chain", ""
    message = (e.verify_message or str(e)).rstrip(".")
    return FetchError(f"server certificate rejected by the {check} check: {message}{hint}",
                      "verify")


_TLS_REASONS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED":
        "the server requires a client certificate; pass --cert FILE --key FILE",
    "SSLV3_ALERT_HANDSHAKE_FAILURE":
        "the server aborted the handshake (alert: handshake failure): no common cipher "
        "suite, or it requires a client certificate (--cert/--key)",
    "TLSV1_ALERT_UNKNOWN_CA": "the server does not trust our client certificate "
                              "(alert: unknown CA)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the server rejected our client certificate "
                                   "(alert: bad certificate)",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the server rejected our client certificate as expired",
    "WRONG_VERSION_NUMBER": "the server does not speak TLS there (plain HTTP?)",
    "UNSUPPORTED_PROTOCOL": "no TLS version in common with the server (--tls-min/--tls-max)",
    "TLSV1_ALERT_PROTOCOL_VERSION": "no TLS version in common with the server "
                                    "(--tls-min/--tls-max)",
    "NO_CIPHERS_AVAILABLE": "no cipher suite left to offer (--ciphers/--tls-max)",
}


def _tls_error(e: ssl.SSLError, where: str, phase: str) -> FetchError:
    reason = e.reason or ""
    if reason in _TLS_REASONS:
        return FetchError(f"{where}: {_TLS_REASONS[reason]}", "tls")
    if isinstance(e, ssl.SSLEOFError) or "EOF" in reason:
        return FetchError(f"{where} closed the connection during the {phase} (is the "
                          f"board's HTTPS server running behind the forward?)", "closed")
    for prefix in ("TLSV13_ALERT_", "TLSV1_ALERT_", "SSLV3_ALERT_"):
        if reason.startswith(prefix):
            alert = reason[len(prefix):].lower().replace("_", " ")
            return FetchError(f"{where}: the server aborted the {phase} (alert: {alert})", "tls")
    return FetchError(f"{where}: TLS error during the {phase}: "
                      f"{reason.lower().replace('_', ' ') or e}", "tls")


def make_context(*, ca=None, insecure: bool = False, cert=None, key=None,
                 tls_min: str = "1.2", tls_max: str | None = None,
                 ciphers: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ca = Path(ca) if ca else certs.path("ca")
        if not ca.exists():
            if ca == certs.path("ca"):
                raise FetchError(f"no CA certificate at {ca} (the lab PKI is not made yet); "
                                 f"run '{cli.command('certs')}' or pass --ca FILE", "usage")
            raise FetchError(f"--ca {ca}: no such file", "usage")
        try:
            ctx.load_verify_locations(cafile=str(ca))
        except (ssl.SSLError, OSError) as e:
            raise FetchError(f"--ca {ca} holds no readable PEM CA certificate "
                             f"({getattr(e, 'strerror', None) or e})", "usage") from None
    for text, what in ((tls_min, "--tls-min"), (tls_max, "--tls-max")):
        if text is not None and text not in TLS_VERSIONS:
            raise FetchError(f"{what} '{text}' is not 1.2 or 1.3", "usage")
    lo = TLS_VERSIONS[tls_min]
    hi = TLS_VERSIONS[tls_max] if tls_max else None
    if ciphers:
        tls12, tls13 = _split_ciphers(ciphers)
        if tls13 or not tls12:
            raise FetchError("--ciphers: give TLS 1.2 suites only (Python's ssl cannot "
                             "restrict TLS 1.3 suites)", "usage")
        try:
            ctx.set_ciphers(tls12)
        except ssl.SSLError:
            raise FetchError(f"--ciphers '{ciphers}' selects no cipher suite; check it with: "
                             f"openssl ciphers -v '{ciphers}'", "usage") from None
        hi = hi or ssl.TLSVersion.TLSv1_2
    hi = hi or ssl.TLSVersion.TLSv1_3
    if lo > hi:
        raise FetchError("--tls-min is above --tls-max (--ciphers implies TLS 1.2)", "usage")
    ctx.minimum_version, ctx.maximum_version = lo, hi
    if cert or key:
        if not cert:
            raise FetchError("--key needs --cert", "usage")
        try:
            identity = load_identity(Path(cert), Path(key) if key else None)
        except SslServerError as e:
            raise FetchError(str(e), "usage") from None
        ctx.load_cert_chain(str(identity.cert), str(identity.key))
    return ctx


def fetch(target, *, ca=None, server_name: str | None = certs.BOARD_NAME,
          insecure: bool = False, cert=None, key=None, tls_min: str = "1.2",
          tls_max: str | None = None, ciphers: str | None = None, timeout: float = 10.0,
          method: str = "GET") -> FetchResult:
    """GET target over HTTPS and return what happened; raise FetchError on failure.

    HTTP error statuses are returned, not raised (look at ``result.status``)."""
    host, port, path = parse_target(target)
    where = f"{host}:{port}"
    ctx = make_context(ca=ca, insecure=insecure, cert=cert, key=key, tls_min=tls_min,
                       tls_max=tls_max, ciphers=ciphers)
    url = f"https://{where if ':' not in host else f'[{host}]:{port}'}{path}"
    started = time.monotonic()
    phase = "connect"
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        raise FetchError(f"nothing listens on {where}; start the board with --hostfwd "
                         f"{port}:443 (python host_tools/board.py --firmware FW.elf "
                         f"--hostfwd {port}:443) or the server you meant", "refused") from None
    except (TimeoutError, socket.timeout):
        raise FetchError(f"no answer from {where} within {timeout:g} s while connecting "
                         f"(--timeout S to wait longer)", "timeout") from None
    except OSError as e:
        raise FetchError(f"cannot connect to {where}: {e.strerror or e}", "refused") from None
    tls = None
    try:
        phase = "TLS handshake"
        tls = ctx.wrap_socket(raw, server_hostname=server_name or None)
        protocol = tls.version()
        cipher, cipher_openssl = suite_names(tls)
        subject, issuer = _names(tls.getpeercert(binary_form=True))
        phase = "HTTP exchange"
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = tls
        headers = {"Host": server_name or where, "User-Agent": "stm32-lab-ssl_client",
                   "Connection": "close"}
        conn.request(method, path, headers=headers)
        head = _read_head(tls)
        if not head:
            raise http.client.RemoteDisconnected("no response")
        if head.startswith(b"HTTP/"):
            response = http.client.HTTPResponse(_Replay(head, tls), method=method)
            response.begin()
            status, reason, headers = response.status, response.reason, response.getheaders()
            version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(response.version, "HTTP/?")
            body = response.read()
        else:
            # An HTTP/0.9-style reply (ST's PolarSSL servers): the page with no status line
            # or headers, ended by the close. It is what the server had to say: status 200.
            status, reason, headers, version = 200, HTTP09_REASON, [], "HTTP/0.9"
            body = head + _read_to_end(tls)
        result = FetchResult(
            url=url, server_name=server_name, status=status, reason=reason,
            http_version=version, headers=list(headers), body=body, protocol=protocol,
            cipher=cipher, cipher_openssl=cipher_openssl, server_subject=subject,
            server_issuer=issuer, verified=not insecure, client_cert=bool(cert),
            elapsed=time.monotonic() - started)
    except ssl.SSLCertVerificationError as e:
        raise _verify_error(e, ca or certs.path("ca"), server_name) from None
    except ssl.SSLError as e:
        raise _tls_error(e, where, phase) from None
    except (TimeoutError, socket.timeout):
        raise FetchError(f"no answer from {where} within {timeout:g} s during the {phase}; "
                         f"is the board's HTTPS server running? (--timeout S to wait "
                         f"longer)", "timeout") from None
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        raise FetchError(f"{where} closed the connection during the {phase} (is the "
                         f"board's HTTPS server running behind the forward?)", "closed") \
            from None
    except http.client.HTTPException as e:
        raise FetchError(f"{where} sent no valid HTTP response ({type(e).__name__}: {e})",
                         "tls") from None
    finally:
        (tls or raw).close()
    return result


HTTP09_REASON = "(HTTP/0.9-style reply: no status line or headers)"


def _read_head(tls: ssl.SSLSocket) -> bytes:
    """The first bytes of the response: enough to tell "HTTP/" from a bare page."""
    head = b""
    while len(head) < 5:
        chunk = tls.recv(65536)
        if not chunk:
            break
        head += chunk
    return head


def _read_to_end(tls: ssl.SSLSocket) -> bytes:
    data = b""
    while chunk := _recv(tls):
        data += chunk
    return data


def _recv(tls: ssl.SSLSocket) -> bytes:
    try:
        return tls.recv(65536)
    except ssl.SSLEOFError:         # closed without close_notify: the end all the same
        return b""


class _Prefixed(io.RawIOBase):
    """Bytes already read, then the rest of the socket."""

    def __init__(self, head: bytes, sock: ssl.SSLSocket):
        self._head, self._sock = head, sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        return self._sock.recv_into(buffer)


class _Replay:
    """What http.client.HTTPResponse needs of a socket, over _Prefixed."""

    def __init__(self, head: bytes, sock: ssl.SSLSocket):
        self._file = io.BufferedReader(_Prefixed(head, sock))

    def makefile(self, mode: str = "rb"):
        return self._file


# --- command line --------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = cli.parser(
        "ssl_client",
        description="Fetch a page over HTTPS from the board's forwarded port (the web "
                    "browser's role) and show the status, protocol, cipher suite, server "
                    "certificate and page.",
        epilog="Example: board.py --firmware fw.elf --hostfwd 8443:443, then "
               "ssl_client.py https://127.0.0.1:8443/. Only loopback addresses are allowed.")
    p.add_argument("url", help="https://127.0.0.1:PORT/PATH, 127.0.0.1:PORT, or just PORT")
    g = p.add_argument_group("verification")
    g.add_argument("--ca", metavar="FILE",
                   help="CA certificate to verify the server with (default certs/out/ca.pem)")
    g.add_argument("--servername", default=certs.BOARD_NAME, metavar="NAME",
                   help="name sent as SNI and checked in the certificate (default "
                        "%(default)s, the board; ssl-server.lab for the PC server)")
    g.add_argument("--insecure", action="store_true",
                   help="do not verify the server certificate (for a look only)")
    g = p.add_argument_group("client authentication")
    g.add_argument("--cert", metavar="FILE", help="client certificate, PEM "
                                                  "(e.g. certs/out/client-rsa.pem)")
    g.add_argument("--key", metavar="FILE",
                   help="its key (default: <cert stem>.key.pem next to it)")
    g = p.add_argument_group("TLS")
    g.add_argument("--tls-min", choices=sorted(TLS_VERSIONS), default="1.2")
    g.add_argument("--tls-max", choices=sorted(TLS_VERSIONS),
                   help="default 1.3 (1.2 with --ciphers)")
    g.add_argument("--ciphers", metavar="LIST", help="OpenSSL cipher list for TLS 1.2")
    g = p.add_argument_group("repeat")
    g.add_argument("--count", type=int, default=1, metavar="N",
                   help="fetch N times (stops at the first failure)")
    g.add_argument("--interval", type=float, default=1.0, metavar="S",
                   help="seconds between fetches (default %(default)s)")
    g.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="per-step timeout in seconds (default %(default)s)")
    cli.add_output_options(p, quiet_help="print the page body only",
                           verbose_help="more messages (-v: response headers)")
    return p


def _report(result: FetchResult, args, ca_shown: str) -> str:
    also = f" (OpenSSL: {result.cipher_openssl})" \
        if result.cipher != result.cipher_openssl else ""
    checked = f"verified against {ca_shown} for '{result.server_name}'" if result.verified \
        else "NOT verified (--insecure)"
    status = f"{result.http_version} {result.reason}" if result.http_version == "HTTP/0.9" \
        else f"{result.http_version} {result.status} {result.reason}"
    lines = [
        f"ssl_client: {result.url} (server name {result.server_name})",
        f"  {status}",
        f"  protocol:     {result.protocol}",
        f"  cipher suite: {result.cipher}{also}",
        f"  server cert:  {result.server_subject}, issued by {result.server_issuer}; {checked}",
    ]
    if result.client_cert:
        lines.append(f"  client cert:  {args.cert} (offered)")
    if args.verbose:
        lines += [f"  | {k}: {v}" for k, v in result.headers]
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cli.setup_logging("ssl_client", args)
    if args.count < 1:
        print(f"ssl_client: --count {args.count} must be 1 or more", file=sys.stderr)
        return 1
    if args.insecure and args.ca:
        log.warning("--insecure: --ca %s is not used", args.ca)
    ca_shown = args.ca or str(certs.path("ca"))

    def run() -> int:
        for n in range(args.count):
            if n:
                time.sleep(max(0.0, args.interval))
            try:
                result = fetch(args.url, ca=args.ca, server_name=args.servername or None,
                               insecure=args.insecure, cert=args.cert, key=args.key,
                               tls_min=args.tls_min, tls_max=args.tls_max,
                               ciphers=args.ciphers, timeout=args.timeout)
            except FetchError as e:
                count = f" (fetch {n + 1} of {args.count})" if args.count > 1 else ""
                raise FetchError(f"{e}{count}", e.kind) from None
            if args.quiet:
                sys.stdout.write(result.text)
            else:
                print(_report(result, args, ca_shown))
                sys.stdout.write(result.text)
                if result.text and not result.text.endswith("\n"):
                    sys.stdout.write("\n")
            sys.stdout.flush()
            if result.status >= 400:
                print(f"ssl_client: HTTP {result.status} {result.reason} from {result.url}",
                      file=sys.stderr)
                return 1
        return 0

    return cli.run("ssl_client", run, errors=(FetchError,), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
