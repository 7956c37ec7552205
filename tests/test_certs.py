"""host_tools/certs.py: the lab's test PKI (made with `cryptography`, checked with OpenSSL)."""

import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from host_tools import certs

TOP = Path(__file__).resolve().parent.parent
ALL_FILES = sorted(f for item in certs.ITEMS for f in item.files)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    assert certs.main(["--out", str(out), "-q"]) == 0
    return out


@pytest.fixture
def fresh(tmp_path) -> Path:
    """A PKI of our own that a test may damage."""
    out = tmp_path / "pki"
    assert certs.main(["--out", str(out), "-q"]) == 0
    return out


def _snapshot(out: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.iterdir())}


def _cert(out: Path, stem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((out / f"{stem}.pem").read_bytes())


def _sans(cert) -> tuple[set, set]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (set(san.get_values_for_type(x509.DNSName)),
            {str(a) for a in san.get_values_for_type(x509.IPAddress)})


def test_creates_every_documented_file(pki):
    assert sorted(p.name for p in pki.iterdir()) == ALL_FILES
    readme = (TOP / "certs" / "README.md").read_text()
    for name in ALL_FILES:
        assert name in readme, f"{name} is not documented in certs/README.md"
    for name in ALL_FILES:
        mode = (pki / name).stat().st_mode & 0o777
        assert mode == (0o600 if ".key." in name else 0o644), name


def test_names_cover_the_lab_addresses(pki):
    dns, ips = _sans(_cert(pki, "server-rsa"))
    assert {"ssl-server.lab", "localhost"} <= dns
    assert {"192.168.0.1", "127.0.0.1"} <= ips
    assert _sans(_cert(pki, "server-ec")) == (dns, ips)
    assert _sans(_cert(pki, "board-rsa")) == ({"stm32-board.lab"}, {"192.168.0.10"})
    assert _sans(_cert(pki, "wrong-host")) == ({"wrong-host.lab"}, set())


@pytest.mark.parametrize("stem, kind", [
    ("ca", "RSA-2048"), ("server-rsa", "RSA-2048"), ("server-ec", "secp256r1"),
    ("client-rsa", "RSA-2048"), ("client-ec", "secp256r1"), ("board-rsa", "RSA-2048"),
    ("board-ec", "secp256r1"),
])
def test_key_types(pki, stem, kind):
    key = _cert(pki, stem).public_key()
    if kind.startswith("RSA"):
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == kind


def test_der_copies_hold_the_same_cert_and_key(pki):
    assert (pki / "ca.der").read_bytes() == \
        _cert(pki, "ca").public_bytes(serialization.Encoding.DER)
    for stem in ("board-rsa", "board-ec", "client-rsa", "client-ec"):
        cert = x509.load_der_x509_certificate((pki / f"{stem}.der").read_bytes())
        key = serialization.load_der_private_key((pki / f"{stem}.key.der").read_bytes(), None)
        assert cert == _cert(pki, stem)
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        assert key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)


def _openssl_verify(pki, stem, host="ssl-server.lab"):
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(pki / "ca.pem"), "-verify_hostname", host,
         str(pki / f"{stem}.pem")], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("stem, host", [
    ("server-rsa", "ssl-server.lab"), ("server-ec", "192.168.0.1"),
    ("board-rsa", "stm32-board.lab"), ("board-ec", "192.168.0.10"),
])
def test_good_certificates_verify_with_openssl(pki, stem, host):
    if host[0].isdigit():
        r = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca.pem"), "-verify_ip",
                            host, str(pki / f"{stem}.pem")],
                           capture_output=True, text=True, timeout=30)
    else:
        r = _openssl_verify(pki, stem, host)
    assert r.returncode == 0 and ": OK" in r.stdout, r.stderr


def test_server_chain_goes_through_the_issuing_ca(pki):
    """root -> issuing CA -> server, as the Nucleo write-up's server presents it: the file
    is the server certificate then the issuing CA's; the root (ca.pem) alone verifies it,
    and the root may sign one CA level, the issuing CA none."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization as ser
    chain = x509.load_pem_x509_certificates((pki / "server-chain.pem").read_bytes())
    root = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    issuing = x509.load_pem_x509_certificate((pki / "issuing-ca.pem").read_bytes())
    assert chain[1:] == [issuing]
    chain[0].verify_directly_issued_by(issuing)
    issuing.verify_directly_issued_by(root)
    limits = [c.extensions.get_extension_for_class(x509.BasicConstraints).value
              for c in (root, issuing)]
    assert [(b.ca, b.path_length) for b in limits] == [(True, 1), (True, 0)]
    r = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca.pem"), "-untrusted",
                        str(pki / "server-chain.pem"), "-verify_hostname", "ssl-server.lab",
                        "-show_chain", str(pki / "server-chain.pem")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and ": OK" in r.stdout, r.stderr
    assert "depth=1: O = STM32 TLS Lab (test only), CN = STM32 TLS Lab Issuing CA" in r.stdout
    assert "depth=2: O = STM32 TLS Lab (test only), CN = STM32 TLS Lab Test CA" in r.stdout
    # without the issuing CA the root alone cannot link the server certificate
    alone = pki / "leaf-only.pem"
    alone.write_bytes(chain[0].public_bytes(ser.Encoding.PEM))
    r = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca.pem"), str(alone)],
                       capture_output=True, text=True, timeout=30)
    alone.unlink()
    assert r.returncode != 0 and "unable to get local issuer certificate" in r.stderr + r.stdout


@pytest.mark.parametrize("stem, openssl_says", [
    ("expired", "certificate has expired"),
    ("wrong-host", "hostname mismatch"),
    ("untrusted", "unable to get local issuer certificate"),
])
def test_negative_certificates_fail_openssl_verify(pki, stem, openssl_says):
    r = _openssl_verify(pki, stem)
    assert r.returncode != 0
    assert openssl_says in r.stderr + r.stdout


@pytest.mark.parametrize("stem, python_says", [
    ("expired", "certificate has expired"),
    ("wrong-host", "Hostname mismatch"),
    ("untrusted", "unable to get local issuer certificate"),
])
def test_negative_certificates_fail_a_tls_handshake(pki, stem, python_says):
    """The way a client sees them: a real handshake on loopback, verified against the CA."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki / f"{stem}.pem", pki / f"{stem}.key.pem")
    client_ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve():
        conn, _ = listener.accept()
        conn.settimeout(10)
        try:
            server_ctx.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()

    t = threading.Thread(target=serve)
    t.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            with pytest.raises(ssl.SSLCertVerificationError) as err:
                client_ctx.wrap_socket(raw, server_hostname="ssl-server.lab")
        assert python_says in err.value.verify_message
    finally:
        t.join(10)
        listener.close()


def test_second_run_changes_nothing_and_says_so(fresh, capsys):
    before = _snapshot(fresh)
    assert certs.main(["--out", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert "nothing changed" in out and "wrote" not in out
    assert _snapshot(fresh) == before


def test_first_run_reports_what_it_writes(tmp_path, capsys):
    assert certs.main(["--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    for item in certs.ITEMS:
        assert f"/{item.stem}.pem + .key.pem" in out
    assert f"{len(ALL_FILES)} of {len(ALL_FILES)} files written" in out


def test_missing_pair_is_filled_in_with_the_same_ca(fresh, capsys):
    before = _snapshot(fresh)
    (fresh / "wrong-host.pem").unlink()
    (fresh / "wrong-host.key.pem").unlink()
    assert certs.main(["--out", str(fresh)]) == 0
    assert "wrote" in capsys.readouterr().out
    after = _snapshot(fresh)
    assert {n for n in after if after[n] != before.get(n)} == \
        {"wrong-host.pem", "wrong-host.key.pem"}
    _cert(fresh, "wrong-host").verify_directly_issued_by(_cert(fresh, "ca"))


def _user_cert(path: Path):
    """Someone's own certificate, not the lab's."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=my own CA",
                    "-keyout", str(path.with_name("mine.key")), "-out", str(path),
                    "-days", "10"], check=True, capture_output=True, timeout=30)


@pytest.mark.parametrize("damage, says", [
    ("foreign", "it may be your own file"),
    ("mismatch", "does not match"),
    ("half", "half-made"),
    ("garbage", "not a PEM certificate"),
])
def test_refuses_a_half_made_or_foreign_directory(fresh, capsys, damage, says):
    if damage == "foreign":
        (fresh / "ca.key.pem").write_bytes((fresh / "untrusted-ca.key.pem").read_bytes())
        _user_cert(fresh / "ca.pem")
    elif damage == "mismatch":
        (fresh / "server-rsa.key.pem").write_bytes((fresh / "client-rsa.key.pem").read_bytes())
    elif damage == "half":
        (fresh / "expired.pem").unlink()
    else:
        (fresh / "board-ec.pem").write_text("my notes\n")
    before = _snapshot(fresh)
    assert certs.main(["--out", str(fresh)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("certs: ")
    assert says in err and "--force" in err
    assert _snapshot(fresh) == before, "a refused run must not touch anything"


@pytest.mark.parametrize("damage, says", [
    ("old-root", "path length 0, not 1 (made before the issuing CA existed)"),
    ("chain", "does not end with issuing-ca.pem's certificate"),
])
def test_refuses_an_old_root_or_a_broken_chain(fresh, capsys, damage, says):
    """A set from before the issuing CA (root with path length 0) or a server chain
    without its issuing CA is named in one line; --force makes it anew."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization as ser
    if damage == "old-root":
        key = ser.load_pem_private_key((fresh / "ca.key.pem").read_bytes(), None)
        old = x509.load_pem_x509_certificate((fresh / "ca.pem").read_bytes())
        b = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.issuer)
             .public_key(key.public_key()).serial_number(old.serial_number)
             .not_valid_before(old.not_valid_before_utc)
             .not_valid_after(old.not_valid_after_utc))
        for ext in old.extensions:
            value = ext.value
            if isinstance(value, x509.BasicConstraints):
                value = x509.BasicConstraints(ca=True, path_length=0)
            b = b.add_extension(value, ext.critical)
        (fresh / "ca.pem").write_bytes(b.sign(key, hashes.SHA256()).public_bytes(
            ser.Encoding.PEM))
    else:
        pem = (fresh / "server-chain.pem").read_bytes()
        (fresh / "server-chain.pem").write_bytes(pem[:pem.index(b"-----END CERTIFICATE-----")
                                                     + 26])
    before = _snapshot(fresh)
    assert certs.main(["--out", str(fresh)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "--force" in err, err
    assert _snapshot(fresh) == before
    assert certs.main(["--out", str(fresh), "--force"]) == 0
    assert certs.check_pki(fresh) == []


def test_force_replaces_the_lab_files_and_keeps_others(fresh, capsys):
    _user_cert(fresh / "ca.pem")
    (fresh / "notes.txt").write_text("keep me")
    assert certs.main(["--out", str(fresh), "--force"]) == 0
    assert "replaced" in capsys.readouterr().out
    assert (fresh / "notes.txt").read_text() == "keep me"
    assert (fresh / "mine.key").exists()
    assert certs.check_pki(fresh) == []
    assert certs.main(["--out", str(fresh)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_other_key_options_on_an_existing_set_are_refused(fresh, capsys):
    assert certs.main(["--out", str(fresh), "--rsa-bits", "3072"]) == 1
    err = capsys.readouterr().err
    assert "RSA-3072" in err and "--force" in err


def test_larger_keys_and_another_curve(tmp_path):
    out = tmp_path / "big"
    assert certs.main(["--out", str(out), "-q", "--rsa-bits", "3072", "--curve", "secp384r1",
                       "--ca-key", "ec"]) == 0
    assert _cert(out, "server-rsa").public_key().key_size == 3072
    assert _cert(out, "server-ec").public_key().curve.name == "secp384r1"
    assert isinstance(_cert(out, "ca").public_key(), ec.EllipticCurvePublicKey)
    assert certs.check_pki(out, rsa_bits=3072, curve="P-384", ca_key="ec") == []


@pytest.mark.parametrize("args, says", [
    (["--rsa-bits", "1024"], "too small"),
    (["--rsa-bits", "2047"], "too small"),
    (["--rsa-bits", "2100"], "multiple of 256"),
    (["--rsa-bits", "16384"], "multiple of 256 from 2048 to 8192"),
    (["--rsa-bits", "big"], "not a number"),
    (["--curve", "P-192"], "unknown curve 'P-192'"),
    (["--curve", "secp256k1"], "unknown curve 'secp256k1'"),
    (["--days", "0"], "out of range"),
])
def test_bad_key_options_are_refused_before_writing(tmp_path, capsys, args, says):
    out = tmp_path / "none"
    assert certs.main(["--out", str(out)] + args) == 1
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert not out.exists() or not any(out.iterdir())


def test_check_mode(fresh, tmp_path, capsys):
    assert certs.main(["--out", str(fresh), "--check"]) == 0
    assert certs.main(["--out", str(tmp_path / "empty"), "--check"]) == 1
    err = capsys.readouterr().err
    assert "ca.pem is missing" in err and "run 'python host_tools/certs.py" in err
    assert not (tmp_path / "empty").exists()


def test_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert certs.main(["--out", str(f)]) == 1
    assert "is a file, not a directory" in capsys.readouterr().err


def test_default_directory_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STM32LAB_CERTS", str(tmp_path / "envpki"))
    assert certs.main(["-q"]) == 0
    assert certs.path("server-rsa") == tmp_path / "envpki" / "server-rsa.pem"
    assert certs.path("server-rsa").exists()


@pytest.mark.parametrize("how", ["script", "module"])
def test_runs_as_script_and_module(how):
    cmd = [sys.executable, "host_tools/certs.py"] if how == "script" else \
        [sys.executable, "-m", "host_tools.certs"]
    r = subprocess.run(cmd + ["--help"], cwd=TOP, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--rsa-bits" in r.stdout and "--force" in r.stdout
