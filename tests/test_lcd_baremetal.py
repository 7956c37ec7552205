"""A CPU drives the LCD: tests/baremetal/lcd.elf brings it up the way ST's BSP_LCD_Init does
(GPIO AF12 on the FSMC pins, BCR3/BTR3 through HAL_SRAM_Init's steps, the ID, ili9325_Init,
BSP_LCD_Clear) and draws a known picture; the screen, saved as a PNG through QMP
screendump while the program idles, is compared with that picture pixel by pixel. Before
enabling NE3 the program reads it once: the FSMC answers with a bus fault. The screen is
saved the three ways a user saves it: Board.screenshot, `board.py --screenshot FILE` at
exit, and Robot's `Capture LCD`."""
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from host_tools.board import Board
from lab_lcd import SCREEN_H, SCREEN_W, read_png, rgb565, text_mismatches
from lab_robot import run_robot

TOP = Path(__file__).resolve().parent.parent
WHITE, BLUE, RED, GREEN, DARKBLUE = 0xFFFF, 0x001F, 0xF800, 0x07E0, 0x0010
BARS = [0xF800, 0x07E0, 0x001F, 0xFFE0, 0x07FF, 0xF81F, 0x0000, 0xFFFF]


@pytest.fixture(scope="module")
def lcd_elf(baremetal) -> Path:
    return baremetal / "lcd.elf"


@pytest.fixture(scope="module")
def run(qemu, lcd_elf, tmp_path_factory):
    """Boot lcd.elf, wait for 'lcd: done', take the screenshot: (console text, Screen)."""
    png = tmp_path_factory.mktemp("lcd") / "screen.png"
    with Board(lcd_elf, emulator=qemu).start(paused=True) as board:
        with serial.serial_for_url(board.uart(), timeout=0.2) as port:
            board.wait_uart_connected()
            board.resume()
            out = b""
            deadline = time.monotonic() + 60
            while b"lcd: done" not in out:
                assert time.monotonic() < deadline, f"no 'lcd: done'; console: {out!r}"
                out += port.read(256)
        assert board.screenshot(png) == png
    return out.decode(errors="replace"), read_png(png.read_bytes())


def test_disabled_bank_takes_a_precise_bus_fault(run):
    out, _ = run
    m = re.search(r"lcd: disabled bank: faults (\d+) BFAR (0x\w+) CFSR (0x\w+)", out)
    assert m, out
    assert int(m[1]) == 1
    assert int(m[2], 16) == 0x68000002
    assert int(m[3], 16) & 0x8200 == 0x8200             # PRECISERR, BFARVALID


def test_fsmc_set_up_as_the_bsp_and_id_read(run):
    out, _ = run
    assert "lcd: BCR3 0x00001091 BTR3 0x00100915" in out
    assert "lcd: id 0x9325" in out


def test_pixel_reads_back_through_the_dummy_read(run):
    """GRAM holds the red bar with R and B swapped (BGR=1): the read shows 0x001F."""
    out, _ = run
    assert "lcd: pixel (20,100) reads 0x001F" in out


def assert_the_picture(screen):
    assert (screen.width, screen.height) == (SCREEN_W, SCREEN_H)
    # the title bar, and its text in the lab's font
    assert screen.colours(0, 0, 320, 8) == {rgb565(BLUE)}
    assert text_mismatches(screen, 8, 8, "STM324xG-EVAL bare-metal LCD", WHITE, BLUE) == []
    assert screen.colours(8 + 28 * 6, 8, 320 - 8 - 28 * 6, 16) == {rgb565(BLUE)}
    # the larger text on the cleared (white) screen
    assert text_mismatches(screen, 8, 40, "Hello, ILI9325!", DARKBLUE, WHITE, scale=2) == []
    assert screen.colours(0, 24, 316, 16) == {rgb565(WHITE)}
    # eight colour bars, 40 pixels wide, from y 80 to 139
    for i, colour in enumerate(BARS):
        assert screen.colours(i * 40, 80, 40, 60) == {rgb565(colour)}, i
    # the corner markers fix the orientation
    assert screen.colours(0, 236, 4, 4) == {rgb565(RED)}
    assert screen.colours(316, 236, 4, 4) == {rgb565(GREEN)}
    assert screen.colours(316, 30, 4, 4) == {rgb565(0xF81F)}
    assert screen.colours(4, 140, 312, 100) == {rgb565(WHITE)}


def test_screen_shows_the_picture(run):
    _, screen = run
    assert_the_picture(screen)


def test_launcher_saves_the_screen_at_exit(qemu, lcd_elf, tmp_path):
    """board.py --screenshot FILE: the PNG written when the launcher is stopped (Ctrl-C)."""
    png, logs = tmp_path / "exit.png", tmp_path / "logs"
    proc = subprocess.Popen([sys.executable, "-m", "host_tools.board", "--firmware", str(lcd_elf),
                             "--qemu", str(qemu), "--screenshot", str(png),
                             "--log-dir", str(logs)],
                            cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        console = logs / "console.log"
        while not (console.exists() and b"lcd: done" in console.read_bytes()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no 'lcd: done' on the console"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"board: LCD saved to {png}" in out
    assert_the_picture(read_png(png.read_bytes()))


def test_screenshot_refused_on_a_board_without_an_lcd(qemu, lcd_elf, tmp_path):
    """The STM324x9I-EVAL's LCD is not modelled: one line, before anything starts."""
    r = subprocess.run([sys.executable, "-m", "host_tools.board", "--firmware", str(lcd_elf),
                        "--qemu", str(qemu), "--machine", "stm324x9i-eval",
                        "--screenshot", str(tmp_path / "x.png")],
                       cwd=TOP, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        "board: --screenshot: stm324x9i-eval has no LCD in this lab"]
    assert not (tmp_path / "x.png").exists()


def test_robot_capture_lcd_embeds_the_screen(qemu, lcd_elf, tmp_path):
    output = run_robot(tmp_path, "lcd", f"""\
LCD Shows The Picture
    Create Board    firmware={lcd_elf}
    Create Terminal Tester    console    timeout=60
    Start Emulation
    Wait For Line On Uart    lcd: done
    ${{png}}=    Capture LCD    picture
    Should Be Equal    ${{png}}    {tmp_path / 'picture-1.png'}
""")
    assert_the_picture(read_png((tmp_path / "picture-1.png").read_bytes()))
    assert 'html="true">&lt;img src="picture-1.png" alt="LCD"' in \
        output.read_text()
