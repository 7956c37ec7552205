"""host_tools/ssl_client.py against the lab's ssl_server and `openssl s_server` on 127.0.0.1."""

import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from host_tools import certs
from host_tools.ssl_client import FetchError, fetch, main
from host_tools.ssl_server import SslServer

TOP = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    assert certs.main(["--out", str(out), "-q"]) == 0
    return out


@pytest.fixture
def lab_env(pki, monkeypatch):
    """Make the test PKI the tools' default (certs/out is not touched)."""
    monkeypatch.setenv("STM32LAB_CERTS", str(pki))
    return pki


@pytest.fixture
def server(pki):
    servers = []

    def start(**kw):
        s = SslServer(pki / "server-rsa.pem", ca=pki / "ca.pem", port=0, echo=False,
                      timeout=5, **kw).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s_server(pki):
    """Run `openssl s_server -www` (the board's stand-in) with a given certificate."""
    procs = []

    def start(stem="board-rsa", *args):
        port = free_port()
        proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-www", "-naccept", "5",
             "-cert", str(pki / f"{stem}.pem"), "-key", str(pki / f"{stem}.key.pem"), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(proc)
        # s_server prints ACCEPT once it listens.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if b"ACCEPT" in line:
                return port
            if not line:
                break
        raise AssertionError("openssl s_server did not start")

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("tls_max", ["1.2", "1.3"])
def test_prints_status_protocol_cipher_cert_and_page(lab_env, server, capsys, tls_max):
    srv = server(tls_max=tls_max)
    rc, out, err = run(capsys, f"https://127.0.0.1:{srv.port}/", "--servername",
                       "ssl-server.lab")
    assert rc == 0, err
    conn = srv.wait_for_connections(1, timeout=10)[0]
    assert "  HTTP/1.0 200 OK" in out
    assert f"  protocol:     TLSv{tls_max}" in out
    assert f"  cipher suite: {conn.cipher}" in out
    assert "  server cert:  CN=ssl-server.lab,O=STM32 TLS Lab (test only), issued by " \
           "CN=STM32 TLS Lab Test CA" in out
    assert "verified against" in out
    assert f"Successful connection using: {conn.cipher}" in out
    assert conn.server_name == "ssl-server.lab"


def test_quiet_prints_the_body_only(lab_env, server, capsys):
    srv = server()
    rc, out, _ = run(capsys, srv.port, "--servername", "localhost", "-q")
    assert rc == 0
    assert out.startswith("<!DOCTYPE html>") and "protocol:" not in out


@pytest.mark.parametrize("stem", ["board-rsa", "board-ec"])
def test_fetch_from_openssl_s_server_checks_the_board_name(pki, s_server, stem):
    port = s_server(stem)
    result = fetch(f"127.0.0.1:{port}", ca=pki / "ca.pem", timeout=10)   # default name
    assert result.status == 200 and result.verified
    assert result.server_name == "stm32-board.lab"
    assert result.server_subject.startswith("CN=stm32-board.lab")
    assert result.protocol == "TLSv1.3" and result.cipher.startswith("TLS_")
    assert "s_server" in result.text         # openssl's -www status page


@pytest.mark.parametrize("stem, says", [
    ("expired", "server certificate rejected by the validity check: certificate has expired"),
    ("wrong-host", "server certificate rejected by the hostname check: Hostname mismatch, "
                   "certificate is not valid for 'stm32-board.lab'"),
    ("untrusted", "server certificate rejected by the issuer check: unable to get local "
                  "issuer certificate"),
])
def test_verification_failures_say_which_check(lab_env, s_server, capsys, stem, says):
    port = s_server(stem)
    rc, out, err = run(capsys, f"https://127.0.0.1:{port}/")
    assert rc == 1 and out == ""
    assert err.startswith(f"ssl_client: {says}") and err.count("\n") == 1


def test_insecure_skips_verification_only_when_asked(lab_env, s_server, capsys):
    port = s_server("untrusted")
    assert run(capsys, port)[0] == 1
    rc, out, _ = run(capsys, port, "--insecure")
    assert rc == 0
    assert "NOT verified (--insecure)" in out and "issued by CN=STM32 TLS Lab Untrusted CA" in out


def test_connection_refused_says_to_start_the_board(lab_env, capsys):
    port = free_port()
    rc, _, err = run(capsys, f"127.0.0.1:{port}")
    assert rc == 1
    assert err.startswith(f"ssl_client: nothing listens on 127.0.0.1:{port}; start the board "
                          f"with --hostfwd {port}:443")


def _silent_listener(close_at_once: bool):
    """A TCP listener that accepts and then says nothing (or hangs up at once)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        if close_at_once:
            conn.close()
        else:
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return listener, held


def test_timeout_is_bounded_and_reported(lab_env, capsys):
    listener, held = _silent_listener(close_at_once=False)
    try:
        started = time.monotonic()
        rc, _, err = run(capsys, listener.getsockname()[1], "--timeout", "0.5")
        assert time.monotonic() - started < 5
    finally:
        listener.close()
        for c in held:
            c.close()
    assert rc == 1
    assert "no answer from 127.0.0.1:" in err and "within 0.5 s during the TLS handshake" in err


def test_hang_up_during_handshake_is_reported(lab_env, capsys):
    """What QEMU's hostfwd does when nothing listens on the board's port."""
    listener, _ = _silent_listener(close_at_once=True)
    try:
        rc, _, err = run(capsys, listener.getsockname()[1])
    finally:
        listener.close()
    assert rc == 1 and "closed the connection during the TLS handshake" in err


@pytest.mark.parametrize("tls_max, without_cert_says", [
    ("1.2", "handshake failure"),
    ("1.3", "the server requires a client certificate; pass --cert FILE --key FILE"),
])
def test_client_certificate_authentication(pki, server, tls_max, without_cert_says):
    srv = server(require_client_cert=True, tls_max=tls_max)
    opts = dict(ca=pki / "ca.pem", server_name="ssl-server.lab", timeout=10)
    with pytest.raises(FetchError) as err:
        fetch(srv.port, **opts)
    assert without_cert_says in str(err.value)
    result = fetch(srv.port, cert=pki / "client-rsa.pem", **opts)   # key found next to it
    assert result.status == 200 and result.client_cert
    conns = srv.wait_for_connections(2, timeout=10)
    assert not conns[0].ok and conns[1].ok
    assert conns[1].client_cert.startswith("CN=stm32-lab-client")


def test_client_certificate_from_openssl_s_server(pki, s_server, capsys, lab_env):
    port = s_server("board-rsa", "-Verify", "1", "-CAfile", str(pki / "ca.pem"))
    rc, out, err = run(capsys, port, "--cert", pki / "client-ec.pem",
                       "--key", pki / "client-ec.key.pem")
    assert rc == 0, err
    assert "client cert:  " in out and "stm32-lab-client" in out   # s_server echoes it


def test_http_error_status_exits_1(lab_env, server, capsys):
    srv = server()
    rc, out, err = run(capsys, f"https://127.0.0.1:{srv.port}/missing", "--servername",
                       "localhost")
    assert rc == 1
    assert "  HTTP/1.0 404 Not Found" in out
    assert err == f"ssl_client: HTTP 404 Not Found from https://127.0.0.1:{srv.port}/missing\n"


def test_count_repeats_the_fetch(lab_env, server, capsys):
    srv = server()
    rc, out, _ = run(capsys, srv.port, "--servername", "localhost", "--count", "3",
                     "--interval", "0")
    assert rc == 0 and out.count("HTTP/1.0 200 OK") == 3
    assert len(srv.wait_for_connections(3, timeout=10)) == 3


@pytest.mark.parametrize("url, says", [
    ("https://192.168.0.10/", "192.168.0.10 is the board inside QEMU"),
    ("https://10.0.0.1:8443/", "'10.0.0.1' is not loopback"),
    ("example.com:443", "no name lookups"),
    ("http://127.0.0.1:8080/", "HTTPS only"),
])
def test_non_loopback_or_non_https_is_refused(lab_env, capsys, url, says):
    rc, _, err = run(capsys, url)
    assert rc == 1 and says in err and err.count("\n") == 1


def test_missing_default_ca_says_to_run_certs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STM32LAB_CERTS", str(tmp_path / "nothing"))
    rc, _, err = run(capsys, "8443")
    assert rc == 1 and "run 'python host_tools/certs.py'" in err


@pytest.mark.parametrize("how", ["script", "module"])
def test_runs_as_script_and_module(how):
    cmd = [sys.executable, "host_tools/ssl_client.py"] if how == "script" else \
        [sys.executable, "-m", "host_tools.ssl_client"]
    r = subprocess.run(cmd + ["--help"], cwd=TOP, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for option in ("--ca", "--servername", "--insecure", "--cert", "--count", "--quiet"):
        assert option in r.stdout


# --- an HTTP/0.9-style server (ST's PolarSSL SSL_Server application) -------------------------

PAGE_09 = (b"<h2>PolarSSL Test Server</h2>\r\n<TABLE cellspacing=\"0\" cellpadding=\"0\">\r\n"
           b"<p>Successful connection using: TLS-RSA-WITH-AES-256-CBC-SHA</p>\r\n")


@pytest.fixture
def http09_server(pki):
    """A TLS server that answers a request with the page alone: no status line, no
    headers, the end of the page is the close (as ST's SSL_Server firmware does)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "board-rsa.pem", pki / "board-rsa.key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    requests = []

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            with ctx.wrap_socket(conn, server_side=True) as tls:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += tls.recv(4096)
                requests.append(data)
                tls.sendall(PAGE_09[:20])        # in two records, as a slow board would
                tls.sendall(PAGE_09[20:])
                try:
                    tls.unwrap()
                except (ssl.SSLError, OSError):
                    pass                         # the client may close first

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], requests
    listener.close()


def test_http09_reply_is_shown_as_the_page(pki, http09_server, capsys):
    port, requests = http09_server
    result = fetch(f"https://127.0.0.1:{port}/", ca=pki / "ca.pem")
    assert result.http_version == "HTTP/0.9" and result.body == PAGE_09
    assert result.status == 200 and result.headers == []
    assert requests[0].startswith(b"GET / HTTP/1.1\r\n")
    assert main([str(port), "--ca", str(pki / "ca.pem")]) == 0
    out = capsys.readouterr().out
    assert "  HTTP/0.9 (HTTP/0.9-style reply: no status line or headers)\n" in out
    assert "Successful connection using: TLS-RSA-WITH-AES-256-CBC-SHA" in out
