"""The guestfwd relay: the native helper (host_tools/native/relay.c), the Python module
(the fallback without a C compiler) and board.py's old --relay command line, as QEMU runs
them once per board connection (``cmd:``), all held to the same behaviour; and the native
helper the launcher keeps listening on a Unix socket (``unix:``, the default).

Each per-connection relay runs the way slirp runs it: the board's connection as fds 0, 1
and 2 (libslirp hands over one end of a TCP connection on loopback, so a reset is passed
on to the board), a PC server on 127.0.0.1, and the relay's messages in its log file. The
listening relay gets its connections the way slirp makes them for ``unix:``: a Unix stream
socket connected to its path.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from host_tools import relay
from host_tools.board import Board

TOP = Path(__file__).resolve().parent.parent


def _python_module(target, log):
    return relay.command(target, log, "python")


def _board_cli(target, log):
    return [sys.executable, str(TOP / "host_tools" / "board.py"), "--relay", target,
            "--relay-log", str(log)]


def _native(target, log):
    helper = relay.native_helper()
    assert helper is not None, "no native relay: is there a C compiler (cc)?"
    return [str(helper), target, "--log", str(log)]


@pytest.fixture(params=[_native, _python_module, _board_cli],
                ids=["native", "python", "board-cli"])
def relay_argv(request):
    """relay_argv(target, log) -> the command line of one relay implementation."""
    return request.param


@pytest.fixture
def server():
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        yield srv


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """Two ends of a TCP connection on 127.0.0.1, like libslirp's socket pair."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        one = socket.create_connection(listener.getsockname())
        other, _ = listener.accept()
    return one, other


def run_as_slirp(argv):
    """Start the relay the way slirp does; (process, the board's end of the connection)."""
    board_end, relay_end = tcp_pair()
    with relay_end:
        proc = subprocess.Popen(argv, stdin=relay_end, stdout=relay_end, stderr=relay_end)
    board_end.settimeout(10)
    return proc, board_end


def read_to_eof(sock) -> bytes:
    got = b""
    while chunk := sock.recv(4096):
        got += chunk
    return got


def test_copies_both_ways_over_pipes(relay_argv, server, tmp_path):
    """stdin/stdout as pipes (not slirp's socket): the PC's EOF closes stdout."""
    def serve():
        conn, _ = server.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(100)
            conn.sendall(data.upper())

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    result = subprocess.run(relay_argv(f"127.0.0.1:{server.getsockname()[1]}",
                                       tmp_path / "relay.log"),
                            input=b"client hello\n", capture_output=True, timeout=30)
    t.join(10)
    assert result.returncode == 0, (tmp_path / "relay.log").read_text()
    assert result.stdout == b"CLIENT HELLO\n"


def test_the_pc_closing_half_closes_the_board_socket(relay_argv, server, tmp_path):
    """When the PC server closes, the board sees EOF (not a stream kept open through fds 0
    and 2), and can still send: its data reaches the PC until the board closes too."""
    proc, board = run_as_slirp(relay_argv(f"127.0.0.1:{server.getsockname()[1]}",
                                          tmp_path / "relay.log"))
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nbye")
        conn.shutdown(socket.SHUT_WR)
        assert read_to_eof(board) == b"HTTP/1.0 200 OK\r\n\r\nbye"
        board.sendall(b"after the PC's EOF")
        board.shutdown(socket.SHUT_WR)
        conn.settimeout(10)
        assert read_to_eof(conn) == b"after the PC's EOF"
    board.close()
    assert proc.wait(10) == 0


def test_the_board_closing_half_closes_the_pc_socket_and_a_slow_reply_arrives(
        relay_argv, server, tmp_path):
    """The board's EOF reaches the PC as a half-close; the reply the PC then sends, later
    than socat's default 0.5 s, still reaches the board in full: no timeout cuts it."""
    proc, board = run_as_slirp(relay_argv(f"127.0.0.1:{server.getsockname()[1]}",
                                          tmp_path / "relay.log"))
    conn, _ = server.accept()
    with conn:
        board.sendall(b"request")
        board.shutdown(socket.SHUT_WR)
        conn.settimeout(10)
        assert read_to_eof(conn) == b"request"
        time.sleep(0.8)                          # the slow server (the point of the test)
        assert proc.poll() is None, "the relay ended before the PC's reply"
        reply = bytes(range(256)) * 1024
        conn.sendall(reply)
    assert read_to_eof(board) == reply
    board.close()
    assert proc.wait(10) == 0


def test_an_unreachable_target_resets_the_board_connection_and_logs(relay_argv, tmp_path):
    """Nobody listens on the PC side: the board's connection is reset (slirp passes that
    on as the board's ECONNRESET), with no error text in its stream."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        port = srv.getsockname()[1]              # nobody listens there once closed
    log = tmp_path / "relay.log"
    proc, board = run_as_slirp(relay_argv(f"127.0.0.1:{port}", log))
    with pytest.raises(ConnectionResetError):
        board.recv(100)
    assert proc.wait(10) == 1
    board.close()
    assert f"cannot reach 127.0.0.1:{port}" in log.read_text()


@pytest.mark.parametrize("target", ["10.0.0.1:443", "192.168.0.1:443", "example.com:443",
                                    "0.0.0.0:443", "::1:443"])
def test_a_non_loopback_target_is_refused(relay_argv, target, tmp_path):
    log = tmp_path / "relay.log"
    result = subprocess.run(relay_argv(target, log), input=b"", capture_output=True,
                            timeout=30)
    assert result.returncode == 1
    assert result.stdout == b""
    assert "loopback" in log.read_text()


def test_messages_go_to_stderr_without_a_log_when_it_is_not_a_socket():
    helper = relay.native_helper()
    result = subprocess.run([str(helper), "10.0.0.1:443"], input=b"", capture_output=True,
                            timeout=30)
    assert result.returncode == 1 and b"loopback" in result.stderr


def test_the_native_helper_is_built_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STM32LAB_CACHE", str(tmp_path))
    helper = relay.native_helper()
    assert helper is not None and helper.parent == tmp_path / "relay"
    assert relay.native_helper() == helper
    assert [p.name for p in helper.parent.iterdir()] == [helper.name]    # no leftovers
    assert relay.command("127.0.0.1:4433", "r.log") == [str(helper), "127.0.0.1:4433",
                                                        "--log", "r.log"]


def test_without_a_c_compiler_the_python_relay_is_used_with_one_log_line(
        tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("STM32LAB_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setattr(relay, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="board"):
        first = relay.command("127.0.0.1:4433", "r.log")
        second = relay.command("127.0.0.1:4433", "r.log")
    assert first == second == [sys.executable, relay.__file__, "127.0.0.1:4433", "--log",
                               "r.log"]
    assert len(caplog.records) == 1
    assert "Python" in caplog.records[0].getMessage()


@pytest.mark.parametrize("implementation, program", [("native-cmd", "stm32lab-relay-"),
                                                     ("python", "relay.py")])
def test_the_launcher_gives_qemu_the_chosen_relay(implementation, program):
    engine = Board("firmware.elf", emulator="qemu-system-arm", guestfwd=["443:4433"],
                   relay=implementation).engine
    engine._logs = {"relay": Path("/tmp/guestfwd-relay.log")}   # as start() sets it
    option = engine.nic_option()
    fwd = option[option.index("guestfwd="):]
    assert fwd.startswith("guestfwd=tcp:192.168.0.1:443-cmd:")
    assert program in fwd and "127.0.0.1:4433" in fwd


def test_by_default_the_launcher_gives_qemu_a_listening_relays_socket(tmp_path):
    engine = Board("firmware.elf", emulator="qemu-system-arm",
                   guestfwd=["443:4433", "7:4434"]).engine
    engine._logs = {"relay": tmp_path / "guestfwd-relay.log"}   # as start() sets them
    engine._tmp = str(tmp_path)
    option = engine.nic_option()
    assert f"guestfwd=tcp:192.168.0.1:443-unix:{tmp_path}/relay-443.sock" in option
    assert f"guestfwd=tcp:192.168.0.1:7-unix:{tmp_path}/relay-7.sock" in option
    assert "cmd:" not in option


# The listening relay (Board(relay="native"), the default)

@pytest.fixture
def listener(server, tmp_path):
    """A listening relay to the server; its Unix socket's path is listener.path."""
    helper = relay.native_helper()
    assert helper is not None, "no native relay: is there a C compiler (cc)?"
    one = relay.Listener(helper, tmp_path / "relay.sock",
                         f"127.0.0.1:{server.getsockname()[1]}", tmp_path / "relay.log")
    yield one
    one.close()


def connect_as_slirp(path) -> socket.socket:
    board = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    board.settimeout(10)
    board.connect(str(path))
    return board


def test_listening_relay_serves_connections_at_once_each_to_its_own_pc_connection(
        listener, server):
    """Two board connections open at the same time reach the PC as two connections; each
    direction's end is passed on as a half-close, and a reply after the board's EOF
    still arrives."""
    server.settimeout(10)
    first = connect_as_slirp(listener.path)
    first.sendall(b"one")
    pc_first, _ = server.accept()
    second = connect_as_slirp(listener.path)      # the first one still open
    second.sendall(b"two")
    pc_second, _ = server.accept()
    with pc_first, pc_second:
        for pc in (pc_first, pc_second):
            pc.settimeout(10)
        assert pc_first.recv(10) == b"one" and pc_second.recv(10) == b"two"
        first.shutdown(socket.SHUT_WR)
        assert read_to_eof(pc_first) == b""
        reply = bytes(range(256)) * 512
        pc_first.sendall(reply)
        pc_first.shutdown(socket.SHUT_WR)
        assert read_to_eof(first) == reply
        pc_second.sendall(b"to two")
        pc_second.close()
        assert read_to_eof(second) == b"to two"
    first.close()
    second.close()


def test_listening_relay_resets_the_board_when_the_pc_side_is_down(tmp_path):
    """Nobody listens on the PC side: a board that has sent something is reset (slirp
    resets the board's TCP connection when it reads ECONNRESET), and the log says why."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        port = srv.getsockname()[1]              # nobody listens there once closed
    log = tmp_path / "relay.log"
    one = relay.Listener(relay.native_helper(), tmp_path / "relay.sock", f"127.0.0.1:{port}",
                         log)
    try:
        board = connect_as_slirp(one.path)
        time.sleep(0.3)             # the hello after the relay has found the PC side down
        board.sendall(b"client hello")
        with pytest.raises(ConnectionResetError):
            board.recv(100)
        board.close()
        assert f"cannot reach 127.0.0.1:{port}" in log.read_text()
    finally:
        one.close()


def test_closing_the_listening_relay_stops_new_connections_not_current_ones(
        listener, server):
    board = connect_as_slirp(listener.path)
    server.settimeout(10)
    pc, _ = server.accept()
    listener.close()
    assert listener.proc.returncode == 0
    assert not listener.path.exists()
    with pc:
        board.sendall(b"still here")
        pc.settimeout(10)
        assert pc.recv(100) == b"still here"
    assert read_to_eof(board) == b""
    board.close()


def test_a_listening_relay_to_a_non_loopback_target_is_refused_at_start(tmp_path):
    from host_tools.lab import BoardError
    with pytest.raises(BoardError, match="loopback"):
        relay.Listener(relay.native_helper(), tmp_path / "relay.sock", "10.0.0.1:443",
                       tmp_path / "relay.log")


def test_an_unknown_relay_is_refused():
    from host_tools.lab import BoardError
    with pytest.raises(BoardError, match="relay 'socat'"):
        Board("firmware.elf", emulator="qemu-system-arm", relay="socat")
