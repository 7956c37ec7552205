"""The lab's MicroPython firmware in tests: build it, boot it through the launcher with the
console attached before it runs, and drive its REPL (the one REPL driver of the tests), plus
the small helpers the firmware tests share."""

import fcntl
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import serial

from host_tools.board import Board

TOP = Path(__file__).resolve().parent.parent
FIRMWARE = TOP / "firmware"
BANNER = re.compile(rb"MicroPython v1\.25\.\d+[^\r\n]*; ((?:STM32|NUCLEO-)\w+(?:-EVAL)?) with "
                    rb"(STM32F4\w+)\r\n")
PROMPT = b">>> "


BAREMETAL = TOP / "tests" / "baremetal"

_builds: dict = {}


def make(args: list) -> subprocess.CompletedProcess:
    """Run make (args after "make") holding the tests' build lock (a flock on the checkout's
    top directory): pytest-xdist workers that need the same build at once take turns, and
    the second finds it up to date instead of writing the same files."""
    fd = os.open(TOP, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return subprocess.run(["make", *args], capture_output=True, text=True)
    finally:
        os.close(fd)


def build_baremetal() -> Path:
    """tests/baremetal/build/: the bare-metal test programs (make -C tests/baremetal); fails
    the test, with make's output, on errors."""
    result = make(["-C", str(BAREMETAL)])
    if result.returncode != 0:
        pytest.fail(f"cannot build {BAREMETAL}; run 'make baremetal':\n{result.stderr}")
    return BAREMETAL / "build"


def build_firmware(board: str = "stm324xg-eval", hw: int = 1) -> Path:
    """make -C firmware BOARD=board HW_CRYPTO=hw, once per session; the ELF (fails the
    test, with make's output, on errors)."""
    key = (board, hw)
    if key not in _builds:
        args = ["-C", str(FIRMWARE), f"BOARD={board}", f"HW_CRYPTO={hw}"]
        result = make(args + ["-j2"])
        elf = make(args + ["-s", "--no-print-directory", "print-elf"]).stdout.strip()
        if result.returncode != 0 or not elf or not Path(elf).exists():
            pytest.fail(f"cannot build the firmware ({' '.join(args[1:])}):\n"
                        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        _builds[key] = Path(elf)
    return _builds[key]


class Console:
    """The board's console with expect-style reads; failures show what was received."""

    def __init__(self, url: str):
        self.port = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
        self.seen = b""      # everything received, for failure messages
        self.buf = b""       # received but not yet consumed by expect()

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def _fill(self) -> None:
        data = self.port.read(4096)
        self.seen += data
        self.buf += data

    def expect(self, pattern, timeout: float = 10.0) -> bytes:
        """Wait for pattern (bytes, or a compiled regex); return everything up to its end."""
        deadline = time.monotonic() + timeout
        while True:
            if isinstance(pattern, bytes):
                i = self.buf.find(pattern)
                end = i + len(pattern) if i >= 0 else -1
            else:
                m = pattern.search(self.buf)
                end = m.end() if m else -1
            if end >= 0:
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {pattern!r} on the console within {timeout} s; "
                                     f"last output: {self.seen[-600:]!r}")
            self._fill()

    def quiet_for(self, seconds: float) -> bytes:
        """Read for the given time; return what arrived."""
        deadline = time.monotonic() + seconds
        start = len(self.buf)
        while time.monotonic() < deadline:
            self._fill()
        return self.buf[start:]

    def run(self, line: str, timeout: float = 10.0) -> str:
        """Type a line at the friendly REPL; return its output (without echo and prompt)."""
        self.write(line.encode() + b"\r")
        out = self.expect(PROMPT, timeout)
        echo, _, rest = out.partition(b"\r\n")
        assert echo.endswith(line.encode()), f"echo of {line!r} missing: {out!r}"
        return rest[:-len(PROMPT)].decode(errors="replace").replace("\r\n", "\n")

    def paste_start(self, code: str) -> None:
        """Send a multi-line program through the friendly REPL's paste mode (Ctrl-E, the
        code, Ctrl-D) without waiting for it to finish."""
        self.write(b"\x05")
        self.expect(b"=== ")
        self.write(code.strip("\n").replace("\n", "\r").encode() + b"\r\x04")

    def paste(self, code: str, timeout: float = 10.0) -> str:
        """Run a multi-line program through the friendly REPL's paste mode; return its
        output."""
        self.paste_start(code)
        out = self.expect(PROMPT, timeout)[:-len(PROMPT)]
        return out.rsplit(b"=== ", 1)[-1].partition(b"\r\n")[2].decode(errors="replace") \
            .replace("\r\n", "\n")

    def close(self) -> None:
        self.port.close()


def boot(elf: Path, qemu, **options):
    """Start a board (Board options: machine=, config=, hostfwd=, ...) paused, attach the
    console and only then let the firmware run, so nothing it prints is lost. Returns
    (board, console); the board is stopped if the console cannot attach."""
    board = Board(elf, emulator=str(qemu), **options)
    board.start(paused=True)
    try:
        console = Console(board.uart("console"))
        assert board.wait_uart_connected(timeout=10), "console client did not attach"
        board.resume()
    except BaseException:
        board.stop()
        raise
    return board, console


def wait_for(predicate, timeout: float = 5.0, what: str | None = None):
    """Polls predicate until it returns a true value, which is returned; at the deadline
    the last value is returned, or, with what, an AssertionError names what was awaited.
    The one polling helper of the tests (waits on the condition, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    value = predicate()
    if value or what is None:
        return value
    raise AssertionError(f"{what} not met within {timeout} s")


def wait_console(board: Board, text: str, timeout: float = 30.0) -> str:
    """The board's console log once it holds text (a bare-metal program's "\ndone", say);
    fails at once when QEMU stops, and at the deadline with the console shown."""
    def seen():
        out = board.console_text()
        assert text in out or board.is_running(), f"QEMU stopped; console: {out!r}"
        return out if text in out else None
    out = wait_for(seen, timeout)
    assert out, f"{text!r} not seen; console: {board.console_text()!r}"
    return out


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the apps (role client / server) ------------------------------------------------

BOOT_TIMEOUT = 30
STEP_TIMEOUT = 60


class AppBoard:
    """A board running the apps: the console from the first byte, text helpers."""

    def __init__(self, elf, qemu, **options):
        self.board, self.con = boot(elf, qemu, **options)

    def expect(self, text, timeout=STEP_TIMEOUT) -> str:
        pattern = text if isinstance(text, re.Pattern) else text.encode()
        return self.con.expect(pattern, timeout).decode(errors="replace").replace("\r\n", "\n")

    def stop(self):
        self.con.close()
        self.board.stop()


def page_value(body: bytes, label: str) -> str:
    m = re.search(rf"<p>{label}: ([^<]+)</p>".encode(), body)
    assert m, body
    return m.group(1).decode()


def wait_led(board, name, state, timeout=10.0) -> bool:
    return bool(wait_for(lambda: board.led(name) == state, timeout))
