# lcd_log: ST's LCD log (Utilities/Log/lcd_log.c, as the STM324xG-EVAL SSL_Client and
# SSL_Server applications set it up) on the board's LCD: a blue title bar three text lines
# high with the application's name in white ("SSL Client Application"), then the status
# lines below it in dark blue on white, 16 of them, scrolling up when full.
#
#     import lcd_log
#     lcd_log.init("SSL Client Application")
#     lcd_log.log("Static IP address: 192.168.0.10")
#
# Boards without an LCD (the STM324x9I-EVAL firmware has no lcd module), or an LCD that
# does not answer, make init() return False and log() do nothing: the apps run the same.

try:
    import lcd
except ImportError:
    lcd = None

HEADER_H = 48       # ST: 3 lines of its 16-pixel header font
TITLE_Y = 16        # ST: the title on the second of those lines
TITLE_SCALE = 2     # 12x16 cells
LINE_H = 12         # ST: its 12-pixel text font
LINES = 16          # ST: YWINDOW_SIZE

_lines = []
_ready = False


def init(title):
    """Clear the screen and draw the title bar; True when the LCD is there."""
    global _ready
    _ready = False
    _lines.clear()
    if lcd is None:
        return False
    try:
        lcd.init()
    except OSError:
        return False
    lcd.clear(lcd.WHITE)
    lcd.fill(0, 0, lcd.WIDTH, HEADER_H, lcd.BLUE)
    lcd.text(title_x(title), TITLE_Y, title, fg=lcd.WHITE, bg=lcd.BLUE, scale=TITLE_SCALE)
    _ready = True
    return True


def title_x(title):
    """Centred as ST's BSP_LCD_DisplayStringAt(CENTER_MODE) centres: whole cells."""
    cell = lcd.CHAR_W * TITLE_SCALE
    return max(0, (lcd.WIDTH // cell - len(title)) * cell // 2)


def _draw(slot, text, color):
    y = HEADER_H + slot * LINE_H
    lcd.fill(0, y, lcd.WIDTH, LINE_H, lcd.WHITE)
    lcd.text(0, y + 2, text, fg=color, bg=lcd.WHITE)


def log(text, color=None):
    """Add text (wrapped at the screen's width) below the earlier lines."""
    if not _ready:
        return
    color = lcd.DARKBLUE if color is None else color
    width = lcd.WIDTH // lcd.CHAR_W
    new = []
    for part in str(text).split("\n"):
        while True:
            new.append((part[:width], color))
            part = part[width:]
            if not part:
                break
    try:
        if len(_lines) + len(new) <= LINES:
            for line in new:
                _draw(len(_lines), *line)
                _lines.append(line)
        else:
            _lines.extend(new)
            del _lines[:len(_lines) - LINES]
            for slot, line in enumerate(_lines):
                _draw(slot, *line)
    except OSError:
        pass


def lines():
    """The lines on the screen now, oldest first."""
    return [text for text, _ in _lines]
