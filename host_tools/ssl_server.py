"""The PC-side SSL/TLS server the board's SSL client connects to (like ST's ssl_server.exe).

It listens on a loopback port (default 127.0.0.1:4433; the board reaches it as
192.168.0.1:443 through ``board.py --guestfwd 443:4433``), and for each connection prints
the mbedTLS-style lines ST's ssl_server shows, then answers an HTTP GET with a small page
that contains ``Successful connection using: <cipher suite>`` (the IANA name of the suite,
e.g. ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``; the mbedTLS name is the same with dashes)::

      . Waiting for a remote connection ... ok  (#1 from 127.0.0.1:50312)
      . Performing the SSL/TLS handshake... ok
        [ Protocol is TLSv1.2 ]
        [ Ciphersuite is TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ]
      < Read from client: 18 bytes read

     GET / HTTP/1.0

      > Write to client: 473 bytes written

TLS is Python's ``ssl`` module (OpenSSL); certificates default to the lab PKI that
``python host_tools/certs.py`` makes in ``certs/out/`` (made on the first run when it is not
there yet). Clients are served in threads; a failed handshake is reported with its reason
and the server goes on. ``--legacy`` serves ST's original PolarSSL 1.x firmware (TLS 1.0/1.1,
1024-bit DHE, OpenSSL security level 0): insecure, and it says so at start.

From Python (tests, Robot)::

    from host_tools.ssl_server import SslServer
    with SslServer(port=0, echo=False) as server:       # port 0: a free port
        ...                                              # connect to server.port
        conn = server.wait_for_connections(1, timeout=30)[0]
        assert conn.ok and conn.request_line == "GET / HTTP/1.0"

As a script::

    python host_tools/ssl_server.py [--port 4433] [--cert F --key F] [--ciphers LIST]
        [--tls-min 1.2] [--tls-max 1.3] [--require-client-cert] [--connections N]
"""

from __future__ import annotations

import argparse
import html
import logging
import selectors
import socket
import ssl
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/ssl_server.py)

from host_tools import certs, cli, lab  # noqa: E402
from host_tools.lab import HOST_IP  # noqa: E402

__all__ = ["DEFAULT_PORT", "Connection", "SslServer", "SslServerError", "TLS_VERSIONS",
           "check_loopback", "iana_name", "load_identity", "main", "suite_names"]

log = logging.getLogger("ssl_server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4433
BOARD_PORT = 443        # where the board's SSL client connects (HOST_IP:443)
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
# Only with legacy=True (--legacy): what ST's PolarSSL 1.x firmware speaks.
LEGACY_TLS_VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1}
LEGACY_CIPHERS = "ALL:!aNULL:!eNULL:@SECLEVEL=0"
LEGACY_WARNING = ("INSECURE LEGACY MODE (--legacy): TLS 1.0 and 1.1 on, 1024-bit DHE, OpenSSL "
                  "security level 0; for ST's original PolarSSL 1.x firmware in the lab only, "
                  "never for anything else")
MAX_REQUEST = 16384
DEFAULT_CIPHERS = "DEFAULT"
PAGE_TITLE = "STM32F4 SSL/TLS lab: PC SSL server"

# RFC 7919 ffdhe2048, the group OpenSSL itself uses for DHE; Python's ssl does not turn
# on OpenSSL's automatic DH parameters, and without them no DHE suite can be chosen
# (the original ST demo used DHE-RSA-AES256-SHA).
FFDHE2048_PEM = b"""-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""

# OpenSSL name -> IANA name of the TLS 1.2 suites with RSA/ECDSA certificates that OpenSSL 3
# knows (from `openssl ciphers -V -stdname`). TLS 1.3 suites have IANA names in OpenSSL.
_IANA_TABLE = """
ECDHE-ECDSA-AES256-GCM-SHA384 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
ECDHE-RSA-AES256-GCM-SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
DHE-RSA-AES256-GCM-SHA384 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
ECDHE-ECDSA-CHACHA20-POLY1305 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
ECDHE-RSA-CHACHA20-POLY1305 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
DHE-RSA-CHACHA20-POLY1305 TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
ECDHE-ECDSA-AES256-CCM8 TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8
ECDHE-ECDSA-AES256-CCM TLS_ECDHE_ECDSA_WITH_AES_256_CCM
DHE-RSA-AES256-CCM8 TLS_DHE_RSA_WITH_AES_256_CCM_8
DHE-RSA-AES256-CCM TLS_DHE_RSA_WITH_AES_256_CCM
ECDHE-ECDSA-ARIA256-GCM-SHA384 TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384
ECDHE-ARIA256-GCM-SHA384 TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384
DHE-RSA-ARIA256-GCM-SHA384 TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384
ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
ECDHE-RSA-AES128-GCM-SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
DHE-RSA-AES128-GCM-SHA256 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
ECDHE-ECDSA-AES128-CCM8 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
ECDHE-ECDSA-AES128-CCM TLS_ECDHE_ECDSA_WITH_AES_128_CCM
DHE-RSA-AES128-CCM8 TLS_DHE_RSA_WITH_AES_128_CCM_8
DHE-RSA-AES128-CCM TLS_DHE_RSA_WITH_AES_128_CCM
ECDHE-ECDSA-ARIA128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256
ECDHE-ARIA128-GCM-SHA256 TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256
DHE-RSA-ARIA128-GCM-SHA256 TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256
ECDHE-ECDSA-AES256-SHA384 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
ECDHE-RSA-AES256-SHA384 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
DHE-RSA-AES256-SHA256 TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
ECDHE-ECDSA-CAMELLIA256-SHA384 TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384
ECDHE-RSA-CAMELLIA256-SHA384 TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384
DHE-RSA-CAMELLIA256-SHA256 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256
ECDHE-ECDSA-AES128-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
ECDHE-RSA-AES128-SHA256 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
DHE-RSA-AES128-SHA256 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
ECDHE-ECDSA-CAMELLIA128-SHA256 TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256
ECDHE-RSA-CAMELLIA128-SHA256 TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256
DHE-RSA-CAMELLIA128-SHA256 TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256
ECDHE-ECDSA-AES256-SHA TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
ECDHE-RSA-AES256-SHA TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
DHE-RSA-AES256-SHA TLS_DHE_RSA_WITH_AES_256_CBC_SHA
DHE-RSA-CAMELLIA256-SHA TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA
ECDHE-ECDSA-AES128-SHA TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
ECDHE-RSA-AES128-SHA TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
DHE-RSA-AES128-SHA TLS_DHE_RSA_WITH_AES_128_CBC_SHA
DHE-RSA-CAMELLIA128-SHA TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA
AES256-GCM-SHA384 TLS_RSA_WITH_AES_256_GCM_SHA384
AES256-CCM8 TLS_RSA_WITH_AES_256_CCM_8
AES256-CCM TLS_RSA_WITH_AES_256_CCM
ARIA256-GCM-SHA384 TLS_RSA_WITH_ARIA_256_GCM_SHA384
AES128-GCM-SHA256 TLS_RSA_WITH_AES_128_GCM_SHA256
AES128-CCM8 TLS_RSA_WITH_AES_128_CCM_8
AES128-CCM TLS_RSA_WITH_AES_128_CCM
ARIA128-GCM-SHA256 TLS_RSA_WITH_ARIA_128_GCM_SHA256
AES256-SHA256 TLS_RSA_WITH_AES_256_CBC_SHA256
CAMELLIA256-SHA256 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256
AES128-SHA256 TLS_RSA_WITH_AES_128_CBC_SHA256
CAMELLIA128-SHA256 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256
AES256-SHA TLS_RSA_WITH_AES_256_CBC_SHA
CAMELLIA256-SHA TLS_RSA_WITH_CAMELLIA_256_CBC_SHA
AES128-SHA TLS_RSA_WITH_AES_128_CBC_SHA
CAMELLIA128-SHA TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
"""
IANA_NAMES = dict(line.split() for line in _IANA_TABLE.strip().splitlines())

# RFC 5114 section 2.1, the 1024-bit MODP group with a 160-bit prime order subgroup: the
# DHE group PolarSSL 1.x servers used by default (ST's ssl_server.exe). Only --legacy loads
# it; OpenSSL refuses a group this small above security level 0.
RFC5114_1024_PEM = b"""-----BEGIN DH PARAMETERS-----
MIIBCAKBgQCxC4+WoIDgHd6S3l6uXVTsUsmfvPsGo8aaap3KUtI7YWBz4oZ1oj0Y
mDjvHi7mUsAT7LSuqQYRIySXXDzUm4O/rMvdfZDEvXCYSI6cIZpzck7/1vrlZEc4
+qMaT/VbzMChUa9fDci0vUW/N982XBpl5oz9p21NpwjfH7K8LkpDcQKBgQCk0cvV
w/00EmdlpELvuZkF+BBN0lisUH/WQGz/FCZtMSZv6h5cQVZLd35pD1UE8hMWAhe0
sBuIal6RVH+eJ0n01/vX07mpLuGQnQ0iY/gKdqaiTAh6CR9THb8KAWm2oorWYqTR
jnOvoy13nVkY0IvIhY9Nzvl8KiSFXm7rIrOy5Q==
-----END DH PARAMETERS-----
"""


class SslServerError(RuntimeError):
    """The server cannot start. One line naming the problem and the fix."""


def iana_name(openssl_name: str) -> str | None:
    """IANA name of a cipher suite given its OpenSSL name (None if unknown)."""
    if openssl_name.startswith("TLS_"):
        return openssl_name
    return IANA_NAMES.get(openssl_name)


def suite_names(tls: ssl.SSLSocket) -> tuple[str | None, str | None]:
    """(IANA name or the OpenSSL one if unknown, OpenSSL name) of the negotiated suite."""
    info = tls.cipher()
    if not info:
        return None, None
    return iana_name(info[0]) or info[0], info[0]


def check_loopback(host: str, what: str = "--host") -> str:
    """Return host as an IP literal if it is loopback; refuse anything else."""
    return lab.check_loopback(host, what, error=SslServerError,
                              hint=f"; the board reaches 127.0.0.1 through board.py "
                                   f"--guestfwd {BOARD_PORT}:PORT")


def _tls_version(text, what: str, legacy: bool = False) -> ssl.TLSVersion:
    if text in TLS_VERSIONS:
        return TLS_VERSIONS[text]
    if text in LEGACY_TLS_VERSIONS:
        if legacy:
            return LEGACY_TLS_VERSIONS[text]
        raise SslServerError(f"{what} {text} needs --legacy (TLS 1.0 and 1.1 are off at "
                             f"OpenSSL's security level; --legacy turns them on, insecurely, "
                             f"for ST's original firmware)")
    raise SslServerError(f"{what} '{text}' is not a TLS version this lab uses; give 1.2 or 1.3 "
                         f"(1.0 or 1.1 with --legacy)")


def _readable(path: Path, option: str, default: bool) -> Path:
    path = Path(path)
    if not path.exists():
        if default:
            raise SslServerError(f"no {path.name} in {path.parent} (the lab PKI is not made "
                                 f"yet); run '{cli.command('certs')}' or pass {option} FILE")
        raise SslServerError(f"{option} {path}: no such file")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise SslServerError(f"{option} {path} cannot be read ({e.strerror}); check the path "
                             f"and its permissions") from None
    return path


@dataclass
class Identity:
    """A certificate and its key, checked; what the banner says about it."""

    cert: Path
    key: Path
    summary: str


def load_identity(cert: Path, key: Path | None, *, default: bool = False,
                  cert_option: str = "--cert", key_option: str = "--key") -> Identity:
    """Check that cert is a PEM certificate and key an unencrypted key that matches it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = _readable(cert, cert_option, default)
    if key is None:
        # certs.py names a key <stem>.key.pem next to <stem>.pem; else the key is in the file.
        sibling = cert.with_name(cert.name[:-4] + ".key.pem") if cert.name.endswith(".pem") \
            else None
        key = sibling if sibling is not None and sibling.exists() else cert
    key = _readable(key, key_option, default)
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except ValueError:
        raise SslServerError(f"{cert_option} {cert} is not a PEM certificate "
                             f"(-----BEGIN CERTIFICATE-----)") from None
    try:
        private = ser.load_pem_private_key(key.read_bytes(), password=None)
    except TypeError:
        raise SslServerError(f"{key_option} {key} is encrypted; give an unencrypted key "
                             f"(openssl pkey -in {key} -out plain.key.pem)") from None
    except ValueError:
        raise SslServerError(f"{key_option} {key} is not a PEM private key") from None
    spki = ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise SslServerError(f"{key_option} {key} does not match {cert_option} {cert} "
                             f"(a key from another certificate); pass the certificate's own "
                             f"key")
    if isinstance(private, rsa.RSAPrivateKey):
        kind = f"RSA-{private.key_size}"
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        kind = f"ECDSA {private.curve.name}"
    else:
        kind = type(private).__name__
    summary = f"{certificate.subject.rfc4514_string()}, {kind}"
    chain = x509.load_pem_x509_certificates(cert.read_bytes())[1:]
    if chain:
        # a chain file (certs.py's server-chain.pem): the server presents the CAs after it
        summary += ", chain: " + " <- ".join(c.subject.rfc4514_string() for c in chain)
    return Identity(cert, key, summary)


def _split_ciphers(ciphers: str) -> tuple[str, list[str]]:
    """(TLS 1.2 cipher string, TLS 1.3 suite names) from an OpenSSL cipher list."""
    parts = [p for p in ciphers.replace(",", ":").split(":") if p]
    tls13 = [p for p in parts if p.startswith("TLS_")]
    return ":".join(p for p in parts if not p.startswith("TLS_")), tls13


def make_context(identity: Identity, *, ca: Path | None = None, client_cert: str = "none",
                 tls_min: str | None = None, tls_max: str | None = None,
                 ciphers: str | None = None, legacy: bool = False) -> ssl.SSLContext:
    """The server's SSLContext. client_cert: "none", "optional" or "required".

    legacy: TLS 1.0 to 1.2 (by default), every suite OpenSSL has, 1024-bit DHE (RFC 5114),
    OpenSSL security level 0: insecure, for ST's original PolarSSL 1.x firmware only."""
    lo = _tls_version(tls_min or ("1.0" if legacy else "1.2"), "--tls-min", legacy)
    hi = _tls_version(tls_max, "--tls-max", legacy) if tls_max else None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # OpenSSL's own default list rather than Python's stricter one: a lab server should
    # accept what an embedded client offers (CBC-SHA1 and DHE suites included) and show it.
    ctx.set_ciphers(LEGACY_CIPHERS if legacy else DEFAULT_CIPHERS)
    if ciphers:
        tls12, tls13 = _split_ciphers(ciphers)
        if tls13:
            raise SslServerError(f"--ciphers: TLS 1.3 suites ({', '.join(tls13)}) cannot be "
                                 f"restricted with Python's ssl; TLS 1.3 always offers "
                                 f"OpenSSL's three; list TLS 1.2 suites only")
        if not tls12:
            raise SslServerError("--ciphers is empty; give an OpenSSL cipher list such as "
                                 "ECDHE-RSA-AES128-GCM-SHA256")
        if legacy and "@SECLEVEL" not in tls12:
            tls12 += ":@SECLEVEL=0"
        try:
            ctx.set_ciphers(tls12)
        except ssl.SSLError:
            raise SslServerError(f"--ciphers '{ciphers}' selects no cipher suite OpenSSL "
                                 f"knows; check it with: openssl ciphers -v '{ciphers}'") \
                from None
        if hi is None:
            # Python cannot restrict TLS 1.3 suites: a TLS 1.2 list means "TLS 1.2 only".
            hi = ssl.TLSVersion.TLSv1_2
            if lo > hi:
                raise SslServerError("--ciphers lists TLS 1.2 suites but --tls-min is 1.3; "
                                     "drop one of them")
    hi = hi or (ssl.TLSVersion.TLSv1_2 if legacy else ssl.TLSVersion.TLSv1_3)
    if lo > hi:
        raise SslServerError(f"--tls-min {tls_min} is above --tls-max {tls_max}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # TLS 1.0/1.1, on purpose
        ctx.minimum_version, ctx.maximum_version = lo, hi
    try:
        ctx.load_cert_chain(str(identity.cert), str(identity.key))
    except ssl.SSLError as e:
        raise SslServerError(f"OpenSSL refuses {identity.cert} / {identity.key}: "
                             f"{e.reason or e}") from None
    with tempfile.NamedTemporaryFile(suffix=".pem") as f:
        f.write(RFC5114_1024_PEM if legacy else FFDHE2048_PEM)
        f.flush()
        ctx.load_dh_params(f.name)
    # No TLS 1.3 session tickets: nothing here resumes, and some embedded clients trip
    # over a ticket arriving after the handshake.
    ctx.num_tickets = 0
    if client_cert != "none":
        ca = _readable(ca, "--ca", default=ca == certs.path("ca"))
        try:
            ctx.load_verify_locations(cafile=str(ca))
        except ssl.SSLError:
            raise SslServerError(f"--ca {ca} holds no PEM CA certificate") from None
        ctx.verify_mode = ssl.CERT_REQUIRED if client_cert == "required" else ssl.CERT_OPTIONAL
    ctx.sni_callback = _remember_sni
    return ctx


def _remember_sni(tls, server_name, ctx):
    tls.lab_server_name = server_name


# Handshake failure reasons (OpenSSL's reason codes) in words.
_REASONS = {
    "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        "the client sent no certificate, but --require-client-cert is on",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED":
        "the client sent no certificate, but --require-client-cert is on",
    "NO_SHARED_CIPHER": "no cipher suite in common with the client (see --ciphers and the "
                        "certificate's key type)",
    "UNSUPPORTED_PROTOCOL": "no TLS version in common with the client (see --tls-min/--tls-max)",
    "VERSION_TOO_LOW": "no TLS version in common with the client (see --tls-min/--tls-max)",
    "TLSV1_ALERT_PROTOCOL_VERSION":
        "no TLS version in common with the client (see --tls-min/--tls-max)",
    "WRONG_VERSION_NUMBER": "the client does not speak TLS (plain TCP?)",
    "HTTP_REQUEST": "the client sent plain HTTP, not TLS (use https://)",
    "TLSV1_ALERT_UNKNOWN_CA": "the client does not trust our certificate (alert: unknown CA)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the client rejected our certificate (alert: bad "
                                   "certificate; a hostname mismatch?)",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the client rejected our certificate as expired",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the client rejected our certificate (alert: "
                                       "certificate unknown)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the client aborted the handshake (alert: handshake "
                                     "failure; no common suite or version?)",
    "UNEXPECTED_EOF_WHILE_READING": "the client closed the connection during the handshake",
}


def explain(exc: BaseException, when: str = "handshake") -> str:
    """One line for a TLS or socket error seen while serving a client."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"client certificate rejected: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _REASONS:
            return _REASONS[reason]
        for prefix in ("TLSV13_ALERT_", "TLSV1_ALERT_", "SSLV3_ALERT_"):
            if reason.startswith(prefix):
                alert = reason[len(prefix):].lower().replace("_", " ")
                return f"the client aborted the {when} (alert: {alert})"
        if isinstance(exc, ssl.SSLEOFError) or "EOF" in reason:
            return f"the client closed the connection during the {when}"
        return f"TLS error during the {when}: {reason.lower().replace('_', ' ') or exc}"
    if isinstance(exc, TimeoutError):
        return f"the client went quiet during the {when} (timeout)"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return f"the client reset the connection during the {when}"
    return f"{when} failed: {exc}"


@dataclass
class Connection:
    """What the server saw on one connection (a record for tests and Robot)."""

    number: int
    peer: str
    protocol: str | None = None
    cipher: str | None = None            # IANA name (OpenSSL's if it has none)
    cipher_openssl: str | None = None
    server_name: str | None = None       # SNI the client sent
    client_cert: str | None = None       # subject of a verified client certificate
    bytes_read: int = 0
    bytes_written: int = 0
    request: bytes = b""
    request_line: str | None = None
    status: int | None = None            # HTTP status we answered
    error: str | None = None
    handshake_ok: bool = False
    done: bool = False
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def ok(self) -> bool:
        """The handshake completed and a request was answered."""
        return self.done and self.error is None and self.status is not None


class SslServer:
    """An SSL/TLS server on a loopback port, one thread per client.

    cert/key/ca default to the lab PKI (certs/out). ``port=0`` picks a free port
    (see :attr:`port` after :meth:`start`). ``max_connections`` stops accepting after that
    many connections (:meth:`wait_done` returns when they are served). Console lines go
    to stdout if ``echo``, to ``log_file`` if given, and always to :attr:`lines`.
    """

    def __init__(self, cert=None, key=None, *, ca=None, require_client_cert: bool = False,
                 request_client_cert: bool = False, tls_min: str | None = None,
                 tls_max: str | None = None, ciphers: str | None = None,
                 host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 max_connections: int | None = None, log_file=None, echo: bool = True,
                 timeout: float = 10.0, legacy: bool = False):
        self.host = check_loopback(host)
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise SslServerError(f"--port {port} is out of range (1..65535, 0: a free one)")
        if max_connections is not None and max_connections < 1:
            raise SslServerError(f"--connections {max_connections} must be 1 or more")
        self.echo = echo
        default_identity = cert is None
        cert = Path(cert) if cert else certs.path("server-rsa")
        self.pki_made = self._make_lab_pki(cert) if key is None else []
        self.identity = load_identity(cert, Path(key) if key else None,
                                      default=default_identity)
        self.client_cert = ("required" if require_client_cert else
                            "optional" if request_client_cert else "none")
        self.ca = Path(ca) if ca else certs.path("ca")
        self.legacy = legacy
        self.context = make_context(self.identity, ca=self.ca, client_cert=self.client_cert,
                                    tls_min=tls_min, tls_max=tls_max, ciphers=ciphers,
                                    legacy=legacy)
        self.ciphers = ciphers
        self._port = port
        self.max_connections = max_connections
        self.log_file = Path(log_file) if log_file else None
        self.timeout = timeout
        self._lines: list[str] = []
        self._connections: list[Connection] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._accepting_done = threading.Event()
        self._log = None

    def _make_lab_pki(self, cert: Path) -> list:
        """Make the lab PKI when cert is one of its files and it is not made yet, as ST's
        ssl_server.exe just runs; the files written."""
        out = certs.default_out()
        if cert.exists() or cert.parent.resolve() != out.resolve() or \
                not any(cert == certs.path(item.stem, out) for item in certs.ITEMS):
            return []
        line = f"no test PKI in {out} yet: making it (as {cli.command('certs')} does)"
        if self.echo:
            print(f"ssl_server: {line}", flush=True)
        else:
            log.info("%s", line)
        try:
            return certs.make_pki(out, report=log.debug)
        except certs.CertsError as e:
            raise SslServerError(str(e)) from None

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> "SslServer":
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        # Lets a restarted server reuse a port in TIME_WAIT; a live listener still
        # makes bind fail on Linux, so a busy port is detected.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
            sock.listen(16)
        except OSError as e:
            sock.close()
            if e.errno in (98, 48):     # EADDRINUSE (Linux, BSD)
                raise SslServerError(f"port {self._port} on {self.host} is busy (another "
                                     f"ssl_server?); stop that program or pick another "
                                     f"--port") from None
            if e.errno == 13:
                raise SslServerError(f"cannot listen on {self.host}:{self._port}: permission "
                                     f"denied (ports below 1024 need root); use the default "
                                     f"{DEFAULT_PORT} with board.py --guestfwd "
                                     f"{BOARD_PORT}:{DEFAULT_PORT}") from None
            raise SslServerError(f"cannot listen on {self.host}:{self._port} "
                                 f"({e.strerror})") from None
        if self.log_file is not None:
            try:
                self._log = open(self.log_file, "a", encoding="utf-8")
            except OSError as e:
                sock.close()
                raise SslServerError(f"--log {self.log_file} cannot be written ({e.strerror})") \
                    from None
        self._listener = sock
        self._port = sock.getsockname()[1]
        if self._log is not None:
            self._log.write(f"# ssl_server started {time.strftime('%Y-%m-%d %H:%M:%S')} on "
                            f"{self.host}:{self._port}\n")
            self._log.flush()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"ssl_server:{self._port}")
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, give running connections up to timeout seconds, close."""
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        for worker in list(self._workers):
            worker.join(max(0.0, timeout))
        if self._log is not None:
            with self._lock:
                self._log.close()
                self._log = None

    def __enter__(self) -> "SslServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self._port

    @property
    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    @property
    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def wait_for_connections(self, count: int = 1, timeout: float = 30.0) -> list[Connection]:
        """Wait until count connections are finished; return them (TimeoutError if not)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                done = [c for c in self._connections if c.done]
                if len(done) >= count:
                    return done
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"ssl_server saw {len(done)} finished connection(s) "
                                       f"of {count} within {timeout} s")
                self._changed.wait(left)

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until max_connections are served (or stop()); True if so."""
        if not self._accepting_done.wait(timeout):
            return False
        for worker in list(self._workers):
            worker.join()
        return True

    # --- serving ----------------------------------------------------------------------

    def say(self, line: str) -> None:
        """A console line: to stdout (echo), the --log file, and :attr:`lines`."""
        with self._lock:
            self._lines.append(line)
            if self.echo:
                print(line, flush=True)
            if self._log is not None:
                self._log.write(line + "\n")
                self._log.flush()

    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        accepted = 0
        try:
            while not self._stopping.is_set():
                if not sel.select(timeout=0.1):
                    continue
                try:
                    conn, addr = self._listener.accept()
                except OSError:
                    continue
                accepted += 1
                peer = f"{addr[0]}:{addr[1]}"
                record = Connection(accepted, peer)
                with self._lock:
                    self._connections.append(record)
                self.say(f"  . Waiting for a remote connection ... ok  (#{accepted} from {peer})")
                worker = threading.Thread(target=self._serve, args=(conn, record), daemon=True,
                                          name=f"ssl_server:{self._port}#{accepted}")
                self._workers.append(worker)
                worker.start()
                if self.max_connections and accepted >= self.max_connections:
                    break
        finally:
            sel.close()
            self._listener.close()
            self._accepting_done.set()

    def _finish(self, record: Connection, error: str | None = None) -> None:
        with self._changed:
            if error and record.error is None:
                record.error = error
            record.done = True
            record.finished = time.time()
            self._changed.notify_all()

    def _serve(self, conn: socket.socket, record: Connection) -> None:
        conn.settimeout(self.timeout)
        tls = None
        try:
            tls = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            reason = explain(e)
            self.say("  . Performing the SSL/TLS handshake... failed")
            self.say(f"  ! {reason}")
            self.say("")
            # wrap_socket took conn's descriptor over: close through the TLS socket
            _close_gently(tls if tls is not None else conn)
            self._finish(record, reason)
            return
        try:
            self._converse(tls, record)
        except (ssl.SSLError, OSError) as e:
            reason = explain(e, "exchange")
            self.say(f"  ! {reason}")
            self.say("")
            self._finish(record, reason)
        else:
            self._finish(record)
        finally:
            self._close(tls)

    def _converse(self, tls: ssl.SSLSocket, record: Connection) -> None:
        record.handshake_ok = True
        record.protocol = tls.version()
        record.cipher, record.cipher_openssl = suite_names(tls)
        record.server_name = getattr(tls, "lab_server_name", None)
        self.say("  . Performing the SSL/TLS handshake... ok")
        self.say(f"    [ Protocol is {record.protocol} ]")
        also = f" (OpenSSL: {record.cipher_openssl})" \
            if record.cipher != record.cipher_openssl else ""
        self.say(f"    [ Ciphersuite is {record.cipher}{also} ]")
        peer_der = tls.getpeercert(binary_form=True)
        if peer_der:
            from cryptography import x509
            record.client_cert = x509.load_der_x509_certificate(peer_der).subject \
                .rfc4514_string()
            self.say(f"    [ Client certificate: {record.client_cert} ]")
        log.info("connection #%d: server name %s", record.number, record.server_name)

        data = b""
        while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
            record.bytes_read = len(data)
        record.request = data
        if not data:
            self.say("  < Read from client: connection closed without a request")
            self.say("")
            record.error = "the client closed the connection without a request"
            return
        self.say(f"  < Read from client: {len(data)} bytes read")
        self.say("")
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.splitlines() or [""]
        record.request_line = lines[0]
        for line in lines:
            self.say(f" {line}")
        self.say("")
        status, response = self._response(record)
        tls.sendall(response)
        record.status = status
        record.bytes_written = len(response)
        self.say(f"  > Write to client: {len(response)} bytes written")
        self.say("")

    def _response(self, record: Connection) -> tuple[int, bytes]:
        parts = (record.request_line or "").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            status, text, body = 400, "Bad Request", "<p>Not an HTTP request.</p>"
        elif parts[0] not in ("GET", "HEAD"):
            status, text, body = 405, "Method Not Allowed", "<p>Only GET is served.</p>"
        elif parts[1].split("?")[0] not in ("/", "/index.html"):
            status, text, body = 404, "Not Found", "<p>Only / is served.</p>"
        else:
            status, text = 200, "OK"
            if record.cipher != record.cipher_openssl:
                names = f"IANA name; OpenSSL name {record.cipher_openssl}"
            elif record.cipher.startswith("TLS_"):
                names = "IANA name, the same in OpenSSL"
            else:
                names = "OpenSSL name (no IANA name known)"
            body = (f"<p>Successful connection using: {html.escape(record.cipher)}</p>\n"
                    f"<p>Protocol: {html.escape(record.protocol)}. Cipher suite name above: "
                    f"{html.escape(names)}.</p>\n"
                    f"<p>Connection {record.number} from {html.escape(record.peer)}.</p>")
        page = (f"<!DOCTYPE html>\n<html><head><title>{PAGE_TITLE}</title></head>\n"
                f"<body>\n<h2>{PAGE_TITLE}</h2>\n{body}\n</body></html>\n").encode()
        head = (f"HTTP/1.0 {status} {text}\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(page)}\r\nConnection: close\r\n\r\n").encode()
        if parts and parts[0] == "HEAD":
            page = b""
        return status, head + page

    def _close(self, tls: ssl.SSLSocket) -> None:
        # Send close_notify so HTTP/1.0 clients see a clean end; do not wait long for theirs.
        try:
            tls.settimeout(2)
            tls.unwrap().close()
        except (ssl.SSLError, OSError, ValueError):
            tls.close()


def _close_gently(conn: socket.socket, linger: float = 1.0) -> None:
    """Close after a failed handshake without losing our alert.

    At TLS 1.3 a client finishes its side of the handshake and sends its request before it
    learns that we refused it (e.g. no client certificate). Closing with that request unread
    makes the kernel send a reset, which can destroy the alert in the client's receive
    queue; so stop writing, drain what the client sent for a moment, then close."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(linger)
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline and conn.recv(4096):
            pass
    except OSError:
        pass
    finally:
        conn.close()


# --- command line --------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = cli.parser(
        "ssl_server",
        description="The PC-side SSL/TLS server the board connects to (like ST's "
                    "ssl_server.exe): prints each connection's handshake and request, and "
                    "answers GET / with a page saying 'Successful connection using: <suite>'.",
        epilog=f"The board reaches this server as {HOST_IP}:{BOARD_PORT} when started with "
               f"'board.py --guestfwd {BOARD_PORT}:{DEFAULT_PORT}'. Certificates default to "
               f"the lab PKI in {certs.default_out()}, made on the first run when it is not "
               f"there yet.")
    g = p.add_argument_group("listening (loopback only)")
    g.add_argument("--host", default=DEFAULT_HOST,
                   help="loopback address to listen on (default %(default)s)")
    g.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help="TCP port (default %(default)s; 0: a free one, printed at start)")
    g.add_argument("--connections", type=int, metavar="N",
                   help="exit after N connections (status 1 if any failed); default: serve "
                        "until Ctrl-C")
    g.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="per-connection handshake/request timeout in seconds "
                        "(default %(default)s)")
    g = p.add_argument_group("certificates")
    g.add_argument("--cert", metavar="FILE",
                   help="server certificate, PEM, optionally followed by its issuing CAs "
                        "(presented as the chain) (default: the lab PKI's server-rsa.pem; "
                        "server-ec.pem for ECDSA; server-chain.pem for root -> issuing CA "
                        "-> server)")
    g.add_argument("--key", metavar="FILE",
                   help="its private key, PEM (default: <cert stem>.key.pem next to it, "
                        "else the certificate file)")
    g.add_argument("--ca", metavar="FILE",
                   help="CA that client certificates must chain to (default: the lab PKI's "
                        "ca.pem)")
    m = g.add_mutually_exclusive_group()
    m.add_argument("--require-client-cert", action="store_true",
                   help="refuse clients without a certificate signed by --ca")
    m.add_argument("--request-client-cert", action="store_true",
                   help="ask for a client certificate, accept clients without one")
    g = p.add_argument_group("TLS")
    versions = sorted(LEGACY_TLS_VERSIONS) + sorted(TLS_VERSIONS)
    g.add_argument("--tls-min", choices=versions,
                   help="lowest TLS version (default 1.2; 1.0 with --legacy)")
    g.add_argument("--tls-max", choices=versions,
                   help="highest TLS version (default 1.3; 1.2 with --ciphers or --legacy)")
    g.add_argument("--ciphers", metavar="LIST",
                   help="OpenSSL cipher list for TLS 1.2, e.g. ECDHE-RSA-AES128-GCM-SHA256 or "
                        "DHE-RSA-AES256-SHA (the original demo's suite)")
    g.add_argument("--legacy", action="store_true",
                   help="INSECURE: TLS 1.0 and 1.1 too, 1024-bit DHE (RFC 5114), every suite "
                        "OpenSSL has, at OpenSSL security level 0, so ST's original PolarSSL "
                        "1.x firmware can connect as it did to ST's ssl_server.exe")
    g = cli.add_output_options(p, quiet_help="errors only (the connection lines still go "
                                             "to --log)")
    g.add_argument("--log", metavar="FILE", type=Path,
                   help="also append the console lines to FILE")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cli.setup_logging("ssl_server", args)
    state = {}

    def run() -> int:
        if args.ca and not (args.require_client_cert or args.request_client_cert):
            log.warning("--ca is only used with --require-client-cert or "
                        "--request-client-cert; ignoring it")
        if args.legacy:
            # Loud whatever -q says: this mode must never be on by accident.
            print(f"ssl_server: *** {LEGACY_WARNING} ***", file=sys.stderr, flush=True)
        server = state["server"] = SslServer(
            args.cert, args.key, ca=args.ca, require_client_cert=args.require_client_cert,
            request_client_cert=args.request_client_cert, tls_min=args.tls_min,
            tls_max=args.tls_max, ciphers=args.ciphers, host=args.host, port=args.port,
            max_connections=args.connections, log_file=args.log, echo=not args.quiet,
            timeout=args.timeout, legacy=args.legacy)
        server.start()
        ctx = server.context
        versions = "-".join(sorted({v.name.replace("v1_", "v1.") for v in
                                    (ctx.minimum_version, ctx.maximum_version)}))
        if not args.quiet:
            print(f"ssl_server: listening on {server.host}:{server.port} (the board reaches it "
                  f"as {HOST_IP}:{BOARD_PORT} with board.py --guestfwd "
                  f"{BOARD_PORT}:{server.port})", flush=True)
            print(f"ssl_server: certificate {server.identity.cert} ({server.identity.summary}); "
                  f"{versions}; client certificates {server.client_cert}"
                  f"{f' (CA {server.ca})' if server.client_cert != 'none' else ''}"
                  f"{f'; ciphers {args.ciphers}' if args.ciphers else ''}"
                  f"{'; LEGACY: 1024-bit DHE, security level 0' if args.legacy else ''}",
                  flush=True)
        while not server.wait_done(timeout=0.5):
            pass
        server.stop()
        failed = [c for c in server.connections if not c.ok]
        if failed:
            print(f"ssl_server: {len(failed)} of {len(server.connections)} connections "
                  f"failed; first: #{failed[0].number}: {failed[0].error}", file=sys.stderr)
            return 1
        log.info("served %d connections", len(server.connections))
        return 0

    def interrupted() -> int:
        server = state.get("server")
        if server is not None:
            server.stop(timeout=2)
            if not args.quiet:
                print(f"ssl_server: stopped after {len(server.connections)} connection(s)",
                      flush=True)
        return 0

    return cli.run("ssl_server", run, errors=(SslServerError,), debug=args.debug,
                   interrupted=interrupted)


if __name__ == "__main__":
    sys.exit(main())
