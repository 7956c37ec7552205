"""The board applications against hostile, slow and many peers (issue 10), on the real
firmware in our QEMU: the HTTPS server survives malformed input at every layer and serves
clients concurrently within a per-connection deadline, the SSL client streams and checks
replies of any size, client-certificate modes behave as CPython's, sessions resume on both
roles, and a task that still fails is restarted by the supervisor.

The PC side runs on 127.0.0.1 only (hostfwd to the board's 443, guestfwd for the board's
connections to 192.168.0.1:443); QEMU's user-mode network runs with restrict=on.
Nothing here asserts on wall time: the per-connection deadline is shown by the order of the
board's console lines (a normal client is served before the slow ones are closed), LED4 by
its toggles seen through QMP.
"""

import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

from host_tools import hostile_peers as hp
from host_tools.ssl_client import FetchError, fetch
from host_tools.ssl_server import FFDHE2048_PEM
from lab_firmware import BOOT_TIMEOUT, PROMPT, AppBoard, build_firmware, page_value, wait_led

STEP = 90           # s: a step that includes TLS handshakes on the emulated CPU
NAME = "stm32-board.lab"


def server_config(pki, **extra):
    cfg = {"role": "server", "cert": pki / "board-rsa.pem", "key": pki / "board-rsa.key.pem"}
    cfg.update(extra)
    return cfg


def start_server(firmware_elf, qemu, pki, machine=None, elf=None, **extra):
    opts = {"machine": machine} if machine else {}
    b = AppBoard(elf or firmware_elf, qemu, hostfwd=["0:443"], config=server_config(pki, **extra),
                 **opts)
    try:
        b.expect("  . Waiting for a remote connection ...", BOOT_TIMEOUT)
    except BaseException:
        b.stop()
        raise
    b.port = b.board.forwarded_port(443)
    return b


@pytest.fixture
def server(firmware_elf, qemu, pki):
    boards = []

    def start(**extra):
        b = start_server(firmware_elf, qemu, pki, **extra)
        boards.append(b)
        return b

    yield start
    for b in boards:
        b.stop()


def get(b, pki, **kw):
    return fetch(f"https://127.0.0.1:{b.port}/", ca=pki / "ca.pem", timeout=STEP, **kw)


def console(b) -> str:
    return b.con.seen.decode(errors="replace").replace("\r\n", "\n")


def assert_never_stopped(b):
    """No traceback, no drop to the REPL, no reset, no supervisor restart on the console."""
    out = console(b)
    assert "Traceback" not in out, out[-3000:]
    assert out.count("SSL/TLS lab: SSL server") == 1, "the board restarted:\n" + out[-3000:]
    assert "MicroPython v1." not in out and ">>> " not in out, out[-3000:]
    assert "supervisor:" not in out, out[-3000:]


# --- hostile peers (host_tools/hostile_peers.py) --------------------------------------------------

def case(name, pki):
    return lambda port: hp.CASES[name].run(port, pki / "ca.pem")


# --- hostile input to the HTTPS server -----------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(firmware_elf, qemu, pki):
    """One board for the whole hostile sequence: every case must leave it serving."""
    b = start_server(firmware_elf, qemu, pki, deadline=8)
    yield b
    b.stop()


def run_case(b, pki, action, expect):
    """Do something hostile, check the board's one-line reason for it, then check that a
    normal client is served and nothing stopped."""
    result = action(b.port)
    out = b.expect(re.compile(expect.encode()), STEP)
    r = get(b, pki)
    assert r.status == 200 and b"Page hits" in r.body, r
    b.expect("  > Write to client: Successfully write", STEP)
    assert_never_stopped(b)
    return result, out


def test_invalid_utf8_in_request_line_gets_400(hostile, pki):
    reply, out = run_case(hostile, pki, case("invalid-utf8-line", pki),
                          r"  ! #\d+ from [\d.:]+: answered 400 Bad Request")
    assert reply.startswith(b"HTTP/1.0 400 Bad Request\r\n"), reply[:200]
    # the console shows the bytes escaped, not decoded
    assert " GET /\\xff\\xfe\\xc3( HTTP/1.0" in out, out


def test_invalid_utf8_in_headers_is_served(hostile, pki):
    reply, _ = run_case(hostile, pki, case("invalid-utf8-header", pki),
                        r"  > Write to client: Successfully write \d+ bytes")
    assert reply.startswith(b"HTTP/1.0 200 OK\r\n"), reply[:200]


def test_binary_garbage_inside_tls_gets_400(hostile, pki):
    reply, _ = run_case(hostile, pki, case("garbage-in-tls", pki),
                        r"  ! #\d+ from [\d.:]+: answered 400 Bad Request")
    assert reply.startswith(b"HTTP/1.0 400 Bad Request\r\n"), reply[:200]


def test_binary_garbage_after_the_handshake_is_one_line(hostile, pki):
    reply, out = run_case(hostile, pki, case("garbage-after-handshake", pki),
                          r"  ! #\d+ from [\d.:]+: reading the request: SSLError -0x[0-9a-f]+: "
                          r"MBEDTLS_ERR_SSL_\w+\r?\n")


def test_64k_request_line_gets_414(hostile, pki):
    reply, _ = run_case(hostile, pki, case("64k-line", pki),
                        r"  ! #\d+ from [\d.:]+: answered 414 URI Too Long")
    assert reply.startswith(b"HTTP/1.0 414 URI Too Long\r\n"), reply[:200]


def test_truncated_client_hello(hostile, pki):
    hello = hp.client_hello()
    assert hello[0] == 0x16 and len(hello) > 200
    run_case(hostile, pki, case("truncated-hello", pki),
             r"  \. Performing the SSL/TLS handshake\.\.\. failed\r?\n  ! #\d+ from [\d.:]+: "
             r"mbedtls_ssl_handshake returned -0x[0-9a-f]+: \S")


def test_connection_closed_at_once_is_done_at_once(hostile, pki):
    # its FIN may arrive before the board accepts it; it is not left to the deadline
    run_case(hostile, pki, case("closed-at-once", pki),
             r"  \. Performing the SSL/TLS handshake\.\.\. failed\r?\n  ! #\d+ from [\d.:]+: "
             r"mbedtls_ssl_handshake returned -0x7280: MBEDTLS_ERR_SSL_CONN_EOF")


def test_record_header_announcing_16k_then_silence(hostile, pki):
    # the board closes it at the connection's deadline (8 s here) and says so
    run_case(hostile, pki, case("header-then-silence", pki),
             r"  ! #\d+ from [\d.:]+: closed after the 8 s deadline \(handshake\)")


@pytest.mark.parametrize("name", ["sslv3", "tls1.0"])
def test_old_protocol_hello_gets_a_protocol_version_alert(hostile, pki, name):
    reply, _ = run_case(hostile, pki, case(name, pki),
                        r"  ! #\d+ from [\d.:]+: mbedtls_ssl_handshake returned -0x6e80: \S")
    # a TLS alert record, fatal, protocol_version (70)
    assert reply[:1] == b"\x15" and reply[5:7] == b"\x02\x46", reply


def test_openssl_tls1_client_is_refused(hostile, pki):
    def attempt(port):
        return subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1",
             "-cipher", "DEFAULT@SECLEVEL=0"], input=b"", capture_output=True, timeout=STEP)
    r, _ = run_case(hostile, pki, attempt, r"mbedtls_ssl_handshake returned -0x6e80")
    assert r.returncode != 0 and b"alert protocol version" in r.stderr, r.stderr[-500:]


# --- many clients, slow clients ----------------------------------------------------------------------

class LedWatch:
    """Samples an LED through QMP in a thread; counts its toggles."""

    def __init__(self, board, name="led4"):
        self.board, self.name = board, name
        self.toggles = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        last = self.board.led(self.name)
        while not self.stop.is_set():
            now = self.board.led(self.name)
            self.toggles += now != last
            last = now
            time.sleep(0.02)

    def finish(self) -> int:
        self.stop.set()
        self.thread.join(5)
        return self.toggles


def test_fifty_clients_at_once_are_all_served(server, pki):
    b = server()
    m = re.search(r"  \. Concurrency: (\d+) TLS sessions? at once", console(b))
    assert m, console(b)
    sessions = int(m.group(1))
    assert sessions >= 1
    results, errors = {}, {}

    def one(i):
        try:
            results[i] = get(b, pki, )
        except FetchError as e:
            errors[i] = str(e)

    led = LedWatch(b.board)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    toggles = led.finish()
    assert not errors, (errors, [line for line in console(b).splitlines() if "  ! #" in line])
    assert sorted(r.status for r in results.values()) == [200] * 50
    hits = sorted(int(page_value(r.body, "Page hits")) for r in results.values())
    assert hits == list(range(1, 51)), hits
    assert toggles >= 10, f"LED4 toggled {toggles} times while 50 clients were served"
    for _ in range(50):
        b.expect("  > Write to client: Successfully write", STEP)
    b.con.quiet_for(1)
    out = console(b)
    assert out.count("  > Write to client: Successfully write") == 50
    assert "  ! #" not in out, [line for line in out.splitlines() if "  ! #" in line]
    assert_never_stopped(b)


def test_silent_and_slow_clients_do_not_hold_up_a_normal_one(server, pki):
    b = server(deadline=20)
    board = b.board
    led = LedWatch(board)
    silent = hp.silent("127.0.0.1", b.port, 5)
    stop = threading.Event()
    slow = threading.Thread(target=hp.slow_client, args=("127.0.0.1", b.port, stop), daemon=True)
    try:
        for n in range(1, 6):
            b.expect(f"  . Waiting for a remote connection ... ok (#{n} from", STEP)
        slow.start()
        b.expect("  . Waiting for a remote connection ... ok (#6 from", STEP)
        # the link task still reports cable changes, with LED3/LED2
        board.link_down()
        b.expect("  The network cable is not connected", STEP)
        assert wait_led(board, "led3", True)
        board.link_up()
        b.expect("  The network cable is now connected", STEP)
        b.expect("  Static IP address: 192.168.0.10", STEP)
        assert wait_led(board, "led2", True)
        # a normal client is served while the slow ones still hold their connections
        r = get(b, pki)
        assert r.status == 200
        assert r.elapsed < 20, f"the normal client waited {r.elapsed:.1f} s, past the deadline"
        served = b.expect("  > Write to client: Successfully write", STEP)
        assert "deadline" not in served, served
        # then each slow one is closed at its deadline, with a line saying so
        out = ""
        for _ in range(6):
            out += b.expect(re.compile(rb"  ! #\d from [\d.:]+: closed after the 20 s deadline"
                                       rb" \([a-zA-Z ]+\)"), STEP)
        for n in range(1, 6):
            assert re.search(rf"#{n} from [\d.:]+: closed after the 20 s deadline \(waiting for "
                             rf"the ClientHello\)", out), out
        assert re.search(r"#6 from [\d.:]+: closed after the 20 s deadline \(handshake\)", out), out
    finally:
        stop.set()
        for s in silent:
            s.close()
    toggles = led.finish()
    assert toggles >= 20, f"LED4 toggled only {toggles} times"
    assert get(b, pki).status == 200
    assert_never_stopped(b)


# --- client certificates --------------------------------------------------------------------------

def alert_for(port, pki, cert=None, tls_max="1.3") -> str:
    """The TLS alert (OpenSSL's reason) a Python client gets from the board with an
    optional client certificate, during the handshake or the request that follows it (with
    TLS 1.3 the client finishes its side before the server has checked its certificate)."""
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    ctx.maximum_version = getattr(ssl.TLSVersion, "TLSv1_" + tls_max[-1])
    if cert:
        ctx.load_cert_chain(pki / f"{cert}.pem", pki / f"{cert}.key.pem")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
            with ctx.wrap_socket(raw, server_hostname=NAME) as t:
                t.sendall(b"GET / HTTP/1.0\r\n\r\n")
                while t.recv(4096):
                    pass
    except ssl.SSLError as e:
        return e.reason
    except ConnectionResetError:
        return "connection reset"
    return "served"


def alerts_together(port, pki, n, tls_max="1.3") -> list:
    """alert_for's outcomes for n clients at once: each sends its request only when all n
    handshakes are over (done or failed), so their TLS sessions overlap."""
    barrier = threading.Barrier(n)
    results = ["no result"] * n

    def one(i):
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        ctx.maximum_version = getattr(ssl.TLSVersion, "TLSv1_" + tls_max[-1])
        waited = False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=STEP) as raw:
                with ctx.wrap_socket(raw, server_hostname=NAME) as t:
                    waited = True
                    _wait(barrier)
                    t.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    while t.recv(4096):
                        pass
            results[i] = "served"
        except ssl.SSLError as e:
            results[i] = e.reason
        except ConnectionResetError:
            results[i] = "connection reset"
        except OSError as e:
            results[i] = f"{type(e).__name__}: {e}"
        finally:
            if not waited:
                _wait(barrier)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * STEP)
    return results


def _wait(barrier):
    try:
        barrier.wait(STEP)
    except threading.BrokenBarrierError:
        pass


def test_optional_client_certificate_modes_like_cpython(server, pki):
    b = server(client_auth="optional", ca=pki / "ca.pem")
    for tls_max in ("1.2", "1.3"):
        # no certificate, or one that verifies: served
        assert alert_for(b.port, pki, tls_max=tls_max) == "served"
        assert alert_for(b.port, pki, "client-rsa", tls_max) == "served"
        # a presented certificate that does not verify: refused with the alert for it
        for stem, alert, reason in (
                ("untrusted", "TLSV1_ALERT_UNKNOWN_CA", "not correctly signed by the trusted CA"),
                ("expired", "SSLV3_ALERT_CERTIFICATE_EXPIRED", "validity has expired")):
            assert alert_for(b.port, pki, stem, tls_max) == alert, (stem, tls_max)
            b.expect(re.compile(rf"  ! #\d+ from [\d.:]+: the client certificate was refused: "
                                rf"[^\n]*{reason}".encode()), STEP)
    assert get(b, pki).status == 200
    assert_never_stopped(b)


@pytest.mark.parametrize("tls_max, alert", [("1.2", "SSLV3_ALERT_HANDSHAKE_FAILURE"),
                                            ("1.3", "TLSV13_ALERT_CERTIFICATE_REQUIRED")])
def test_required_client_certificate_missing_gets_an_alert(server, pki, tls_max, alert):
    b = server(client_auth="required", ca=pki / "ca.pem")
    assert alert_for(b.port, pki, tls_max=tls_max) == alert     # not a reset
    b.expect("  . Performing the SSL/TLS handshake... failed", STEP)
    assert alert_for(b.port, pki, "client-ec", tls_max) == "served"
    assert_never_stopped(b)


# --- session resumption, both roles ------------------------------------------------------------

def s_client(port, pki, *args, data=b""):
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(pki / "ca.pem"),
         "-verify_hostname", NAME, "-verify_return_error", *args],
        input=data, capture_output=True, timeout=STEP * 3)


def test_server_resumes_tls12_sessions_for_openssl_reconnect(server, pki):
    b = server()
    out = s_client(b.port, pki, "-reconnect", "-tls1_2").stdout.decode(errors="replace")
    # the first handshake is new, the 5 reconnects resume it
    assert out.count("New, TLSv1.2") == 1 and out.count("Reused, TLSv1.2") == 5, out[-3000:]
    for _ in range(5):
        b.expect("  . Resuming SSL session... ok", STEP)
    assert_never_stopped(b)


def test_server_resumes_tls13_sessions_with_its_tickets(server, pki, tmp_path):
    # (s_client -reconnect does not wait for TLS 1.3 tickets; -sess_out/-sess_in do)
    b = server()
    sess = tmp_path / "session.pem"
    first = s_client(b.port, pki, "-tls1_3", "-ign_eof", "-sess_out", str(sess),
                     data=b"GET / HTTP/1.0\r\n\r\n")
    assert b"New, TLSv1.3" in first.stdout and sess.exists(), first.stdout[-2000:]
    second = s_client(b.port, pki, "-tls1_3", "-ign_eof", "-sess_in", str(sess),
                      data=b"GET / HTTP/1.0\r\n\r\n")
    assert b"Reused, TLSv1.3" in second.stdout, second.stdout[-2000:]
    assert b"<p>Session: resumed</p>" in second.stdout
    b.expect("  . Resuming SSL session... ok", STEP)
    assert console(b).count("  . Resuming SSL session... ok") == 1
    assert_never_stopped(b)


class ReplyServer:
    """A PC HTTPS server on 127.0.0.1 for the board as client: each connection gets the next
    behaviour from the list (a function of the TLS socket); records the handshakes."""

    def __init__(self, pki, behaviours, tls_max=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki / "server-rsa.pem", pki / "server-rsa.key.pem")
        # DH parameters, without which Python's ssl can choose no DHE suite (ST's suite)
        dh = pki / "ffdhe2048.pem"
        dh.write_bytes(FFDHE2048_PEM)
        self.ctx.load_dh_params(str(dh))
        if tls_max:
            self.ctx.maximum_version = getattr(ssl.TLSVersion, "TLSv1_" + tls_max[-1])
        self.behaviours = list(behaviours)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(1)
        self.port = self.sock.getsockname()[1]
        self.reused, self.versions, self.errors = [], [], []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        n = 0
        while not self.done.is_set() and n < len(self.behaviours):
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            conn.settimeout(STEP)
            try:
                tls = self.ctx.wrap_socket(conn, server_side=True)
                self.reused.append(tls.session_reused)
                self.versions.append(tls.version())
                req = b""
                while b"\r\n\r\n" not in req:
                    chunk = tls.recv(1024)
                    if not chunk:
                        break
                    req += chunk
                self.behaviours[n](tls)
            except (OSError, ssl.SSLError) as e:
                self.errors.append(e)
                conn.close()
            n += 1

    def stop(self):
        self.done.set()
        self.thread.join(5)
        self.sock.close()


def page(body: bytes, length=True) -> bytes:
    head = b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
    if length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def reply_whole(data):
    def send(tls):
        tls.sendall(data)
        tls.unwrap().close()        # close_notify, then the TCP close
    return send


def reply_cut(data, keep):
    def send(tls):
        tls.sendall(data[:keep])
        tls.close()                 # TCP close without close_notify
    return send


@pytest.fixture
def client_board(firmware_elf, qemu, pki):
    started = []

    def start(srv, **extra):
        cfg = {"role": "client", "ca": pki / "ca.pem", "period": 2}
        cfg.update(extra)
        b = AppBoard(firmware_elf, qemu, guestfwd=[f"443:{srv.port}"], config=cfg)
        started.append((b, srv))
        return b

    yield start
    for b, srv in started:
        b.stop()
        srv.stop()


def test_client_streams_64k_and_binary_replies_and_reports_a_cut_one(client_board, pki):
    big = page(os.urandom(32) + b"x" * (65536 - 32))
    binary = page(bytes(range(256)) * 16)
    cut = page(b"y" * 4041)
    head_len = len(cut) - 4041
    srv = ReplyServer(pki, [reply_whole(big), reply_whole(binary), reply_cut(cut, head_len + 1041)])
    b = client_board(srv)
    out = b.expect("  . Connection #1 done", STEP)
    assert f"  < Read from server: {len(big)} bytes read\n" in out, out[-2000:]
    assert f"  [ {len(big) - 1024} more bytes not shown ]" in out, out[-2000:]
    out = b.expect("  . Connection #2 done", STEP)
    assert f"  < Read from server: {len(binary)} bytes read\n" in out, out[-2000:]
    assert "\\x00\\x01\\x02" in out and "\\xff" in out, out[-2000:]
    out = b.expect("  ! Connection #3 failed; the SSL client tries again in 2 s", STEP)
    assert (f"  ! the reply was cut short: {head_len + 1041} bytes read of {len(cut)} "
            f"(Content-Length 4041); the server closed the connection") in out, out[-2000:]
    assert "Connection #3 done" not in out
    out = console(b)
    assert "Traceback" not in out and "MicroPython v1." not in out, out[-3000:]
    assert not srv.errors, srv.errors


def test_client_needs_close_notify_without_content_length_and_has_a_cap(client_board, pki):
    body = b"z" * 3000
    srv = ReplyServer(pki, [reply_whole(page(body, length=False)),
                            reply_cut(page(body, length=False), 2500),
                            reply_whole(page(os.urandom(20000)))])
    b = client_board(srv, max_reply=10000)
    b.expect("  . Connection #1 done", STEP)
    out = b.expect("  ! Connection #2 failed", STEP)
    assert ("  ! the reply was cut short: 2500 bytes, then the server closed the connection "
            "without close_notify") in out, out[-2000:]
    out = b.expect("  ! Connection #3 failed", STEP)
    assert "  ! the reply is larger than max_reply=10000 bytes: stopped after" in out, out[-2000:]


@pytest.mark.parametrize("tls_max", ["1.3", "1.2"])
def test_client_resumes_its_session(client_board, pki, tls_max):
    reply = reply_whole(page(b"hello"))
    srv = ReplyServer(pki, [reply] * 3, tls_max=tls_max)
    b = client_board(srv)
    first = b.expect("  . Connection #1 done", STEP)
    assert "Resuming SSL session" not in first
    second = b.expect("  . Connection #2 done", STEP)
    assert "  . Resuming SSL session... ok\n" in second, second
    assert f"    [ Protocol is TLSv{tls_max} ]" in second
    b.expect("  . Connection #3 done", STEP)
    assert srv.reused[:3] == [False, True, True], srv.reused
    assert srv.versions[0] == f"TLSv{tls_max}"


# --- ST's original suite by configuration, memory refusals -----------------------------------

def test_st_original_suite_by_configuration_on_both_roles(hostile, server, client_board, pki):
    """DHE-RSA-AES256-SHA (ST's demo) is not offered by default, but the config sector's
    tls_max/ciphers bring it back on either role."""
    # the board with its default suites refuses a client that offers only ST's suite
    with pytest.raises(FetchError, match="handshake failure"):
        get(hostile, pki, ciphers="DHE-RSA-AES256-SHA")
    b = server(tls_max="1.2", ciphers="DHE-RSA-AES256-SHA")
    # (Python's default suites leave out SHA-1 suites, so the client offers an AEAD suite
    # first and ST's suite after it: the board takes the one it is configured for)
    r = get(b, pki, ciphers="ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-SHA")
    assert r.status == 200 and r.cipher == "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", r
    b.expect("    [ Ciphersuite is TLS-DHE-RSA-WITH-AES-256-CBC-SHA ]", STEP)
    srv = ReplyServer(pki, [reply_whole(page(b"st"))], tls_max="1.2")
    srv.ctx.set_ciphers("DHE-RSA-AES256-SHA")
    c = client_board(srv, tls_max="1.2", ciphers="DHE-RSA-AES256-SHA")
    out = c.expect("  . Connection #1 done", STEP)
    assert "    [ Ciphersuite is TLS-DHE-RSA-WITH-AES-256-CBC-SHA ]" in out, out


def test_server_refuses_politely_when_mbedtls_runs_out_of_memory(server, pki):
    """More sessions configured than the heap holds: a session that cannot get memory ends
    in a TLS alert (internal_error) and one console line, not a reset; the board goes on."""
    b = server(sessions=4)
    out = console(b)
    assert "Concurrency: 4 TLS sessions at once (sessions=4 in the configuration" in out, out
    fit = int(re.search(r"  ! the heap holds (\d+) TLS sessions?; the others", out).group(1))
    assert fit < 4, out
    reasons = alerts_together(b.port, pki, 4)
    assert "TLSV1_ALERT_INTERNAL_ERROR" in reasons, reasons
    assert "connection reset" not in reasons, reasons
    assert reasons.count("served") >= fit, reasons
    b.expect(re.compile(rb"  ! #\d+ from [\d.:]+: refused, not enough memory for a TLS session "
                        rb"now \((MemoryError|OSError ENOMEM)[^\n]*free heap \d+ bytes\)"), STEP)
    assert_never_stopped(b)


# --- the supervisor ------------------------------------------------------------------------------

def test_supervisor_restarts_a_task_that_dies(firmware_elf, qemu, pki):
    b = AppBoard(firmware_elf, qemu, hostfwd=["0:443"], config={"role": "repl"})
    try:
        b.expect("boardcfg: role repl", BOOT_TIMEOUT)
        b.con.expect(PROMPT, 10)
        cert = (pki / "board-rsa.pem").read_text()
        key = (pki / "board-rsa.key.pem").read_text()
        b.con.paste(f"CERT = {cert!r}\nKEY = {key!r}")
        b.con.write(b"\x05")
        b.con.expect(b"=== ")
        code = """
import demo, demo_server
real = demo_server.task
calls = []
async def flaky(board):
    calls.append(1)
    if len(calls) == 1:
        raise RuntimeError('injected failure')
    await real(board)
demo_server.task = flaky
demo.run('server', cert=CERT, key=KEY)
"""
        b.con.write(code.strip("\n").replace("\n", "\r").encode() + b"\r\x04")
        b.expect("  ! supervisor: the SSL server task failed: RuntimeError: injected failure; "
                 "restarting it (restart #1)", STEP)
        b.expect("  . Waiting for a remote connection ...", STEP)
        b.port = b.board.forwarded_port(443)
        assert get(b, pki).status == 200
        assert "Traceback" not in console(b)
    finally:
        b.stop()


# --- hardware offload on the TLS 1.3 path --------------------------------------------------------

def counter(board, block):
    return board.engine.qmp("qom-get", path=f"/machine/soc/{block}", property="blocks")


@pytest.mark.parametrize("machine, hw", [("stm324xg-eval", 1), ("stm324x9i-eval", 1),
                                         ("stm324xg-eval", 0)])
def test_tls13_server_uses_the_crypto_peripherals(qemu, pki, machine, hw):
    elf = build_firmware(machine, hw)
    b = start_server(elf, qemu, pki, machine=machine, elf=elf)
    try:
        cryp, hash_ = counter(b.board, "cryp"), counter(b.board, "hash")
        r = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{b.port}", "-CAfile",
             str(pki / "ca.pem"), "-verify_hostname", NAME, "-verify_return_error", "-tls1_3",
             "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-ign_eof", "-quiet"],
            input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True, timeout=STEP)
        assert b"Page hits: 1" in r.stdout, r.stderr[-500:]
        b.expect("    [ Ciphersuite is TLS-AES-128-GCM-SHA256 ]", STEP)
        d_cryp = counter(b.board, "cryp") - cryp
        d_hash = counter(b.board, "hash") - hash_
        if not hw:
            assert d_cryp == 0 and d_hash == 0, (d_cryp, d_hash)
        else:
            assert d_cryp > 50, f"AES-GCM records of TLS 1.3 did not reach the CRYP ({d_cryp})"
            if machine == "stm324x9i-eval":
                assert d_hash > 20, f"SHA-256 of TLS 1.3 did not reach the HASH ({d_hash})"
            else:
                assert d_hash == 0, "the STM32F417's HASH has no SHA-256"
    finally:
        b.stop()
