# ILI9325 240x320 LCD controller on the STM324xG-EVAL's FSMC bank 1 region 3
# (UM1461: 16-bit 8080 interface, RS on A0 of the half-word address, so the
# index register is at 0x68000000 and the data register at 0x68000002), as a
# Renode Python peripheral. A register file, not a display: the index
# register selects a register, the data register reads or writes it; R00h
# (driver code) reads 0x9325, which is what ST's BSP checks before it uses
# the panel; GRAM writes (R22h) are counted and dropped.
#
# SPDX-License-Identifier: GPL-2.0-or-later

ILI9325_ID = 0x9325
ILI9325_GRAM = 0x22


def _member(req, name):
    try:
        return getattr(req, name)
    except AttributeError:                  # Renode before 1.14: isInit, offset, value
        return getattr(req, name[0].lower() + name[1:])


def _set_value(req, value):
    try:
        req.Value = value
    except AttributeError:
        req.value = value


if _member(request, "IsInit"):
    lcd_index = 0
    lcd_regs = {0x00: ILI9325_ID}
    lcd_gram_writes = 0
else:
    _data = int(_member(request, "Offset")) & 2     # A0 of the half-word address: RS
    if _member(request, "IsWrite"):
        _value = int(_member(request, "Value")) & 0xFFFF
        if not _data:
            lcd_index = _value & 0xFF
        elif lcd_index == ILI9325_GRAM:
            lcd_gram_writes += 1
        elif lcd_index != 0x00:                       # R00h is read-only (driver code)
            lcd_regs[lcd_index] = _value
    elif _member(request, "IsRead"):
        _set_value(request, lcd_regs.get(lcd_index, 0) if _data else 0)
