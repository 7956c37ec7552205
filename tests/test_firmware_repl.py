"""The MicroPython firmware (firmware/) on the emulated board: boot, REPL modes, modules.

Each test boots a fresh board through the launcher, paused until the console client is
attached so the banner is not lost, and talks to the REPL over the console USART like a
user with a terminal or a pyboard-style tool would.
"""

import re
import struct
import subprocess
import time
from pathlib import Path

import pytest
import serial

from host_tools.board import Board

TOP = Path(__file__).resolve().parent.parent
FIRMWARE = TOP / "firmware"
BANNER = re.compile(rb"MicroPython v1\.25\.\d+[^\r\n]*; (STM32\w+-EVAL) with (STM32F4\w+)\r\n")
PROMPT = b">>> "


def build_firmware(board: str) -> Path:
    elf = FIRMWARE / f"build-{board}" / "firmware.elf"
    result = subprocess.run(["make", "-C", str(FIRMWARE), "-j2", f"BOARD={board}"],
                            capture_output=True, text=True)
    if result.returncode != 0 or not elf.exists():
        pytest.fail(f"cannot build the firmware for {board} ('make -C firmware "
                    f"BOARD={board}'):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return elf


@pytest.fixture(scope="session")
def firmware_elf() -> Path:
    return build_firmware("stm324xg-eval")


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

    def paste(self, code: str, timeout: float = 10.0) -> str:
        """Run a multi-line program through the friendly REPL's paste mode (Ctrl-E);
        return its output."""
        self.write(b"\x05")
        self.expect(b"=== ")
        self.write(code.strip("\n").replace("\n", "\r").encode() + b"\r\x04")
        out = self.expect(PROMPT, timeout)[:-len(PROMPT)]
        return out.rsplit(b"=== ", 1)[-1].partition(b"\r\n")[2].decode(errors="replace") \
            .replace("\r\n", "\n")

    def close(self) -> None:
        self.port.close()


def boot(elf: Path, qemu: Path, machine: str = "stm324xg-eval"):
    board = Board(elf, emulator=str(qemu), machine=machine)
    board.start(paused=True)
    try:
        console = Console(board.uart("console"))
        assert board.wait_uart_connected(timeout=10), "console client did not attach"
        board.resume()
    except BaseException:
        board.stop()
        raise
    return board, console


@pytest.fixture
def board(firmware_elf, qemu):
    board, console = boot(firmware_elf, qemu)
    board.console = console
    board.banner = console.expect(BANNER)
    console.expect(PROMPT)
    yield board
    console.close()
    board.stop()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_banner_names_board_and_evaluates_expression(board):
    m = BANNER.search(board.banner)
    assert m.group(1) == b"STM324xG-EVAL" and m.group(2) == b"STM32F417IG", board.banner
    assert board.console.run("print(6*7)") == "42\n"
    assert board.console.run("2**100") == f"{2**100}\n"


def test_boot_reports_no_clock_failure_and_runs_168_mhz(board):
    assert b"clock:" not in board.console.seen, board.console.seen
    assert board.console.run("import machine; print(machine.freq())") == "168000000\n"


def test_ctrl_c_interrupts_running_code(board):
    con = board.console
    con.write(b"while True: pass\r")
    con.expect(b"... ")
    con.write(b"\r")
    # it runs: no prompt comes back by itself
    assert PROMPT not in con.quiet_for(0.5), con.seen[-200:]
    con.write(b"\x03")
    out = con.expect(PROMPT)
    assert b"KeyboardInterrupt" in out, out
    assert con.run("print('alive')") == "alive\n"


def test_ctrl_c_interrupts_sleep(board):
    con = board.console
    con.write(b"import time; time.sleep(30)\r")
    assert PROMPT not in con.quiet_for(0.3)
    con.write(b"\x03")
    assert b"KeyboardInterrupt" in con.expect(PROMPT, timeout=5)


def test_ctrl_d_soft_reset_prints_banner_and_clears_state(board):
    con = board.console
    con.run("lab_value = 12345")
    assert con.run("print(lab_value)") == "12345\n"
    con.write(b"\x04")
    out = con.expect(BANNER)
    assert b"MPY: soft reboot" in out, out
    con.expect(PROMPT)
    assert "NameError" in con.run("print(lab_value)")


def enter_raw_repl(con: Console) -> None:
    con.write(b"\r\x01")
    con.expect(b"raw REPL; CTRL-B to exit\r\n>")


def raw_result(con: Console, timeout: float = 10.0):
    """After the code is accepted: (stdout, stderr) up to the next raw prompt."""
    out = con.expect(b"\x04", timeout)[:-1]
    err = con.expect(b"\x04", timeout)[:-1]
    con.expect(b">", timeout)
    return out, err


def test_raw_repl_runs_code_and_reports_errors(board):
    con = board.console
    enter_raw_repl(con)
    con.write(b"print('raw', 6*7)\x04")
    con.expect(b"OK")
    assert raw_result(con) == (b"raw 42\r\n", b"")
    con.write(b"1/0\x04")
    con.expect(b"OK")
    out, err = raw_result(con)
    assert out == b"" and b"ZeroDivisionError" in err, (out, err)
    con.write(b"\x02")          # back to the friendly REPL
    con.expect(PROMPT)
    assert con.run("print('friendly')") == "friendly\n"


def test_raw_paste_mode_with_flow_control(board):
    """The raw-paste protocol as pyboard.py/mpremote speak it, with a program larger than
    the device's window so the flow control is exercised."""
    con = board.console
    enter_raw_repl(con)
    con.write(b"\x05A\x01")
    reply = con.expect(re.compile(rb"R[\x00\x01]"))
    assert reply.endswith(b"R\x01"), f"raw paste refused: {reply!r}"
    while len(con.buf) < 2:
        con._fill()
    window = struct.unpack("<H", con.buf[:2])[0]
    con.buf = con.buf[2:]
    assert window > 0
    lines = [f"v{i} = {i} * 3  # padding to make the program longer than one window"
             for i in range(40)]
    program = ("\n".join(lines) + "\nprint('sum', "
               + " + ".join(f"v{i}" for i in range(40)) + ")\n").encode()
    assert len(program) > 2 * window
    remain, i = window, 0
    deadline = time.monotonic() + 20
    while i < len(program):
        while remain == 0 or con.buf:
            if not con.buf:
                con._fill()
                assert time.monotonic() < deadline, f"no window update: {con.seen[-200:]!r}"
                continue
            ctrl, con.buf = con.buf[:1], con.buf[1:]
            if ctrl == b"\x01":
                remain += window
            else:
                raise AssertionError(f"unexpected byte {ctrl!r} during raw paste")
        chunk = program[i:i + remain]
        con.write(chunk)
        remain -= len(chunk)
        i += len(chunk)
    con.write(b"\x04")
    # the device acknowledges the end of data with \x04, then runs the program
    ack = con.expect(b"\x04")
    assert set(ack[:-1]) <= {1}, ack
    out, err = raw_result(con)
    assert err == b"", err
    assert out == f"sum {sum(i * 3 for i in range(40))}\r\n".encode(), out


def test_led4_follows_python(board):
    con = board.console
    assert board.leds() == {"led1": False, "led2": False, "led3": False, "led4": False}
    con.run("from machine import LED; led = LED('LED4')")
    con.run("led.on()")
    assert wait_for(lambda: board.led("led4")), "LED4 not lit after led.on()"
    assert con.run("print(led.value())") == "1\n"
    con.run("led.off()")
    assert wait_for(lambda: not board.led("led4")), "LED4 still lit after led.off()"
    con.run("LED('blue').toggle()")
    assert wait_for(lambda: board.led("led4")), "LED('blue').toggle() did not light LED4"
    assert not board.led("led1") and not board.led("led2") and not board.led("led3")
    assert "ValueError" in con.run("LED('LED9')")


def test_pin_drives_and_reads_gpio(board):
    con = board.console
    con.run("from machine import Pin; p = Pin('PC7', Pin.OUT, value=1)")
    assert wait_for(lambda: board.led("led4")), "Pin('PC7') high did not light LED4"
    assert con.run("print(p.value())") == "1\n"
    con.run("p.value(0)")
    assert wait_for(lambda: not board.led("led4"))
    # PB0 and PA1 are free on the STM324xG-EVAL (PA0 is the Wakeup button, held low by the
    # board while released), so the internal pulls decide their levels
    assert con.run("print(Pin('PB0', Pin.IN, Pin.PULL_UP).value(), "
                   "Pin('PA1', Pin.IN, Pin.PULL_DOWN).value())") == "1 0\n"
    assert "ValueError" in con.run("Pin('PZ3')")


def rng_words(board) -> int:
    return board.engine.qmp("qom-get", path="/machine/soc/rng", property="words")


def test_urandom_comes_from_the_hardware_rng(board):
    con = board.console
    con.run("import os")
    words_before = rng_words(board)
    first = bytes.fromhex(con.run("print(os.urandom(16).hex())").strip())
    second = bytes.fromhex(con.run("print(os.urandom(16).hex())").strip())
    assert len(first) == len(second) == 16
    assert first != second
    assert len(set(first)) >= 8 and len(set(second)) >= 8, (first, second)
    assert rng_words(board) - words_before >= 8, "os.urandom did not read the RNG"
    assert con.run("print(len(os.urandom(5)), os.urandom(0))") == "5 b''\n"


def test_urandom_raises_oserror_on_rng_seed_error(board):
    con = board.console
    con.run("import os")
    board.engine.qmp("qom-set", path="/machine/soc/rng", property="seed-error", value=True)
    out = con.paste("try:\n    os.urandom(8)\nexcept OSError as e:\n"
                    "    print('OSError', e.errno, e.args[1])\n")
    assert "OSError 5 RNG seed error" in out, out
    board.engine.qmp("qom-set", path="/machine/soc/rng", property="seed-error", value=False)
    assert con.run("print(len(os.urandom(8)))") == "8\n"


def test_ticks_ms_advance_across_sleep_ms(board):
    con = board.console
    out = con.run("import time; t0 = time.ticks_ms(); u0 = time.ticks_us(); "
                  "time.sleep_ms(100); print(time.ticks_diff(time.ticks_ms(), t0), "
                  "time.ticks_diff(time.ticks_us(), u0))")
    ms, us = (int(v) for v in out.split())
    assert 100 <= ms < 1000, out
    assert 100000 <= us < 1000000, out


def test_asyncio_runs_tasks(board):
    con = board.console
    out = con.paste("""
import asyncio
async def tick(name, n):
    for i in range(n):
        await asyncio.sleep_ms(10)
    return name
async def main():
    return await asyncio.gather(tick('a', 3), tick('b', 2))
print(asyncio.run(main()))
""")
    assert out == "['a', 'b']\n", out


def test_unique_id_is_the_chips_96_bit_id(board):
    """machine.unique_id() returns the 12 bytes at 0x1FFF7A10 (RM0090 39.1), the board
    model's default UID words 0x00430027, 0x33345111, 0x35383830 in little-endian order."""
    out = board.console.run("import machine; print(machine.unique_id().hex())")
    assert out == "270043001151343330383835\n", out


def test_machine_reset_reboots_the_board(board):
    con = board.console
    con.write(b"import machine; machine.reset()\r")
    con.expect(BANNER)
    con.expect(PROMPT)


def test_stm324x9i_eval_board_boots_with_active_low_leds(qemu):
    elf = build_firmware("stm324x9i-eval")
    board, con = boot(elf, qemu, machine="stm324x9i-eval")
    try:
        banner = con.expect(BANNER)
        assert b"STM324x9I-EVAL with STM32F439NI" in banner, banner
        con.expect(PROMPT)
        assert board.leds() == {"led1": False, "led2": False, "led3": False, "led4": False}
        con.run("import machine; machine.LED('LED4').on()")
        assert wait_for(lambda: board.led("led4"))
        assert con.run("print(machine.freq())") == "168000000\n"
    finally:
        con.close()
        board.stop()
