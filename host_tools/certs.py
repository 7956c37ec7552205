"""Create the lab's test PKI: a CA, server/client/board certificates, and negative cases.

Everything is made with the ``cryptography`` package and written as PEM (plus DER copies of
the CA and of the board's certificates and keys, for embedding in firmware) under
``certs/out/`` (``--out DIR`` or ``$STM32LAB_CERTS`` to put it elsewhere). The file names
are fixed; :data:`ITEMS` lists them and ``certs/README.md`` documents them.

Running it again changes nothing when the set is complete and consistent; missing pieces
are filled in; files that are not the lab's (a key that does not match its certificate, a
certificate from another CA, a half-written set) are never overwritten unless ``--force``
is given (and then only the lab's file names are replaced, nothing else is removed).

These keys are for tests only: they are unencrypted and anyone with the repository can
make the same kind. Never use them outside the lab.

As a script::

    python host_tools/certs.py [--out DIR] [--force] [--rsa-bits 2048] [--curve P-256]

From Python::

    from host_tools import certs
    paths = certs.make_pki("/tmp/pki")      # idempotent; returns the files it wrote
    certs.path("server-rsa")                 # certs/out/server-rsa.pem
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/certs.py)

from host_tools import cli, paths  # noqa: E402
from host_tools.lab import BOARD_IP, HOST_IP  # noqa: E402  (the emulated LAN's addresses)

__all__ = [
    "BOARD_NAME", "ITEMS", "ORGANIZATION", "PC_NAME", "CertsError", "Item",
    "check_pki", "default_out", "key_path", "main", "make_pki", "path",
]

log = logging.getLogger("certs")

ORGANIZATION = "STM32 TLS Lab (test only)"   # marks a certificate as the lab's own
PC_NAME = "ssl-server.lab"       # the PC (ssl_server.py) as the board names it
BOARD_NAME = "stm32-board.lab"   # the board's HTTPS server as ssl_client.py names it
WRONG_NAME = "wrong-host.lab"

DEFAULT_RSA_BITS = 2048
DEFAULT_CURVE = "P-256"
DEFAULT_DAYS = 3650
# Lab certificates start in 2000 so a board whose clock was never set (STM32 RTC reset
# date 2000-01-01) still accepts them; the expired one ended long ago.
NOT_BEFORE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
EXPIRED_NOT_AFTER = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


class CertsError(RuntimeError):
    """The PKI cannot be made or checked. One line naming the problem and the fix."""


@dataclass(frozen=True)
class Item:
    """One certificate and its key: ``<stem>.pem`` and ``<stem>.key.pem``."""

    stem: str
    what: str
    issuer: str | None        # stem of the issuing CA; None: self-signed CA
    key_type: str             # "rsa", "ec", or "ca" (the --ca-key choice)
    cn: str
    role: str                 # "ca", "server", "client", "any" (server and client)
    dns: tuple = ()
    ips: tuple = ()
    expired: bool = False
    der: bool = False         # also write <stem>.der and (not for the CA) <stem>.key.der
    chain: bool = False       # <stem>.pem holds the certificate, then its issuing CA's:
                              # the chain a server presents (the root stays with the client)

    @property
    def der_suffixes(self) -> tuple:
        if not self.der:
            return ()
        return (".der",) if self.role == "ca" else (".der", ".key.der")

    @property
    def files(self) -> list[str]:
        return [f"{self.stem}{s}" for s in (".pem", ".key.pem") + self.der_suffixes]


_PC_NAMES = dict(dns=(PC_NAME, "localhost"), ips=(HOST_IP, "127.0.0.1", "::1"))
_BOARD_NAMES = dict(dns=(BOARD_NAME,), ips=(BOARD_IP,))
_ALL_NAMES = dict(dns=(PC_NAME, BOARD_NAME, "localhost"),
                  ips=(HOST_IP, BOARD_IP, "127.0.0.1", "::1"))

# Order matters: an issuer comes before what it signs.
ITEMS = (
    Item("ca", "test CA (trusted by the board and the host tools)", None, "ca",
         "STM32 TLS Lab Test CA", "ca", der=True),
    Item("issuing-ca", "issuing CA under the test CA (root -> issuing CA -> server, as "
         "public servers' chains are)", "ca", "ca", "STM32 TLS Lab Issuing CA", "ca"),
    Item("server-rsa", "PC ssl_server certificate, RSA", "ca", "rsa", PC_NAME, "server",
         **_PC_NAMES),
    Item("server-ec", "PC ssl_server certificate, ECDSA", "ca", "ec", PC_NAME, "server",
         **_PC_NAMES),
    Item("server-chain", "PC ssl_server certificate from the issuing CA, with that CA's "
         "certificate after it (ssl_server.py --cert server-chain.pem)", "issuing-ca", "rsa",
         PC_NAME, "server", chain=True, **_PC_NAMES),
    Item("client-rsa", "client certificate (board as SSL client, ssl_client.py), RSA", "ca",
         "rsa", "stm32-lab-client", "client", der=True),
    Item("client-ec", "client certificate (board as SSL client, ssl_client.py), ECDSA",
         "ca", "ec", "stm32-lab-client", "client", der=True),
    Item("board-rsa", "board HTTPS server certificate, RSA", "ca", "rsa", BOARD_NAME,
         "server", der=True, **_BOARD_NAMES),
    Item("board-ec", "board HTTPS server certificate, ECDSA", "ca", "ec", BOARD_NAME,
         "server", der=True, **_BOARD_NAMES),
    Item("expired", "negative: expired (ended 2020-01-01), all lab names", "ca", "rsa",
         PC_NAME, "any", expired=True, **_ALL_NAMES),
    Item("wrong-host", f"negative: valid but only for {WRONG_NAME}", "ca", "rsa",
         WRONG_NAME, "any", dns=(WRONG_NAME,)),
    Item("untrusted-ca", "negative: a second CA nobody trusts", None, "ca",
         "STM32 TLS Lab Untrusted CA", "ca"),
    Item("untrusted", "negative: all lab names, signed by untrusted-ca", "untrusted-ca",
         "rsa", PC_NAME, "any", **_ALL_NAMES),
)
_BY_STEM = {item.stem: item for item in ITEMS}

CURVES = {"P-256": "SECP256R1", "P-384": "SECP384R1", "P-521": "SECP521R1"}
_CURVE_ALIASES = {"secp256r1": "P-256", "prime256v1": "P-256", "secp384r1": "P-384",
                  "secp521r1": "P-521"}


def default_out() -> Path:
    """Where the PKI lives: $STM32LAB_CERTS, else certs/out/ in a checkout, else the
    per-user cache (~/.cache/stm32-tls-lab/certs) when the tools are installed."""
    return paths.certs_dir()


def path(stem: str, out: Path | None = None) -> Path:
    """The certificate file of an item, e.g. path("server-rsa")."""
    if stem not in _BY_STEM:
        raise CertsError(f"no certificate '{stem}' in the lab PKI; one of "
                         + ", ".join(_BY_STEM))
    return Path(out or default_out()) / f"{stem}.pem"


def key_path(stem: str, out: Path | None = None) -> Path:
    """The private key file of an item, e.g. key_path("server-rsa")."""
    return path(stem, out).with_name(f"{stem}.key.pem")


def normalise_curve(name: str) -> str:
    key = str(name).strip()
    for canonical in CURVES:
        if key.upper() == canonical:
            return canonical
    if key.lower() in _CURVE_ALIASES:
        return _CURVE_ALIASES[key.lower()]
    raise CertsError(f"unknown curve '{name}'; use one of {', '.join(CURVES)} "
                     f"(aliases: {', '.join(_CURVE_ALIASES)})")


def check_rsa_bits(bits) -> int:
    try:
        bits = int(bits)
    except (TypeError, ValueError):
        raise CertsError(f"RSA key size '{bits}' is not a number; use 2048, 3072 or 4096") \
            from None
    if bits < 2048:
        raise CertsError(f"RSA key size {bits} is too small: OpenSSL's security level 2 "
                         f"and mbedTLS's defaults refuse keys under 2048 bits; use 2048, "
                         f"3072 or 4096")
    if bits > 8192 or bits % 256:
        raise CertsError(f"RSA key size {bits} is not supported: use a multiple of 256 "
                         f"from 2048 to 8192 (mbedTLS's default limit), e.g. 2048, 3072 "
                         f"or 4096")
    return bits


@dataclass(frozen=True)
class Params:
    rsa_bits: int = DEFAULT_RSA_BITS
    curve: str = DEFAULT_CURVE
    ca_key: str = "rsa"
    days: int = DEFAULT_DAYS

    def key_kind(self, item: Item) -> str:
        return self.ca_key if item.key_type == "ca" else item.key_type

    def describe(self, item: Item) -> str:
        return f"RSA-{self.rsa_bits}" if self.key_kind(item) == "rsa" else f"ECDSA {self.curve}"


def _params(rsa_bits=DEFAULT_RSA_BITS, curve=DEFAULT_CURVE, ca_key="rsa",
            days=DEFAULT_DAYS) -> Params:
    if ca_key not in ("rsa", "ec"):
        raise CertsError(f"CA key type '{ca_key}' is not 'rsa' or 'ec'")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise CertsError(f"--days '{days}' is not a number") from None
    if not 1 <= days <= 36500:
        raise CertsError(f"--days {days} is out of range (1..36500)")
    return Params(check_rsa_bits(rsa_bits), normalise_curve(curve), ca_key, days)


# --- the cryptography part ------------------------------------------------------------

def _crypto():
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        raise CertsError("the Python package 'cryptography' is missing; run "
                         "'pip install cryptography' (or 'make setup')") from None
    return x509, hashes, serialization, ec, rsa, ExtendedKeyUsageOID, NameOID


def _new_key(kind: str, params: Params):
    _, _, _, ec, rsa, _, _ = _crypto()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=params.rsa_bits)
    return ec.generate_private_key(getattr(ec, CURVES[params.curve])())


def _name(cn: str):
    x509, _, _, _, _, _, NameOID = _crypto()
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _path_length(item: Item) -> int:
    """A root CA signs at most one CA level below it; an issuing CA end entities only."""
    return 1 if item.issuer is None else 0


def _build(item: Item, key, issuer_cert, issuer_key, params: Params):
    x509, hashes, _, _, rsa, EKU, _ = _crypto()
    now = dt.datetime.now(dt.timezone.utc)
    not_after = EXPIRED_NOT_AFTER if item.expired else now + dt.timedelta(days=params.days)
    subject = _name(item.cn)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOT_BEFORE)
         .not_valid_after(not_after)
         .add_extension(ski, critical=False))
    if item.role == "ca":
        b = (b.add_extension(x509.BasicConstraints(ca=True, path_length=_path_length(item)),
                             critical=True)
              .add_extension(x509.KeyUsage(
                  digital_signature=False, content_commitment=False, key_encipherment=False,
                  data_encipherment=False, key_agreement=False, key_cert_sign=True,
                  crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
    else:
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        usages = {"server": [EKU.SERVER_AUTH], "client": [EKU.CLIENT_AUTH],
                  "any": [EKU.SERVER_AUTH, EKU.CLIENT_AUTH]}[item.role]
        b = (b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              # keyEncipherment: RSA key exchange suites (AES256-SHA...) need it in mbedTLS
              .add_extension(x509.KeyUsage(
                  digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
                  data_encipherment=False, key_agreement=False, key_cert_sign=False,
                  crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
        sans = [x509.DNSName(n) for n in item.dns]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in item.ips]
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signer_cert = issuer_cert if issuer_cert is not None else None
    if signer_cert is not None:
        issuer_ski = signer_cert.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier).value
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False)
    return b.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())


def _encodings(cert, key, chain_issuer=None) -> dict:
    """File suffix -> bytes for one item (chain_issuer: the CA certificate that follows
    the certificate in its .pem)."""
    _, _, ser, _, _, _, _ = _crypto()
    pem = cert.public_bytes(ser.Encoding.PEM)
    if chain_issuer is not None:
        pem += chain_issuer.public_bytes(ser.Encoding.PEM)
    return {
        ".pem": pem,
        ".key.pem": key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                      ser.NoEncryption()),
        ".der": cert.public_bytes(ser.Encoding.DER),
        ".key.der": key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8,
                                      ser.NoEncryption()),
    }


def _write(target: Path, data: bytes, private: bool) -> None:
    """Write atomically; keys are readable by the owner only."""
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- checking what is there -----------------------------------------------------------

@dataclass
class _State:
    item: Item
    status: str                 # "absent", "ok", "broken"
    problem: str = ""
    cert: object = None
    key: object = None
    missing_der: tuple = ()


def _load(item: Item, out: Path, params: Params, issuers: dict) -> _State:
    x509, _, ser, ec, rsa, _, NameOID = _crypto()
    cert_file, key_file = out / f"{item.stem}.pem", out / f"{item.stem}.key.pem"
    present = [n for n in item.files if (out / n).exists()]
    if not present:
        return _State(item, "absent")
    if not cert_file.exists() or not key_file.exists():
        have, lacks = (cert_file, key_file) if cert_file.exists() else (key_file, cert_file)
        return _State(item, "broken", f"{have} exists but {lacks.name} is missing "
                                      f"(half-made set)")

    def broken(why: str) -> _State:
        return _State(item, "broken", why)

    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except OSError as e:
        return broken(f"cannot read {cert_file} ({e.strerror})")
    except ValueError:
        return broken(f"{cert_file} is not a PEM certificate")
    try:
        key = ser.load_pem_private_key(key_file.read_bytes(), password=None)
    except OSError as e:
        return broken(f"cannot read {key_file} ({e.strerror})")
    except (ValueError, TypeError):
        return broken(f"{key_file} is not an unencrypted PEM private key")
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if orgs != [ORGANIZATION] or cns != [item.cn]:
        return broken(f"{cert_file} is not the lab's {item.stem} certificate (subject "
                      f"{cert.subject.rfc4514_string()}); it may be your own file")
    spki = ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        return broken(f"{key_file.name} does not match {cert_file.name} in {out}")
    issuer = issuers.get(item.issuer) if item.issuer else cert
    if issuer is None:
        return broken(f"{cert_file} was issued by {item.issuer}.pem, which is missing or "
                      f"broken")
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # noqa: BLE001 - any failure means "not signed by that CA"
        return broken(f"{cert_file} is not signed by {item.issuer or item.stem}.pem in "
                      f"{out} (a set from another run?)")
    kind = params.key_kind(item)
    if kind == "rsa":
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != params.rsa_bits:
            return broken(f"{key_file} is not RSA-{params.rsa_bits} as asked "
                          f"(the set was made with other key options)")
    elif not isinstance(key, ec.EllipticCurvePrivateKey) or \
            key.curve.name != CURVES[params.curve].lower():
        return broken(f"{key_file} is not ECDSA {params.curve} as asked "
                      f"(the set was made with other key options)")
    if not item.expired and cert.not_valid_after_utc <= dt.datetime.now(dt.timezone.utc):
        return broken(f"{cert_file} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if item.role == "ca":
        limit = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if limit.path_length != _path_length(item):
            return broken(f"{cert_file} has path length {limit.path_length}, not "
                          f"{_path_length(item)} (made before the issuing CA existed)")
    if item.chain:
        rest = x509.load_pem_x509_certificates(cert_file.read_bytes())[1:]
        if rest != [issuer]:
            return broken(f"{cert_file} does not end with {item.issuer}.pem's certificate "
                          f"(the chain a server presents)")
    encoded = _encodings(cert, key)
    missing = []
    for suffix in item.der_suffixes:
        f = out / f"{item.stem}{suffix}"
        if not f.exists():
            missing.append(suffix)
        elif f.read_bytes() != encoded[suffix]:
            return broken(f"{f} does not hold the same certificate/key as "
                          f"{item.stem}{'.key' if 'key' in suffix else ''}.pem")
    return _State(item, "ok", cert=cert, key=key, missing_der=tuple(missing))


def _survey(out: Path, params: Params) -> list[_State]:
    states, issuers = [], {}
    for item in ITEMS:
        st = _load(item, out, params, issuers)
        if st.status == "ok" and item.role == "ca":
            issuers[item.stem] = st.cert
        if st.status == "absent" and item.role == "ca":
            # A CA that is gone cannot have signed anything that is still here.
            issuers[item.stem] = None
        states.append(st)
    return states


def check_pki(out: Path | None = None, **options) -> list[str]:
    """Problems with the PKI in out (empty list: complete and consistent)."""
    out = Path(out or default_out())
    params = _params(**options)
    problems = []
    for st in _survey(out, params):
        if st.status == "absent":
            problems.append(f"{out / (st.item.stem + '.pem')} is missing")
        elif st.status == "broken":
            problems.append(st.problem)
        elif st.missing_der:
            problems.append(f"{out / (st.item.stem + st.missing_der[0])} is missing")
    return problems


# --- making it -------------------------------------------------------------------------

def _show(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def make_pki(out: Path | None = None, *, force: bool = False, report=None,
             rsa_bits=DEFAULT_RSA_BITS, curve=DEFAULT_CURVE, ca_key="rsa",
             days=DEFAULT_DAYS) -> list[Path]:
    """Create (or complete) the PKI in out; return the files written.

    report(line) is called for each item written (default: log at INFO). Raises
    CertsError if out holds files that are not a consistent lab set, unless force.
    """
    report = report or log.info
    out = Path(out or default_out())
    params = _params(rsa_bits, curve, ca_key, days)
    if out.exists() and not out.is_dir():
        raise CertsError(f"{out} is a file, not a directory; pass another --out DIR")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CertsError(f"cannot create {out} ({e.strerror}); pass another --out DIR") \
            from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise CertsError(f"cannot write in {out} (permission denied); pass another --out DIR")

    states = _survey(out, params)
    if not force:
        broken = [st for st in states if st.status == "broken"]
        if broken:
            for st in broken[1:]:
                log.info("also: %s", st.problem)
            more = f" (and {len(broken) - 1} more, -v lists them)" if len(broken) > 1 else ""
            raise CertsError(f"{broken[0].problem}{more}; {_show(out)} is half-made or not "
                             f"the lab's: rerun with --force to replace the lab's files there "
                             f"(other files are kept), or use another --out")
    written = []
    made = {}   # stem -> (cert, key) of CAs usable as issuers
    for st in states:
        item = st.item
        keep = st.status == "ok" and not force
        if keep and item.issuer and item.issuer in made and made[item.issuer][2]:
            keep = False    # its CA was just re-made: re-sign it too
        if keep:
            made[item.stem] = (st.cert, st.key, False)
            if st.missing_der:
                enc = _encodings(st.cert, st.key)
                for suffix in st.missing_der:
                    target = out / f"{item.stem}{suffix}"
                    _write(target, enc[suffix], private="key" in suffix)
                    written.append(target)
                report(f"wrote {_show(out)}/" + ", ".join(
                    f"{item.stem}{s}" for s in st.missing_der) + f"  ({item.what}, DER copy)")
            continue
        key = _new_key(params.key_kind(item), params)
        issuer_cert, issuer_key = (None, None)
        if item.issuer:
            issuer_cert, issuer_key, _ = made[item.issuer]
        cert = _build(item, key, issuer_cert, issuer_key, params)
        made[item.stem] = (cert, key, True)
        enc = _encodings(cert, key, issuer_cert if item.chain else None)
        verb = "replaced" if any((out / n).exists() for n in item.files) else "wrote"
        for name in item.files:
            suffix = name[len(item.stem):]
            target = out / name
            _write(target, enc[suffix], private=".key." in name)
            written.append(target)
        report(f"{verb} {_show(out)}/{item.stem}.pem + .key.pem"
               + "".join(f" + {s}" for s in item.der_suffixes) + "  "
               f"({item.what}; {params.describe(item)})")
    return written


# --- command line --------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = cli.parser(
        "certs",
        description="Create the lab's test PKI (a CA; PC server, board and client "
                    "certificates in RSA and ECDSA; expired, wrong-host and untrusted-CA "
                    "certificates for negative tests). A second run changes nothing.",
        epilog="Files: " + ", ".join(f for item in ITEMS for f in item.files)
               + ". See certs/README.md. Test keys only: never use them elsewhere.")
    g = p.add_argument_group("where")
    g.add_argument("--out", metavar="DIR", type=Path, default=None,
                   help=f"output directory (default: $STM32LAB_CERTS, else {_show(default_out())})")
    g.add_argument("--force", action="store_true",
                   help="replace the lab's files in DIR even if they are inconsistent or "
                        "not the lab's (other files in DIR are kept)")
    g.add_argument("--check", action="store_true",
                   help="only check that DIR holds a complete, consistent set; write nothing")
    g = p.add_argument_group("keys")
    g.add_argument("--rsa-bits", metavar="N", default=DEFAULT_RSA_BITS,
                   help="RSA key size, a multiple of 256 from 2048 to 8192 "
                        "(default %(default)s)")
    g.add_argument("--curve", default=DEFAULT_CURVE,
                   help=f"ECDSA curve: {', '.join(CURVES)} (default %(default)s)")
    g.add_argument("--ca-key", choices=("rsa", "ec"), default="rsa",
                   help="key type of the two CAs (default %(default)s)")
    g.add_argument("--days", metavar="N", default=DEFAULT_DAYS,
                   help="validity of the good certificates in days (default %(default)s)")
    cli.add_output_options(p)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cli.setup_logging("certs", args)
    out = args.out or default_out()

    def say(line: str) -> None:
        if not args.quiet:
            print(f"certs: {line}", flush=True)

    def run() -> int:
        options = dict(rsa_bits=args.rsa_bits, curve=args.curve, ca_key=args.ca_key,
                       days=args.days)
        try:
            if args.check:
                return _check(out, args, options, say)
            written = make_pki(out, force=args.force, report=say, **options)
        except OSError as e:
            raise CertsError(f"cannot write {e.filename or out} ({e.strerror}); check the "
                             f"directory's permissions or pass another --out") from None
        total = sum(len(item.files) for item in ITEMS)
        if written:
            say(f"{_show(out)}: {len(written)} of {total} files written")
        else:
            say(f"{_show(out)} already holds the complete test PKI ({total} files); "
                f"nothing changed")
        return 0

    def interrupted() -> int:
        print("certs: interrupted; the set may be half-made: rerun with --force",
              file=sys.stderr)
        return 1

    return cli.run("certs", run, errors=(CertsError,), debug=args.debug,
                   interrupted=interrupted)


def _check(out: Path, args, options: dict, say) -> int:
    problems = check_pki(out, **options)
    if problems:
        for extra in problems[1:]:
            log.info("also: %s", extra)
        more = f" (and {len(problems) - 1} more, -v lists them)" if len(problems) > 1 else ""
        fix = "" if all(p.endswith(" is missing") for p in problems) else " --force"
        where = "" if args.out is None else f" --out {out}"
        raise CertsError(f"{problems[0]}{more}; run '{cli.command('certs')}{where}{fix}'")
    say(f"{_show(out)} holds the complete test PKI; ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
