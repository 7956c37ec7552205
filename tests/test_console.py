"""The UART console (host_tools/console.py): scripted and interactive sessions, the log,
the Python API, and the errors a user meets.

The "board" is a small fake in a thread: a TCP server on 127.0.0.1 (like the launcher's
socket console) or the master side of a pty pair (like ``board.py --pty``). It sends a
banner and answers every line it receives with ``echo: LINE``. One end-to-end test runs
the real emulated board with the bare-metal hello firmware.
"""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pexpect
import pytest

from host_tools.board import Board
from host_tools.console import (
    Console, ConsoleClosed, ConsoleError, ConsoleTimeout, check_url,
)
from lab_firmware import free_port

TOP = Path(__file__).resolve().parent.parent
CONSOLE_PY = TOP / "host_tools" / "console.py"
BANNER = b"hello from fake board\r\n"
RUN_TIMEOUT = 30          # bound on every console.py subprocess


# --- fake boards ------------------------------------------------------------------

class FakeBoard:
    """What every fake board does with the bytes it gets: record them, and answer each
    line (ended by CR or LF) with 'echo: LINE' unless silent."""

    url: str

    def __init__(self, banner: bytes = BANNER, silent: bool = False):
        self.banner = banner
        self.silent = silent
        self.received = bytearray()
        self._line = bytearray()
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.disconnected = threading.Event()

    def _handle(self, data: bytes) -> bytes:
        reply = bytearray()
        with self._lock:
            self.received += data
        for byte in data:
            if byte in b"\r\n":
                if self._line and not self.silent:
                    reply += b"echo: " + self._line + b"\r\n"
                self._line.clear()
            else:
                self._line.append(byte)
        return bytes(reply)

    def wait_received(self, data: bytes, timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if data in self.received:
                    return bytes(self.received)
            time.sleep(0.02)
        raise AssertionError(f"the board never received {data!r}; got {bytes(self.received)!r}")


class TcpBoard(FakeBoard):
    """The board's console as a TCP server on 127.0.0.1, one client at a time. It sends
    the banner as soon as a client connects, and optionally hangs up after it."""

    def __init__(self, hang_up: bool = False, listen_after: float = 0.0, **kw):
        super().__init__(**kw)
        self.hang_up = hang_up
        self._server = None
        if listen_after:
            self.port = free_port()      # listened on later, in the thread
        else:
            self._server = socket.create_server(("127.0.0.1", 0))
            self.port = self._server.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._client = None
        self._stop = threading.Event()
        self._listen_after = listen_after
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        if self._server is None:
            if self._stop.wait(self._listen_after):
                return
            self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.1)
        with self._server:
            while not self._stop.is_set():
                try:
                    client, _ = self._server.accept()
                except socket.timeout:
                    continue
                self._client = client
                self.connected.set()
                with client:
                    client.sendall(self.banner)
                    if self.hang_up:
                        client.shutdown(socket.SHUT_RDWR)
                    else:
                        self._talk(client)
                self.disconnected.set()

    def _talk(self, client: socket.socket) -> None:
        client.settimeout(0.1)
        while not self._stop.is_set():
            try:
                data = client.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            reply = self._handle(data)
            if reply:
                client.sendall(reply)

    def send(self, data: bytes) -> None:
        assert self.connected.wait(10), "no client connected to the fake board"
        self._client.sendall(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


class PtyBoard(FakeBoard):
    """The board's console on a pseudo-terminal: the console opens the slave path, the
    fake board reads and writes the master. A pty gives no connect event, so the banner
    is sent with send() once the console is known to be attached."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)          # no echo or line editing in the "cable"
        self.url = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            reply = self._handle(data)
            if reply:
                os.write(self.master, reply)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def tcp_board():
    board = TcpBoard()
    yield board
    board.close()


@pytest.fixture(params=["tcp", "pty"])
def any_board(request):
    board = TcpBoard() if request.param == "tcp" else PtyBoard()
    yield board
    board.close()


def run_console(*args, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CONSOLE_PY), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The error a user sees: exit status 1 and exactly one line on stderr."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("console: ")
    assert "Traceback" not in result.stderr
    return lines[0]


# --- command line ----------------------------------------------------------------------

@pytest.mark.parametrize("how", ["script", "module"])
def test_help_works_as_script_and_as_module(how):
    cmd = [sys.executable, str(CONSOLE_PY)] if how == "script" else \
        [sys.executable, "-m", "host_tools.console"]
    result = subprocess.run(cmd + ["--help"], capture_output=True, text=True, cwd=TOP,
                            timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr
    for option in ("--send", "--expect", "--timeout", "--log", "--timestamps", "--eol",
                   "--echo", "--raw", "Ctrl-]", "socket://127.0.0.1:PORT"):
        assert option in result.stdout


# --- scripted mode ---------------------------------------------------------------------

def test_scripted_send_and_expect_succeeds(any_board):
    if isinstance(any_board, PtyBoard):
        # No banner on a pty: the first expectation is the reply to what we send.
        result = run_console(any_board.url, "--send", "ping 1", "--expect", r"echo: ping \d")
    else:
        result = run_console(any_board.url, "--expect", "hello from fake board",
                             "--send", "ping 1", "--expect", r"echo: ping \d")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "echo: ping 1" in result.stdout                # the transcript
    assert any_board.wait_received(b"ping 1\r") == b"ping 1\r"   # Enter is CR by default


def test_expect_alone_waits_for_the_banner(tcp_board):
    result = run_console(tcp_board.url, "--expect-exact", "hello from fake board",
                         "--timeout", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "hello from fake board"


def test_steps_run_in_the_order_given(tcp_board):
    result = run_console(tcp_board.url, "--send", "one", "--expect", "echo: one",
                         "--send-bytes", r"two\n", "--expect", "echo: two",
                         "--send", "three", "--expect", "echo: three", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""                           # -q: no transcript
    assert tcp_board.wait_received(b"three\r") == b"one\rtwo\nthree\r"


def test_timeout_names_the_pattern_and_the_last_lines(tcp_board):
    tcp_board.banner = b"line 1\r\nline 2\r\nline 3\r\nprompt> "
    start = time.monotonic()
    result = run_console(tcp_board.url, "--expect", "prompt>", "--send", "status",
                         "--expect", "link up", "--timeout", "1")
    elapsed = time.monotonic() - start
    message = one_line_error(result)
    assert "timed out after 1 s waiting for 'link up'" in message
    assert "last lines seen: " in message
    assert message.endswith("'line 2' | 'line 3' | 'prompt> echo: status'")
    assert elapsed < 10


def test_board_hanging_up_while_expecting_is_reported(tcp_board):
    tcp_board.hang_up = True
    result = run_console(tcp_board.url, "--expect", "never printed", "--timeout", "20")
    message = one_line_error(result)
    assert "closed the console connection" in message
    assert "'never printed'" in message
    assert "'hello from fake board'" in message


def test_send_bytes_sends_control_characters(tcp_board):
    result = run_console(tcp_board.url, "--send-bytes", r"\x03\x04abc\r",
                         "--expect", "echo: ")
    assert result.returncode == 0, result.stderr
    assert tcp_board.wait_received(b"abc\r") == b"\x03\x04abc\r"


@pytest.mark.parametrize("eol, sent", [("CR", b"hi\r"), ("LF", b"hi\n"), ("CRLF", b"hi\r\n")])
def test_eol_option_sets_the_line_ending_sent(tcp_board, eol, sent):
    result = run_console(tcp_board.url, "--eol", eol.lower(), "--send", "hi",
                         "--expect", "echo: hi")
    assert result.returncode == 0, result.stderr
    time.sleep(0.2)                      # let a trailing LF of CRLF arrive too
    assert bytes(tcp_board.received) == sent


def test_log_records_received_bytes_exactly(tcp_board, tmp_path):
    payload = b"hello\r\nbinary \xff\x00\x1b[1m bytes\r\nno newline at end"
    tcp_board.banner = payload
    log = tmp_path / "console.log"
    result = run_console(tcp_board.url, "--log", log, "--expect", "at end")
    assert result.returncode == 0, result.stderr
    assert log.read_bytes() == payload
    assert "binary" in result.stdout


def test_timestamps_on_screen_and_in_the_log(tcp_board, tmp_path):
    tcp_board.banner = b"first\r\nsecond\r\n"
    log = tmp_path / "console.log"
    result = run_console(tcp_board.url, "--timestamps", "--log", log,
                         "--expect", "second\r\n")
    assert result.returncode == 0, result.stderr
    stamp = r"\[\d\d:\d\d:\d\d\.\d{3}\] "
    for text in (result.stdout, log.read_text()):
        assert re.fullmatch(f"{stamp}first\n{stamp}second\n", text), text


def test_invalid_regex_is_refused_before_connecting():
    message = one_line_error(run_console("socket://127.0.0.1:1", "--expect", "print(6*7"))
    assert "not a valid regular expression" in message and "--expect-exact" in message


def test_wait_option_retries_until_the_board_listens():
    board = TcpBoard(listen_after=1.0)
    try:
        result = run_console(board.url, "--wait", "15", "--expect", "hello from fake")
    finally:
        board.close()
    assert result.returncode == 0, result.stderr


# --- interactive mode (a real terminal through pexpect) -------------------------------------

def spawn_console(url: str, *args) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, [str(CONSOLE_PY), url, *args], timeout=10,
                          encoding="utf-8", codec_errors="replace", dimensions=(24, 120))
    child.expect_exact(f"--- console on {url}")
    return child


def test_interactive_session_types_to_the_board_and_shows_replies(any_board):
    child = spawn_console(any_board.url)
    try:
        if isinstance(any_board, PtyBoard):
            any_board.send(BANNER)
        child.expect_exact("hello from fake board")
        child.send("status\r")                           # Enter on a terminal is CR
        assert any_board.wait_received(b"status\r") == b"status\r"
        child.expect_exact("echo: status")
        child.send("\x03")                               # Ctrl-C goes to the board
        assert any_board.wait_received(b"\x03").endswith(b"\x03")
        assert child.isalive()
        child.sendcontrol("]")                           # Ctrl-] quits
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert b"\x1d" not in any_board.received


@pytest.mark.parametrize("eol, sent", [("CR", b"go\r"), ("LF", b"go\n"), ("CRLF", b"go\r\n")])
def test_interactive_enter_sends_the_eol(tcp_board, eol, sent):
    child = spawn_console(tcp_board.url, "--eol", eol)
    try:
        child.expect_exact(f"Enter sends {eol}")
        child.send("go\r")
        tcp_board.wait_received(b"go")
        child.expect_exact("echo: go")
        tcp_board.wait_received(sent)
        assert bytes(tcp_board.received) == sent
        child.sendcontrol("]")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_interactive_local_echo_shows_what_is_typed():
    board = TcpBoard(silent=True, banner=b"")
    try:
        child = spawn_console(board.url, "--echo")
        try:
            child.send("quiet board\r")
            child.expect_exact("quiet board")
            assert board.wait_received(b"quiet board\r")
            child.sendcontrol("]")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        assert child.exitstatus == 0
    finally:
        board.close()


def test_interactive_session_ends_with_status_1_when_the_board_goes_away(tcp_board):
    tcp_board.hang_up = True
    child = spawn_console(tcp_board.url)
    try:
        child.expect_exact("closed the console connection")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 1


# --- errors a user meets -------------------------------------------------------------------

@pytest.mark.parametrize("url", ["socket://192.0.2.1:4000", "socket://example.com:4000",
                                 "rfc2217://10.1.2.3:2217", "socket://[2001:db8::1]:23"])
def test_non_loopback_urls_are_refused(url):
    message = one_line_error(run_console(url, "--expect", "x"))
    assert "is not loopback" in message and "127.0.0.1" in message


def test_refusal_happens_without_touching_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the console touched the network")
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(ConsoleError, match="is not loopback"):
        Console("socket://example.com:4000")


@pytest.mark.parametrize("url", ["socket://127.0.0.1:4000", "socket://127.8.9.10:4000",
                                 "socket://localhost:4000", "socket://[::1]:4000",
                                 "rfc2217://127.0.0.1:2217", "loop://", "/dev/pts/0"])
def test_loopback_and_local_urls_pass_the_check(url):
    check_url(url)


def test_unknown_scheme_is_refused():
    message = one_line_error(run_console("http://127.0.0.1:80", "--expect", "x"))
    assert "unknown URL scheme 'http://'" in message


def test_connection_refused_says_how_to_start_the_board():
    port = free_port()
    message = one_line_error(run_console(f"socket://127.0.0.1:{port}", "--expect", "x"))
    assert message == (f"console: nothing listens on 127.0.0.1:{port}; is the board "
                       f"running? start it with python host_tools/board.py")


def test_missing_pty_path_is_reported(tmp_path):
    missing = tmp_path / "pts" / "42"
    message = one_line_error(run_console(missing, "--expect", "x"))
    assert f"no serial device or pty at {missing}" in message
    assert "--pty" in message


def test_debug_shows_the_traceback():
    result = run_console(f"socket://127.0.0.1:{free_port()}", "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "ConsoleError" in result.stderr


# --- the Python API --------------------------------------------------------------------

def test_api_expect_read_until_wait_for_line_and_lines(tcp_board, tmp_path):
    log = tmp_path / "api.log"
    with Console(tcp_board.url, timeout=5, log=log) as console:
        match = console.expect(r"hello from (\w+) board")
        assert match.group(1) == "fake"
        console.write_line("print(6*7)")
        assert console.wait_for_line("echo: print") == "echo: print(6*7)"
        console.write_line("abc")
        assert console.read_until("abc").endswith("echo: abc")
        assert console.expect_exact("\r\n") == "\r\n"
        assert console.lines() == ["hello from fake board", "echo: print(6*7)", "echo: abc"]
        assert console.last_lines(2) == ["echo: print(6*7)", "echo: abc"]
    assert tcp_board.disconnected.wait(5), "close() left the connection open"
    assert log.read_bytes() == b"hello from fake board\r\necho: print(6*7)\r\necho: abc\r\n"


def test_api_timeout_is_an_assertion_with_the_last_lines(tcp_board):
    with Console(tcp_board.url) as console:
        with pytest.raises(ConsoleTimeout) as info:
            console.expect("never", timeout=0.5)
    err = info.value
    assert isinstance(err, AssertionError)
    assert err.pattern == "never" and err.timeout == 0.5
    assert err.last_lines == ["hello from fake board"]
    assert "waiting for 'never'" in str(err)


def test_api_wait_after_hang_up_raises_console_closed(tcp_board):
    tcp_board.hang_up = True
    with Console(tcp_board.url) as console:
        console.expect("hello")
        with pytest.raises(ConsoleClosed, match="closed the console connection"):
            console.expect("more", timeout=10)
        assert console.eof


def test_api_over_a_pty():
    board = PtyBoard()
    try:
        with Console(board.url, timeout=5) as console:
            console.write_line("over pty")
            assert console.wait_for_line("echo: over") == "echo: over pty"
    finally:
        board.close()


# --- end to end: the real emulated board ---------------------------------------------------

def test_real_board_banner_and_echo(qemu, hello_elf, tmp_path):
    log = tmp_path / "console.log"
    board = Board(hello_elf, emulator=qemu)
    board.start(paused=True)
    try:
        proc = subprocess.Popen(
            [sys.executable, str(CONSOLE_PY), board.uart("console"), "--log", log,
             "--expect", "hello from stm324xg-eval", "--expect", r"SYSCLK \d+ Hz",
             "--send", "ping 123", "--expect-exact", "ping 123", "--timeout", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)
        try:
            assert board.wait_uart_connected("console", timeout=20), "console never attached"
            board.resume()                   # the CPU held until the console was attached
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        board.stop()
    assert proc.returncode == 0, err
    assert out.startswith("hello from stm324xg-eval\n")
    assert "clock: SYSCLK 168000000 Hz" in out
    assert "ping 123" in out                 # the firmware echoed what we typed
    logged = log.read_bytes()
    assert logged.startswith(b"hello from stm324xg-eval\r\n")
    assert b"ping 123\r" in logged
