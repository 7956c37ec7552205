"""Reading the board's LCD: PNG screenshots (QMP ``screendump`` with ``format: png``)
decoded with zlib alone, RGB565 colours, and text rendered with the lab's own font
(firmware/lcd_font.h, the table the firmware and the bare-metal program draw with).
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

FONT_HEADER = Path(__file__).resolve().parent.parent / "firmware" / "lcd_font.h"
CELL_W, CELL_H = 6, 8           # LCD_FONT_CELL_W/H: a 5x7 glyph and its spacing
SCREEN_W, SCREEN_H = 320, 240   # the STM324xG-EVAL's panel as its BSP draws it


class Screen:
    """A decoded screenshot: pixel(x, y) -> (r, g, b)."""

    def __init__(self, width: int, height: int, rows: list[bytes]):
        self.width, self.height, self.rows = width, height, rows

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        row = self.rows[y]
        return row[3 * x], row[3 * x + 1], row[3 * x + 2]

    def region(self, x: int, y: int, w: int, h: int) -> list[list[tuple[int, int, int]]]:
        return [[self.pixel(x + i, y + j) for i in range(w)] for j in range(h)]

    def colours(self, x: int, y: int, w: int, h: int) -> set:
        return {p for row in self.region(x, y, w, h) for p in row}


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(data: bytes) -> Screen:
    """Decode an 8-bit RGB, non-interlaced PNG (what QEMU's screendump writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in PNG chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if (depth, colour, interlace) != (8, 2, 0):
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, "
                         f"interlace {interlace}")
    raw = zlib.decompress(idat)
    stride, bpp = 3 * width, 3
    rows, prev = [], bytes(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        rows.append(bytes(line))
        prev = line
    return Screen(width, height, rows)


def rgb565(c: int) -> tuple[int, int, int]:
    """The 8-bit RGB a 5-6-5 colour shows as (each field's top bits repeated below)."""
    r, g, b = c >> 11, (c >> 5) & 0x3F, c & 0x1F
    return (r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)


def load_font() -> dict[str, list[int]]:
    """The glyph rows of firmware/lcd_font.h, by character."""
    text = FONT_HEADER.read_text()
    rows = re.findall(r"^\s*\{((?:0x[0-9A-F]{2}, ){6}0x[0-9A-F]{2})\},", text, re.M)
    if len(rows) != 0x7F - 0x20:
        raise ValueError(f"{FONT_HEADER}: {len(rows)} glyphs, expected 95")
    return {chr(0x20 + i): [int(v, 16) for v in r.split(", ")] for i, r in enumerate(rows)}


def render_text(text: str, scale: int = 1) -> list[list[bool]]:
    """The pixels (True = ink) of text in 6x8 cells, scaled, as the firmware draws it."""
    font = load_font()
    height, width = CELL_H * scale, CELL_W * scale * len(text)
    mask = [[False] * width for _ in range(height)]
    for n, ch in enumerate(text):
        glyph = font.get(ch, font["?"])
        for gy, bits in enumerate(glyph):
            for gx in range(5):
                if bits >> (4 - gx) & 1:
                    for dy in range(scale):
                        for dx in range(scale):
                            mask[gy * scale + dy][(n * CELL_W + gx) * scale + dx] = True
    return mask


def text_mismatches(screen: Screen, x: int, y: int, text: str, fg: int, bg: int,
                    scale: int = 1) -> list[tuple[int, int]]:
    """Pixels of the text box at (x, y) that differ from text drawn in fg on bg."""
    ink, paper = rgb565(fg), rgb565(bg)
    bad = []
    for j, row in enumerate(render_text(text, scale)):
        for i, on in enumerate(row):
            if screen.pixel(x + i, y + j) != (ink if on else paper):
                bad.append((x + i, y + j))
    return bad
