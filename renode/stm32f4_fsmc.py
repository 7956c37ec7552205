# STM32F4 FSMC control registers (RM0090 rev 19 section 36.6), as a Renode
# Python peripheral: the bank configuration registers read back what was
# written, with the manual's reset values. Renode has no FSMC model; what sits
# on the banks is memory or a model of its own on the board description
# (platforms/stm324xg_eval.repl: the ILI9325 LCD on bank 1 region 3).
# No IRQ (FSMC IRQ 48): a Python peripheral has no interrupt output.
#
# SPDX-License-Identifier: GPL-2.0-or-later

# offset: (reset value, writable mask)
FSMC_REGS = {
    0x00: (0x000030DB, 0x000FFB7F),   # BCR1 (MBKEN set: bank 1 region 1 enabled)
    0x04: (0x0FFFFFFF, 0x3FFFFFFF),   # BTR1
    0x08: (0x000030D2, 0x000FFB7F),   # BCR2
    0x0C: (0x0FFFFFFF, 0x3FFFFFFF),   # BTR2
    0x10: (0x000030D2, 0x000FFB7F),   # BCR3
    0x14: (0x0FFFFFFF, 0x3FFFFFFF),   # BTR3
    0x18: (0x000030D2, 0x000FFB7F),   # BCR4
    0x1C: (0x0FFFFFFF, 0x3FFFFFFF),   # BTR4
    0x60: (0x00000018, 0x000FFE7E),   # PCR2
    0x64: (0x00000040, 0x00000007),   # SR2 (FEMPT read-only)
    0x68: (0xFCFCFCFC, 0xFFFFFFFF),   # PMEM2
    0x6C: (0xFCFCFCFC, 0xFFFFFFFF),   # PATT2
    0x74: (0x00000000, 0x00000000),   # ECCR2 (read-only)
    0x80: (0x00000018, 0x000FFE7E),   # PCR3
    0x84: (0x00000040, 0x00000007),   # SR3
    0x88: (0xFCFCFCFC, 0xFFFFFFFF),   # PMEM3
    0x8C: (0xFCFCFCFC, 0xFFFFFFFF),   # PATT3
    0x94: (0x00000000, 0x00000000),   # ECCR3
    0xA0: (0x00000018, 0x000FFE7E),   # PCR4
    0xA4: (0x00000040, 0x00000007),   # SR4
    0xA8: (0xFCFCFCFC, 0xFFFFFFFF),   # PMEM4
    0xAC: (0xFCFCFCFC, 0xFFFFFFFF),   # PATT4
    0xB0: (0xFCFCFCFC, 0xFFFFFFFF),   # PIO4
    0x104: (0x0FFFFFFF, 0x3FFFFFFF),  # BWTR1
    0x10C: (0x0FFFFFFF, 0x3FFFFFFF),  # BWTR2
    0x114: (0x0FFFFFFF, 0x3FFFFFFF),  # BWTR3
    0x11C: (0x0FFFFFFF, 0x3FFFFFFF),  # BWTR4
}


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
    fsmc_regs = dict((off, reset) for off, (reset, _) in FSMC_REGS.items())
else:
    _offset = int(_member(request, "Offset")) & ~3
    if _offset not in FSMC_REGS:
        self.WarningLog("FSMC: access to reserved offset 0x%x" % _offset)
        if _member(request, "IsRead"):
            _set_value(request, 0)
    elif _member(request, "IsRead"):
        _set_value(request, fsmc_regs[_offset])
    elif _member(request, "IsWrite"):
        _mask = FSMC_REGS[_offset][1]
        _value = int(_member(request, "Value"))
        fsmc_regs[_offset] = (fsmc_regs[_offset] & ~_mask) | (_value & _mask)
