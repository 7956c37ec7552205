"""host_tools/ssl_server.py against real TLS peers on 127.0.0.1: Python ssl, openssl, curl."""

import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

from host_tools import certs
from host_tools.ssl_server import SslServer, main
from lab_firmware import free_port

TOP = Path(__file__).resolve().parent.parent
REQUEST = b"GET / HTTP/1.0\r\n\r\n"


@pytest.fixture
def serve(pki):
    """Start an SslServer on a free 127.0.0.1 port with the test PKI; stopped afterwards."""
    servers = []

    def start(stem="server-rsa", **kw):
        kw.setdefault("ca", pki / "ca.pem")
        server = SslServer(pki / f"{stem}.pem", pki / f"{stem}.key.pem", port=0, echo=False,
                           timeout=5, **kw)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def py_get(pki, port, *, server_name="ssl-server.lab", cert=None, tls_max=None,
           tls_min=None, ca="ca.pem", request=REQUEST):
    """A Python ssl client: (protocol, OpenSSL cipher, response bytes)."""
    ctx = ssl.create_default_context(cafile=str(pki / ca))
    if cert:
        ctx.load_cert_chain(pki / f"{cert}.pem", pki / f"{cert}.key.pem")
    if tls_max:
        ctx.maximum_version = getattr(ssl.TLSVersion, "TLSv1_" + tls_max[-1])
    if tls_min:
        ctx.minimum_version = getattr(ssl.TLSVersion, "TLSv1_" + tls_min[-1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            tls.sendall(request)
            data = b""
            while True:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            return tls.version(), tls.cipher()[0], data


def s_client(pki, port, *args, data=REQUEST):
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(pki / "ca.pem"),
         "-servername", "ssl-server.lab", "-verify_return_error", "-ign_eof", *args],
        input=data, capture_output=True, timeout=30)


@pytest.mark.parametrize("stem, tls_max, cipher", [
    ("server-rsa", "1.3", "TLS_AES_256_GCM_SHA384"),
    ("server-rsa", "1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ("server-ec", "1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ("server-ec", "1.3", "TLS_AES_256_GCM_SHA384"),
])
def test_handshake_lines_and_page_name_the_suite(pki, serve, stem, tls_max, cipher):
    server = serve(stem)
    protocol, _, response = py_get(pki, server.port, tls_max=tls_max)
    assert protocol == f"TLSv{tls_max}"
    assert response.startswith(b"HTTP/1.0 200 OK\r\n")
    assert f"Successful connection using: {cipher}".encode() in response
    conn = server.wait_for_connections(1, timeout=10)[0]
    assert conn.ok and conn.cipher == cipher and conn.protocol == protocol
    assert conn.request_line == "GET / HTTP/1.0" and conn.server_name == "ssl-server.lab"
    assert conn.bytes_read == len(REQUEST) and conn.bytes_written == len(response)
    lines = server.lines
    expected = [
        "  . Performing the SSL/TLS handshake... ok",
        f"    [ Protocol is {protocol} ]",
        f"  < Read from client: {len(REQUEST)} bytes read",
        " GET / HTTP/1.0",
        f"  > Write to client: {len(response)} bytes written",
    ]
    assert lines[0].startswith("  . Waiting for a remote connection ... ok")
    positions = [lines.index(line) for line in expected]
    assert positions == sorted(positions)
    assert any(line.startswith(f"    [ Ciphersuite is {cipher}") for line in lines)


def test_presents_the_chain_through_the_issuing_ca(pki, serve):
    """--cert server-chain.pem: the server sends its certificate and the issuing CA's;
    clients that trust only the root (ca.pem) verify it, at depth 2."""
    server = serve("server-chain")
    protocol, _, response = py_get(pki, server.port, tls_max="1.2")
    assert protocol == "TLSv1.2" and response.startswith(b"HTTP/1.0 200 OK\r\n")
    r = s_client(pki, server.port, "-showcerts", "-tls1_2")
    out = r.stdout.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in out, r.stderr.decode(errors="replace")
    assert out.count("-----BEGIN CERTIFICATE-----") == 2
    assert "i:O = STM32 TLS Lab (test only), CN = STM32 TLS Lab Test CA" in out
    assert "depth=2 O = STM32 TLS Lab (test only), CN = STM32 TLS Lab Test CA" in \
        r.stderr.decode(errors="replace") + out


@pytest.mark.parametrize("suite, iana", [
    ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ("DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    ("DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
])
def test_openssl_s_client_negotiates_the_asked_suite(pki, serve, suite, iana):
    server = serve(ciphers=suite)
    r = s_client(pki, server.port, "-cipher", suite)
    out = r.stdout.decode(errors="replace")
    assert f"Cipher is {suite}" in out, r.stderr.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in out
    assert f"Successful connection using: {iana}" in out
    if suite.startswith("DHE"):
        assert "Server Temp Key: DH, 2048 bits" in out
    conn = server.wait_for_connections(1, timeout=10)[0]
    assert conn.ok and conn.cipher == iana and conn.protocol == "TLSv1.2"


def test_ciphers_restrict_the_suite(pki, serve):
    server = serve(ciphers="ECDHE-RSA-AES128-GCM-SHA256")
    r = s_client(pki, server.port, "-cipher", "ECDHE-RSA-AES256-GCM-SHA384")
    assert b"Successful connection" not in r.stdout
    # --ciphers lists TLS 1.2 suites: TLS 1.3 (whose suites cannot be limited) is off too.
    with pytest.raises(ssl.SSLError):
        py_get(pki, server.port, tls_min="1.3")
    protocol, cipher, _ = py_get(pki, server.port)
    assert (protocol, cipher) == ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
    conns = server.wait_for_connections(3, timeout=10)
    assert "no cipher suite in common" in conns[0].error
    assert "no TLS version in common" in conns[1].error
    assert conns[2].ok


@pytest.mark.parametrize("server_kw, client_kw, protocol", [
    ({}, {}, "TLSv1.3"),
    ({"tls_max": "1.2"}, {}, "TLSv1.2"),
    ({"tls_min": "1.3"}, {}, "TLSv1.3"),
    ({"tls_min": "1.3"}, {"tls_max": "1.2"}, None),
    ({"tls_max": "1.2"}, {"tls_min": "1.3"}, None),
])
def test_tls_version_limits(pki, serve, server_kw, client_kw, protocol):
    server = serve(**server_kw)
    if protocol is None:
        with pytest.raises(ssl.SSLError):
            py_get(pki, server.port, **client_kw)
        conn = server.wait_for_connections(1, timeout=10)[0]
        assert "no TLS version in common" in conn.error
        assert "  . Performing the SSL/TLS handshake... failed" in server.lines
    else:
        assert py_get(pki, server.port, **client_kw)[0] == protocol


@pytest.mark.parametrize("flag, protocol", [([], "TLSv1.3"), (["--tls-max", "1.2"], "TLSv1.2")])
def test_curl_fetches_the_page(pki, serve, flag, protocol):
    server = serve()
    r = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "--cacert", str(pki / "ca.pem"), *flag,
         "--resolve", f"ssl-server.lab:{server.port}:127.0.0.1",
         f"https://ssl-server.lab:{server.port}/"],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Successful connection using: TLS_" in r.stdout
    conn = server.wait_for_connections(1, timeout=10)[0]
    assert conn.protocol == protocol and conn.request_line == "GET / HTTP/1.1"


@pytest.mark.parametrize("tls_max", ["1.2", "1.3"])
def test_client_certificate_required(pki, serve, tls_max):
    server = serve(require_client_cert=True, tls_max=tls_max)
    assert b"200 OK" in py_get(pki, server.port, cert="client-rsa")[2]
    with pytest.raises((ssl.SSLError, ConnectionError)):
        py_get(pki, server.port)                                # no certificate
    with pytest.raises((ssl.SSLError, ConnectionError)):
        py_get(pki, server.port, cert="untrusted")              # not from our CA
    assert b"200 OK" in py_get(pki, server.port, cert="client-ec")[2]  # still serving
    conns = server.wait_for_connections(4, timeout=10)
    assert conns[0].ok and "CN=stm32-lab-client" in conns[0].client_cert
    assert "sent no certificate" in conns[1].error
    assert "client certificate rejected: unable to get local issuer certificate" \
        in conns[2].error
    assert conns[3].ok
    assert any("[ Client certificate: " in line for line in server.lines)


def test_client_certificate_with_openssl_s_client(pki, serve):
    server = serve(require_client_cert=True)
    r = s_client(pki, server.port, "-cert", str(pki / "client-ec.pem"),
                 "-key", str(pki / "client-ec.key.pem"))
    assert b"Successful connection using:" in r.stdout
    assert server.wait_for_connections(1, timeout=10)[0].client_cert


def test_handshake_failure_is_reported_and_the_server_goes_on(pki, serve):
    server = serve()
    with pytest.raises(ssl.SSLCertVerificationError):
        py_get(pki, server.port, ca="untrusted-ca.pem")   # the client refuses our cert
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
        plain.sendall(b"GET / HTTP/1.0\r\n\r\n")           # plain HTTP to a TLS port
        server.wait_for_connections(2, timeout=10)
    assert b"200 OK" in py_get(pki, server.port)[2]
    conns = server.wait_for_connections(3, timeout=10)
    assert "does not trust our certificate" in conns[0].error
    assert "plain HTTP" in conns[1].error
    assert conns[2].ok
    assert "  ! the client does not trust our certificate (alert: unknown CA)" in server.lines


def test_answers_other_paths_and_methods_with_http_errors(pki, serve):
    server = serve()
    assert py_get(pki, server.port, request=b"GET /x HTTP/1.0\r\n\r\n")[2].startswith(
        b"HTTP/1.0 404 ")
    assert py_get(pki, server.port, request=b"POST / HTTP/1.0\r\n\r\n")[2].startswith(
        b"HTTP/1.0 405 ")
    assert [c.status for c in server.wait_for_connections(2, timeout=10)] == [404, 405]


def test_serves_several_clients_at_once(pki, serve):
    server = serve()
    # A client that connects and says nothing must not hold up the others.
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    results, errors = [], []

    def client():
        try:
            results.append(py_get(pki, server.port)[2])
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stalled.close()
    assert not errors and len(results) == 8
    assert all(b"Successful connection using:" in r for r in results)
    conns = server.wait_for_connections(9, timeout=15)
    assert sum(c.ok for c in conns) == 8


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "host_tools/ssl_server.py", *args], cwd=TOP,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_listening(proc):
    line = proc.stdout.readline()       # the first line is printed once it listens
    assert "listening on 127.0.0.1:" in line, line + proc.stderr.read()
    return line


def test_connections_n_exits_and_log_file(pki, tmp_path):
    port, log = free_port(), tmp_path / "server.log"
    proc = _cli("--port", str(port), "--connections", "2", "--log", str(log),
                "--cert", str(pki / "server-rsa.pem"))
    try:
        _wait_listening(proc)
        for _ in range(2):
            assert b"200 OK" in py_get(pki, port)[2]
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.count("  . Performing the SSL/TLS handshake... ok") == 2
    text = log.read_text()
    assert text.startswith("# ssl_server started")
    assert text.count("  . Performing the SSL/TLS handshake... ok") == 2
    assert text.count(" GET / HTTP/1.0") == 2 and "  > Write to client: " in text


def test_connections_n_exits_1_when_one_failed(pki):
    port = free_port()
    proc = _cli("--port", str(port), "--connections", "1",
                "--cert", str(pki / "server-rsa.pem"))
    try:
        _wait_listening(proc)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
            plain.sendall(b"hello\r\n\r\n")
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "1 of 1 connections failed" in err and "does not speak TLS" in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_cleanly(pki, sig):
    port = free_port()
    proc = _cli("--port", str(port), "--cert", str(pki / "server-rsa.pem"))
    try:
        _wait_listening(proc)
        assert b"200 OK" in py_get(pki, port)[2]
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped after 1 connection(s)" in out and "Traceback" not in err
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def _run_main(capsys, *args) -> str:
    assert main(list(args)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ssl_server: "), err
    return err


def test_busy_port_is_a_clear_error(pki, capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        err = _run_main(capsys, "--port", str(port), "--cert", str(pki / "server-rsa.pem"))
    assert f"port {port} on 127.0.0.1 is busy" in err and "--port" in err


@pytest.mark.parametrize("case, says", [
    ("missing", "no such file"),
    ("directory", "cannot be read (Is a directory)"),
    ("garbage", "is not a PEM certificate"),
    ("mismatch", "does not match"),
    ("encrypted", "is encrypted"),
])
def test_bad_certificate_files_are_clear_errors(pki, tmp_path, capsys, case, says):
    cert, key = pki / "server-rsa.pem", pki / "server-rsa.key.pem"
    if case == "missing":
        cert = tmp_path / "nope.pem"
    elif case == "directory":
        cert = tmp_path
    elif case == "garbage":
        cert = tmp_path / "garbage.pem"
        cert.write_text("not a certificate\n")
    elif case == "mismatch":
        key = pki / "client-rsa.key.pem"
    else:
        key = tmp_path / "enc.key.pem"
        subprocess.run(["openssl", "pkey", "-in", str(pki / "server-rsa.key.pem"), "-aes256",
                        "-passout", "pass:secret", "-out", str(key)], check=True, timeout=30)
    err = _run_main(capsys, "--port", "0", "--cert", str(cert), "--key", str(key))
    assert says in err


def _start_cli(*args, env=None) -> tuple:
    """ssl_server.py as a user starts it; (process, the lines up to 'listening on')."""
    proc = subprocess.Popen([sys.executable, "host_tools/ssl_server.py", *args], cwd=TOP,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if "listening on" in line:
            return proc, lines
    proc.wait(timeout=30)
    raise AssertionError(f"ssl_server did not start: {lines}")


def _port_of(lines) -> int:
    return int(lines[-1].split("listening on 127.0.0.1:")[1].split()[0])


def test_first_run_without_pki_makes_it_and_serves(tmp_path):
    """A fresh clone: no lab PKI yet, no arguments but a free port. The server makes the
    PKI (saying so in one line) and serves with it, as ST's ssl_server.exe just runs."""
    out = tmp_path / "pki"
    env = {**os.environ, "STM32LAB_CERTS": str(out)}
    proc, lines = _start_cli("--port", "0", env=env)
    try:
        made = [line for line in lines if "no test PKI" in line]
        assert made == [f"ssl_server: no test PKI in {out} yet: making it (as python "
                        f"host_tools/certs.py does)"], lines
        assert certs.check_pki(out) == []
        protocol, _, response = py_get(out, _port_of(lines))
        assert response.startswith(b"HTTP/1.0 200 OK\r\n") and protocol == "TLSv1.3"
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0 and "stopped after 1 connection(s)" in rest


def test_existing_pki_is_used_as_it_is(pki, monkeypatch, capsys):
    monkeypatch.setenv("STM32LAB_CERTS", str(pki))
    before = {f.name: f.stat().st_mtime_ns for f in pki.iterdir()}
    server = SslServer(port=0, echo=False)
    assert server.pki_made == [] and server.identity.cert == pki / "server-rsa.pem"
    assert {f.name: f.stat().st_mtime_ns for f in pki.iterdir()} == before


# --- --legacy: ST's original PolarSSL 1.x firmware ------------------------------------------

def test_legacy_serves_tls1_with_1024_bit_dhe_to_openssl(serve, pki):
    """What ST's PolarSSL 1.x client offers: TLS 1.0, DHE-RSA-AES256-SHA, a 1024-bit group."""
    server = serve(legacy=True)
    r = s_client(pki, server.port, "-tls1", "-cipher", "DHE-RSA-AES256-SHA@SECLEVEL=0")
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out + r.stderr.decode(errors="replace")
    assert "Protocol  : TLSv1\n" in out and "Cipher    : DHE-RSA-AES256-SHA" in out
    assert "Server Temp Key: DH, 1024 bits" in out
    assert "Successful connection using: TLS_DHE_RSA_WITH_AES_256_CBC_SHA" in out
    conn = server.wait_for_connections(1, timeout=10)[0]
    assert conn.ok and conn.protocol == "TLSv1" and conn.cipher_openssl == "DHE-RSA-AES256-SHA"


def test_legacy_serves_tls1_1_to_python_ssl(serve, pki):
    server = serve(legacy=True)
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    ctx.set_ciphers("DHE-RSA-AES256-SHA:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="ssl-server.lab") as tls:
            assert (tls.version(), tls.cipher()[0]) == ("TLSv1.1", "DHE-RSA-AES256-SHA")
            tls.sendall(REQUEST)
            assert tls.recv(4096).startswith(b"HTTP/1.0 200 OK")
    assert server.wait_for_connections(1, timeout=10)[0].ok


def test_without_legacy_a_tls1_client_is_refused(serve, pki):
    server = serve()
    r = s_client(pki, server.port, "-tls1", "-cipher", "DHE-RSA-AES256-SHA@SECLEVEL=0")
    assert r.returncode != 0
    conn = server.wait_for_connections(1, timeout=10)[0]
    assert not conn.ok and "no TLS version in common" in conn.error


def test_legacy_dh_group_is_rfc5114_1024(tmp_path):
    """The embedded group is OpenSSL's own RFC 5114 1024-bit MODP group (PolarSSL's
    default DHE group), not a typo of it."""
    from cryptography.hazmat.primitives.serialization import load_pem_parameters

    from host_tools.ssl_server import RFC5114_1024_PEM
    theirs = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DHX",
                             "-pkeyopt", "dh_rfc5114:1"], capture_output=True, check=True,
                            timeout=30).stdout
    ours = load_pem_parameters(RFC5114_1024_PEM).parameter_numbers()
    want = load_pem_parameters(theirs).parameter_numbers()
    assert (ours.p, ours.g) == (want.p, want.g) and ours.p.bit_length() == 1024


def test_legacy_is_loudly_insecure_even_when_quiet(pki):
    proc, lines = _start_cli("--legacy", "--port", "0", "--cert", str(pki / "server-rsa.pem"))
    try:
        assert any("INSECURE LEGACY MODE" in line for line in lines), lines
        summary = proc.stdout.readline()
        assert "TLSv1-TLSv1.2" in summary and "LEGACY: 1024-bit DHE" in summary
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    quiet = subprocess.run([sys.executable, "host_tools/ssl_server.py", "--legacy", "-q",
                            "--port", "0", "--cert", str(pki / "server-rsa.pem"),
                            "--tls-min", "1.3", "--tls-max", "1.2"],
                           cwd=TOP, capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 1 and "INSECURE LEGACY MODE" in quiet.stderr


def test_tls1_needs_legacy(pki, capsys):
    err = _run_main(capsys, "--port", "0", "--cert", str(pki / "server-rsa.pem"),
                    "--tls-min", "1.0")
    assert "--tls-min 1.0 needs --legacy" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.0.1", "10.1.2.3", "::", "example.com"])
def test_non_loopback_host_is_refused(pki, capsys, host):
    err = _run_main(capsys, "--host", host, "--port", "0",
                    "--cert", str(pki / "server-rsa.pem"))
    assert "loopback" in err


@pytest.mark.parametrize("ciphers, says", [
    ("NO-SUCH-SUITE", "selects no cipher suite"),
    ("TLS_AES_128_GCM_SHA256", "TLS 1.3 suites"),
])
def test_bad_cipher_lists_are_refused(pki, capsys, ciphers, says):
    err = _run_main(capsys, "--port", "0", "--ciphers", ciphers,
                    "--cert", str(pki / "server-rsa.pem"))
    assert says in err


def test_listens_on_ipv6_loopback(pki):
    server = SslServer(pki / "server-rsa.pem", host="::1", port=0, echo=False).start()
    try:
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        with socket.create_connection(("::1", server.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(REQUEST)
                assert b"Successful connection" in tls.recv(4096) + tls.recv(4096)
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["script", "module"])
def test_runs_as_script_and_module(how):
    cmd = [sys.executable, "host_tools/ssl_server.py"] if how == "script" else \
        [sys.executable, "-m", "host_tools.ssl_server"]
    r = subprocess.run(cmd + ["--help"], cwd=TOP, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for option in ("--cert", "--require-client-cert", "--tls-min", "--ciphers",
                   "--connections", "--log"):
        assert option in r.stdout
