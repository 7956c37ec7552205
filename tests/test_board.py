"""The board launcher (host_tools/board.py): command line, input checks, and real runs.

The input checks need no build: a header-only ARM ELF and a stand-in emulator binary are
enough, because the launcher refuses bad input before it starts anything. The real runs
need the lab's QEMU ('make qemu') and the bare-metal test firmware ('make -C
tests/baremetal'); without them they fail with the command to run.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools.board import (
    Board, BoardError, GuestForward, HostForward, check_firmware,
)
from lab_firmware import wait_for

TOP = Path(__file__).resolve().parent.parent
BOARD_PY = TOP / "host_tools" / "board.py"
BANNER = b"hello from stm324xg-eval"


# --- helpers and fixtures -----------------------------------------------------------

def elf_header(elf_class=1, machine=40, phnum=0) -> bytes:
    """A little-endian ELF header with nothing after it."""
    ident = b"\x7fELF" + bytes([elf_class, 1, 1]) + bytes(9)
    if elf_class == 1:
        return ident + struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, 0x08000000, 52, 0, 0,
                                   52, 32, phnum, 40, 0, 0)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0, 64, 0, 0,
                               64, 56, phnum, 64, 0, 0)


@pytest.fixture
def arm_elf(tmp_path) -> Path:
    """A file that passes the firmware check (32-bit ARM ELF) but loads nothing."""
    path = tmp_path / "header-only.elf"
    path.write_bytes(elf_header(phnum=1))  # claims a program header it does not have
    return path


@pytest.fixture
def fake_qemu(tmp_path) -> str:
    """An executable that stands in for QEMU where the launcher must stop before it."""
    path = tmp_path / "qemu-system-arm"
    path.write_text("#!/bin/sh\nexit 3\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def listener():
    """A TCP socket listening on 127.0.0.1 (makes its port busy); yields the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def run_cli(*args, env_extra=None, timeout=60) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(BOARD_PY), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    line = lines[0]
    assert line.startswith("board: "), line
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    return line


@pytest.fixture(scope="session")
def qemu_bin(qemu) -> str:
    return qemu


@pytest.fixture
def board(qemu_bin, hello_elf):
    """The board running the bare-metal hello firmware, paused before its first
    instruction so the test can attach to the console first."""
    b = Board(hello_elf, emulator=qemu_bin)
    b.start(paused=True)
    yield b
    b.stop()


def read_until(port, marker: bytes, timeout=10.0) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while marker not in data and time.monotonic() < deadline:
        data += port.read(256)
    return data


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone as far as the user is concerned.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# --- command line ------------------------------------------------------------------

@pytest.mark.parametrize("how", ["script", "module"])
def test_help_lists_the_main_options(how):
    cmd = [sys.executable, str(BOARD_PY)] if how == "script" \
        else [sys.executable, "-m", "host_tools.board"]
    result = subprocess.run(cmd + ["--help"], cwd=TOP, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    for option in ("--firmware", "--console-port", "--pty", "--qmp", "--hostfwd",
                   "--guestfwd", "--pcap", "--deterministic", "--seed", "--guest-errors",
                   "--qemu", "--debug", "real time"):
        assert option in result.stdout


def test_missing_firmware_names_the_fix(tmp_path, fake_qemu):
    missing = tmp_path / "x.elf"
    line = assert_one_line_error(run_cli("--firmware", missing, "--qemu", fake_qemu),
                                 "not found", "make firmware", "--firmware")
    assert str(missing) in line


def test_text_file_is_not_firmware(tmp_path, fake_qemu):
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF\n")
    assert_one_line_error(run_cli("--firmware", text, "--qemu", fake_qemu),
                          "not an ELF", str(text))


def test_host_elf_is_not_arm_firmware(fake_qemu):
    assert_one_line_error(run_cli("--firmware", "/bin/true", "--qemu", fake_qemu),
                          "not a 32-bit ARM ELF", "arm-none-eabi")


@pytest.mark.parametrize("elf_class,machine", [(2, 40), (1, 3), (2, 183)])
def test_firmware_check_wants_32_bit_arm(tmp_path, elf_class, machine):
    path = tmp_path / "fw.elf"
    path.write_bytes(elf_header(elf_class, machine))
    with pytest.raises(BoardError, match="not a 32-bit ARM ELF"):
        check_firmware(path)
    path.write_bytes(elf_header())
    assert check_firmware(path) == path.resolve()


def test_no_qemu_build(arm_elf):
    line = assert_one_line_error(run_cli("--firmware", arm_elf,
                                         env_extra={"STM32LAB_QEMU": "/nonexistent"}),
                                 "QEMU not built", "/nonexistent", "make qemu")
    assert "Traceback" not in line


def test_busy_console_port(arm_elf, fake_qemu, listener):
    assert_one_line_error(run_cli("--firmware", arm_elf, "--qemu", fake_qemu,
                                  "--console-port", listener),
                          f"console port {listener}", "busy", "--console-port")


def test_busy_hostfwd_port(arm_elf, fake_qemu, listener):
    assert_one_line_error(run_cli("--firmware", arm_elf, "--qemu", fake_qemu,
                                  "--hostfwd", f"{listener}:80"),
                          f"hostfwd port {listener}", "busy", "--hostfwd")


@pytest.mark.parametrize("option,spec,address", [
    ("--hostfwd", "0.0.0.0:8080:80", "0.0.0.0"),
    ("--hostfwd", "192.168.1.20:8080:80", "192.168.1.20"),
    ("--guestfwd", "443:10.0.0.5:4433", "10.0.0.5"),
    ("--guestfwd", "443:example.com:4433", "example.com"),
])
def test_non_loopback_forward_is_refused(arm_elf, fake_qemu, option, spec, address):
    assert_one_line_error(run_cli("--firmware", arm_elf, "--qemu", fake_qemu, option, spec),
                          address, "loopback")


def test_forward_specs_parse():
    assert HostForward.parse("8080:80") == HostForward(8080, 80, "127.0.0.1")
    assert HostForward.parse("127.0.0.2:0:80") == HostForward(0, 80, "127.0.0.2")
    assert GuestForward.parse("443:4433") == GuestForward(443, 4433, "127.0.0.1")
    for bad in ("80", "a:b", "1:2:3:4", "70000:80"):
        with pytest.raises(BoardError):
            HostForward.parse(bad)


def test_options_that_open_the_network_are_refused(arm_elf, fake_qemu):
    b = Board(arm_elf, emulator=fake_qemu, extra_args=["-nic", "user,restrict=off"])
    with pytest.raises(BoardError, match="networking"):
        b.start()
    assert b.pid is None


# --- real runs: QEMU and the bare-metal hello firmware ------------------------------

def test_console_banner_and_echo_over_socket_url(board):
    import serial

    url = board.uart("console")
    assert url.startswith("socket://127.0.0.1:")
    port = serial.serial_for_url(url, timeout=0.2)
    try:
        wait_for(board.uart_connected, 10, what="QEMU seeing the console client")
        board.resume()
        assert BANNER in read_until(port, BANNER)
        port.write(b"ping 123\r")
        assert b"ping 123\r" in read_until(port, b"ping 123\r")
    finally:
        port.close()
    assert BANNER.decode() in board.console_text()


def test_led4_blinks(board):
    board.resume()
    seen = set()
    wait_for(lambda: seen.add(board.led("led4")) or len(seen) == 2, 10,
             what="LED4 seen both on and off")
    leds = board.leds()
    assert set(leds) == {"led1", "led2", "led3", "led4"}
    board.pause()                               # the names of one LED agree while it holds
    assert board.led("blue") == board.led("led4") == board.led("PC7") == board.leds()["led4"]
    board.resume()
    with pytest.raises(BoardError):
        board.led("led9")


def test_link_down_and_up(board):
    board.resume()
    assert board.link_is_up()
    board.link_down()
    assert not board.link_is_up()
    assert board.engine.status() == "running"
    board.link_up()
    assert board.link_is_up()
    network = board.engine.qmp("human-monitor-command", **{"command-line": "info network"})
    assert "restrict=on" in network
    assert board.is_running()


def test_pty_console_echoes(qemu_bin, hello_elf):
    import serial

    with Board(hello_elf, emulator=qemu_bin, pty=True) as b:
        path = b.uart("console")
        assert path.startswith("/dev/")
        port = serial.serial_for_url(path, timeout=0.2)
        try:
            # QEMU notices a pty client by polling; retry until the echo comes back.
            data = b""
            deadline = time.monotonic() + 15
            while b"pty!" not in data and time.monotonic() < deadline:
                port.write(b"pty!")
                data += port.read(64)
            assert b"pty!" in data
        finally:
            port.close()
        wait_for(lambda: BANNER.decode() in b.console_text(), 10, what="banner in console log")


def test_hostfwd_listens_on_loopback_and_pcap_has_a_header(qemu_bin, hello_elf, tmp_path):
    pcap = tmp_path / "board.pcap"
    with Board(hello_elf, emulator=qemu_bin, hostfwd=["0:80"], guestfwd=["443:4433"],
               pcap=pcap) as b:
        port = b.forwarded_port(80)
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        usernet = b.engine.qmp("human-monitor-command", **{"command-line": "info usernet"})
        assert f"127.0.0.1 {port:>5}" in " ".join(usernet.split()) or str(port) in usernet
        assert "192.168.0.10" in usernet
    data = pcap.read_bytes()
    assert len(data) >= 24
    magic, major, minor, _, _, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and (major, minor) == (2, 4)
    assert linktype == 1  # Ethernet


def test_deterministic_mode_boots_with_the_seed(qemu_bin, hello_elf):
    with Board(hello_elf, emulator=qemu_bin, deterministic=True, seed=1234) as b:
        cmd = " ".join(b.engine.command)
        assert "-icount shift=7,align=off,sleep=off" in cmd   # the documented default
        assert "stm32f4xx-rng.seed=1234" in cmd
        wait_for(lambda: BANNER.decode() in b.console_text(), 10, what="banner in console log")


def test_deterministic_runs_replay_byte_for_byte(qemu_bin, baremetal):
    """--deterministic end to end: replay.elf prints RNG words and how many loop turns fit
    between SysTick interrupts; the same seed twice gives the same console bytes, another
    seed other RNG words, and without -icount the turns follow the host (not compared)."""
    def run(seed):
        with Board(baremetal / "replay.elf", emulator=qemu_bin, deterministic=True,
                   seed=seed) as b:
            # the whole last line: the program prints it in three pieces
            wait_for(lambda: re.search(r"replay: end after \d+ ms\n", b.console_text()), 60,
                     what="the end of the replay window")
            return b.console_text()

    first, again, other = run(7), run(7), run(8)
    assert "rng: " in first and first.count("slice ") == 10, first
    assert first == again
    def rng_line(text):
        return next(line for line in text.splitlines() if line.startswith("rng:"))

    assert rng_line(first) != rng_line(other)


def test_stop_leaves_no_process_and_no_temp_dir(qemu_bin, hello_elf):
    b = Board(hello_elf, emulator=qemu_bin)
    b.start()
    pid, tmp = b.pid, b.engine._tmp
    assert b.is_running() and pid_alive(pid)
    assert b.stop() == 0
    assert not pid_alive(pid)
    assert not b.is_running()
    assert not Path(tmp).exists()
    assert b.stop() == 0 and not b.is_running()  # stopping twice: the same status


def test_qemu_dying_at_start_reports_status_and_stderr(qemu_bin, hello_elf):
    b = Board(hello_elf, emulator=qemu_bin, extra_args=["-no-such-option"])
    with pytest.raises(BoardError) as info:
        b.start()
    assert info.value.returncode == 1
    assert "status 1" in str(info.value)
    assert "-no-such-option" in str(info.value)
    assert not b.is_running()


def test_firmware_that_does_not_load_reports_qemu_error(qemu_bin, tmp_path):
    # An ARM ELF whose segment runs past the end of the file, padded past the size of
    # flash so that QEMU's raw-image fallback cannot take it either.
    bad = tmp_path / "truncated.elf"
    phdr = struct.pack("<IIIIIIII", 1, 0, 0x08000000, 0x08000000, 0x400000, 0x400000, 5, 4)
    bad.write_bytes((elf_header(phnum=1) + phdr).ljust(2 * 1024 * 1024, b"\0"))
    with pytest.raises(BoardError) as info:
        Board(bad, emulator=qemu_bin).start()
    assert info.value.returncode not in (None, 0)
    assert "status" in str(info.value) and info.value.stderr


def test_qemu_dying_later_is_reported(board):
    board.resume()
    os.kill(board.pid, signal.SIGKILL)
    assert board.wait_for_exit(timeout=30) == -signal.SIGKILL
    with pytest.raises(BoardError, match="SIGKILL"):
        board.led("led4")


def test_cli_foreground_run_and_ctrl_c(hello_elf, qemu_bin, tmp_path):
    import serial

    proc = subprocess.Popen([sys.executable, str(BOARD_PY), "--firmware", str(hello_elf),
                             "--qemu", qemu_bin, "--hostfwd", "0:80", "--log-dir", tmp_path,
                             "--wait-console"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            line = proc.stdout.readline()
            assert line, f"board exited early: {proc.stderr.read()}"
            lines.append(line.strip())
        text = "\n".join(lines)
        qemu_pid = int(text.split("QEMU pid ")[1].split(")")[0])
        url = next(w for w in text.split() if w.startswith("socket://"))
        assert "qmp:" in text and "hostfwd:" in text
        with serial.serial_for_url(url, timeout=0.2) as port:
            # --wait-console held the CPU until now, so the banner is not lost.
            assert BANNER in read_until(port, BANNER)
            port.write(b"cli\r")
            assert b"cli\r" in read_until(port, b"cli\r")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not pid_alive(qemu_pid)
    assert BANNER.decode() in (tmp_path / "console.log").read_text()


def test_cli_reports_qemu_exit_status(hello_elf, qemu_bin):
    proc = subprocess.Popen([sys.executable, str(BOARD_PY), "--firmware", str(hello_elf),
                             "--qemu", qemu_bin], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        qemu_pid = int(line.split("QEMU pid ")[1].split(")")[0])
        os.kill(qemu_pid, signal.SIGKILL)
        assert proc.wait(30) == 128 + signal.SIGKILL
        err = proc.stderr.read()
        assert "SIGKILL" in err and err.startswith("board: ")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_attach_shows_console_from_first_byte_and_leds(qemu_bin, hello_elf):
    """`board.py --attach` (what `make demo` runs): banner, clock line, LED summary."""
    proc = subprocess.Popen([sys.executable, str(TOP / "host_tools" / "board.py"),
                             "--firmware", str(hello_elf), "--qemu", qemu_bin, "--attach"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out = ""
    try:
        deadline = time.monotonic() + 30
        while "led4 blue blinking" not in out:
            assert time.monotonic() < deadline, out
            line = proc.stdout.readline()
            assert line, f"board.py ended early: {out}{proc.stderr.read()}"
            out += line
        assert "hello from stm324xg-eval\n" in out
        assert "clock: SYSCLK 168000000 Hz from PLL" in out
        assert "led1 green off" in out
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0


def test_console_log_is_complete_without_a_client(qemu_bin, hello_elf):
    """Nobody attached: the banner still reaches the console log (QEMU alone would drop it)."""
    with Board(hello_elf, emulator=qemu_bin) as b:
        wait_for(lambda: "clock: SYSCLK 168000000 Hz" in b.console_text(), 10,
                 what="banner in the console log with no client attached")
        assert b.console_text().startswith("hello from stm324xg-eval")


def test_two_console_clients_see_the_same_output(qemu_bin, hello_elf):
    import serial
    with Board(hello_elf, emulator=qemu_bin).start(paused=True) as b:
        with serial.serial_for_url(b.uart(), timeout=0.2) as one, \
                serial.serial_for_url(b.uart(), timeout=0.2) as two:
            wait_for(lambda: b.engine._hubs["usart3"].clients == 2, 10, what="two clients")
            b.resume()
            for port in (one, two):
                seen = b""
                deadline = time.monotonic() + 20
                while b"Hz from PLL" not in seen:
                    assert time.monotonic() < deadline, seen
                    seen += port.read(256)
                assert seen.startswith(b"hello from stm324xg-eval")
            one.write(b"echo-from-one")
            got = b""
            deadline = time.monotonic() + 10
            while b"echo-from-one" not in got:
                assert time.monotonic() < deadline, got
                got += two.read(64)
