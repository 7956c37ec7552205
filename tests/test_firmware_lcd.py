"""The MicroPython firmware on the STM324xG-EVAL's LCD: the lcd module (FSMC + ILI9325 as
ST's BSP drives them) from the REPL, and the apps showing ST's LCD messages: the title bar
("SSL Client Application" / "SSL Server Application", as ST's LCD_LOG_SetHeader draws it)
and the link/address lines below it.

What the pixel checks prove: each expected text is rendered here from the same font table
the firmware uses (firmware/lcd_font.h) at the position and in the colours lcd_log draws it,
and every pixel of that box must match the screen QEMU saves (screendump, PNG). So the
firmware drew exactly that string there; the font's own legibility is a separate matter
(the PNG is worth a look)."""
import time

import pytest

from lab_firmware import PROMPT
from lab_firmware import boot as lab_boot
from lab_lcd import read_png, rgb565, text_mismatches

WHITE, BLUE, DARKBLUE, RED = 0xFFFF, 0x001F, 0x0010, 0xF800
HEADER_H, TITLE_Y, LINE_H = 48, 16, 12       # lcd_log's layout (ST's LCD log)


@pytest.fixture
def boot(firmware_elf, qemu):
    started = []

    def start(**options):
        board, con = lab_boot(firmware_elf, qemu, **options)
        started.append((board, con))
        return board, con

    yield start
    for board, con in reversed(started):
        con.close()
        board.stop()


def screen_of(board, path):
    return read_png(board.screenshot(path).read_bytes())


def wait_for_text(board, tmp_path, x, y, text, fg, bg, scale=1, timeout=30.0):
    """Screenshots until the text box at (x, y) shows text (the console line comes first,
    the LCD is drawn right after it); returns the last screen."""
    deadline = time.monotonic() + timeout
    n = 0
    while True:
        n += 1
        screen = screen_of(board, tmp_path / f"screen{n}.png")
        bad = text_mismatches(screen, x, y, text, fg, bg, scale)
        if not bad:
            return screen
        assert time.monotonic() < deadline, \
            f"{text!r} not on the LCD at ({x}, {y}): {len(bad)} pixels differ, e.g. {bad[:5]}"
        time.sleep(0.2)


def title_x(title):
    return (320 // 12 - len(title)) * 12 // 2


def log_line(n):
    return HEADER_H + n * LINE_H + 2


@pytest.mark.parametrize("role,title", [("client", "SSL Client Application"),
                                        ("server", "SSL Server Application")])
def test_app_shows_st_title_and_address(boot, tmp_path, role, title):
    board, con = boot(config={"role": role, "period": 60})
    con.expect(b"Static IP address: 192.168.0.10", 60)
    screen = wait_for_text(board, tmp_path, 0, log_line(1), "Static IP address: 192.168.0.10",
                           DARKBLUE, WHITE)
    assert text_mismatches(screen, title_x(title), TITLE_Y, title, WHITE, BLUE, scale=2) == []
    assert title_x(title) == 24
    left = screen.colours(0, 0, title_x(title), HEADER_H)
    assert left == {rgb565(BLUE)}                         # the bar, full width
    assert screen.colours(0, 0, 320, HEADER_H) == {rgb565(BLUE), rgb565(WHITE)}
    assert text_mismatches(screen, 0, log_line(0), "The network cable is now connected",
                           DARKBLUE, WHITE) == []
    assert screen.colours(0, log_line(3), 320, 240 - log_line(3)) == {rgb565(WHITE)}


def test_cable_out_and_back_is_logged_on_the_lcd(boot, tmp_path):
    board, con = boot(config={"role": "client", "period": 60})
    con.expect(b"Static IP address: 192.168.0.10", 60)
    board.link_down()
    con.expect(b"The network cable is not connected", 30)
    wait_for_text(board, tmp_path, 0, log_line(2), "The network cable is not connected",
                  DARKBLUE, WHITE)
    board.link_up()
    con.expect(b"The network cable is now connected", 30)
    wait_for_text(board, tmp_path, 0, log_line(4), "Static IP address: 192.168.0.10",
                  DARKBLUE, WHITE)


def test_lcd_module_from_the_repl(boot, tmp_path):
    board, con = boot(config={"role": "repl"})
    con.expect(PROMPT, 30)

    def run(line, timeout=20):
        con.write(line.encode() + b"\r")
        return con.expect(PROMPT, timeout).decode(errors="replace")

    assert "0x9325" in run("import lcd; hex(lcd.init())")
    run("lcd.clear(lcd.BLACK)")
    run("lcd.fill(10, 20, 30, 40, lcd.RED)")
    assert "63488" in run("lcd.pixel(25, 30)")            # RED read back through GRAM
    run("lcd.pixel(100, 100, lcd.GREEN)")
    out = run("lcd.text(50, 120, 'MicroPython on the ILI9325', fg=lcd.YELLOW, "
              "bg=lcd.DARKBLUE, scale=1)")
    assert "206" in out                                   # 50 + 26 * 6
    run("lcd.line(27, 'line 27', lcd.WHITE, lcd.BLUE)")
    screen = screen_of(board, tmp_path / "repl.png")
    assert screen.colours(10, 20, 30, 40) == {rgb565(RED)}
    assert screen.colours(0, 0, 10, 20) == {(0, 0, 0)}
    assert screen.pixel(100, 100) == rgb565(0x07E0)
    assert text_mismatches(screen, 50, 120, "MicroPython on the ILI9325", 0xFFE0, DARKBLUE) == []
    assert text_mismatches(screen, 0, 27 * 8, "line 27", WHITE, BLUE) == []
    assert screen.colours(7 * 6, 27 * 8, 320 - 7 * 6, 8) == {rgb565(BLUE)}
    assert "ValueError" in run("lcd.pixel(320, 0)")
    run("lcd.off()")
    assert screen_of(board, tmp_path / "off.png").colours(0, 0, 320, 240) == {(0, 0, 0)}
    run("lcd.on()")
    assert screen_of(board, tmp_path / "on.png").colours(10, 20, 30, 40) == {rgb565(RED)}
