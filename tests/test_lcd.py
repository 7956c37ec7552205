"""FSMC (RM0090 36) and the STM324xG-EVAL's ILI9325 LCD on bank 1 region 3, through qtest:
FSMC reset values and bank enables, the LCD's ID, GRAM address counter, window and entry
modes, GRAM reads with the datasheet's dummy read, display on/off, and the screen as QMP
screendump saves it (PNG), compared pixel by pixel with a pattern written through the
registers. Every test enables the FSMC clock (RCC_AHB3ENR.FSMCEN) as firmware must."""
import pytest

from lab_lcd import read_png, rgb565
from lab_qtest import QTest

RCC_AHB3ENR = 0x40023838
FSMCEN = 1 << 0
FSMC = 0xA0000000


def BCR(n):
    return FSMC + 8 * (n - 1)


def BTR(n):
    return FSMC + 8 * (n - 1) + 4


def BWTR(n):
    return FSMC + 0x104 + 8 * (n - 1)


def PCR(bank):
    return FSMC + 0x60 + 0x20 * (bank - 2)


def SR(bank):
    return PCR(bank) + 4


def PMEM(bank):
    return PCR(bank) + 8


def PATT(bank):
    return PCR(bank) + 0xC


PIO4, ECCR2, ECCR3 = FSMC + 0xB0, FSMC + 0x74, FSMC + 0x94
MBKEN, MWID_16, WREN = 1 << 0, 1 << 4, 1 << 12
LCD_REG, LCD_RAM = 0x68000000, 0x68000002      # NE3, RS on A0
# What ST's FSMC_BANK3_Init leaves in BCR3/BTR3 (HAL_SRAM_Init: SRAM, 16 bits, write
# enabled, mode A, ADDSET 5, ADDHLD 1, DATAST 9, CLKDIV 2, DATLAT 2; bit 7 is reserved, 1)
BSP_BCR3 = 0x80 | WREN | MWID_16
BSP_BTR3 = 5 | (1 << 4) | (9 << 8) | (1 << 20)

RED, GREEN, BLUE, WHITE, BLACK = 0xF800, 0x07E0, 0x001F, 0xFFFF, 0x0000


def fsmc_clock_on(qts):
    qts.writel(RCC_AHB3ENR, qts.readl(RCC_AHB3ENR) | FSMCEN)


class Lcd:
    """The ILI9325 through the FSMC, as ST's LCD_IO_* functions drive it (16-bit)."""

    def __init__(self, qts):
        self.qts = qts

    def index(self, reg):
        self.qts.writew(LCD_REG, reg)

    def write(self, reg, value):
        self.index(reg)
        self.qts.writew(LCD_RAM, value)

    def read(self, reg):
        self.index(reg)
        return self.qts.readw(LCD_RAM)

    def data(self, value):
        self.qts.writew(LCD_RAM, value)

    def rdata(self):
        return self.qts.readw(LCD_RAM)

    def pixels(self, values):
        self.index(0x22)
        for v in values:
            self.data(v)

    def cursor(self, h, v):
        self.write(0x20, h)
        self.write(0x21, v)

    def window(self, hsa, hea, vsa, vea):
        for reg, value in zip((0x50, 0x51, 0x52, 0x53), (hsa, hea, vsa, vea)):
            self.write(reg, value)

    def gram(self, h, v):
        """One GRAM word: set the address, R22h, the dummy read, the data."""
        self.cursor(h, v)
        self.index(0x22)
        self.rdata()
        return self.rdata()

    def st_init(self):
        """The registers of ST's ili9325_Init that shape the picture (the rest are
        power and gamma settings, stored)."""
        self.write(0x00, 0x0001)
        self.write(0x01, 0x0100)        # SS
        self.write(0x03, 0x1018)        # BGR, I/D=01, AM
        self.write(0x10, 0x17B0)
        self.window(0, 0xEF, 0, 0x13F)
        self.write(0x60, 0xA700)        # GS, 320 lines
        self.write(0x61, 0x0001)        # REV
        self.write(0x6A, 0x0000)
        self.write(0x07, 0x0173)        # display on

    def bsp_cursor(self, x, y):
        """ST's ili9325_SetCursor for its 320x240 picture."""
        self.cursor(y, 319 - x)


@pytest.fixture
def lcd(qts):
    """The FSMC clocked and NE3 set up as ST's FSMC_BANK3_Init leaves it."""
    fsmc_clock_on(qts)
    qts.writel(BCR(3), BSP_BCR3)
    qts.writel(BTR(3), BSP_BTR3)
    qts.writel(BCR(3), qts.readl(BCR(3)) | MBKEN)
    return Lcd(qts)


def screenshot(qts, tmp_path, name="screen.png"):
    path = tmp_path / name
    assert qts.qmp("screendump", filename=str(path), format="png") == {}
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return read_png(data)


# --- FSMC registers --------------------------------------------------------------------

def test_fsmc_reset_values(qts):
    fsmc_clock_on(qts)
    assert qts.readl(BCR(1)) == 0x000030DB              # NE1 enabled: NOR, 16-bit, muxed
    for n in (2, 3, 4):
        assert qts.readl(BCR(n)) == 0x000030D2
    for n in (1, 2, 3, 4):
        assert (qts.readl(BTR(n)), qts.readl(BWTR(n))) == (0x0FFFFFFF, 0x0FFFFFFF)
    for bank in (2, 3, 4):
        assert qts.readl(PCR(bank)) == 0x00000018
        assert qts.readl(SR(bank)) == 0x00000040       # FEMPT
        assert qts.readl(PMEM(bank)) == qts.readl(PATT(bank)) == 0xFCFCFCFC
    assert qts.readl(PIO4) == 0xFCFCFCFC
    assert qts.readl(ECCR2) == qts.readl(ECCR3) == 0


def test_fsmc_writable_bits(qts):
    fsmc_clock_on(qts)
    qts.writel(BCR(3), 0)
    assert qts.readl(BCR(3)) == 0x80                     # bit 7 reserved, kept at 1
    qts.writel(BCR(3), 0xFFFFFFFF)
    assert qts.readl(BCR(3)) == 0x000FFFFF               # no CCLKEN on the FSMC
    qts.writel(BTR(2), 0xFFFFFFFF)
    qts.writel(BWTR(4), 0xFFFFFFFF)
    assert qts.readl(BTR(2)) == qts.readl(BWTR(4)) == 0x3FFFFFFF
    qts.writel(PCR(2), 0xFFFFFFFF)
    assert qts.readl(PCR(2)) == 0x000FFE7E
    qts.writel(SR(3), 0xFF)                              # flags: set by hardware only
    assert qts.readl(SR(3)) == 0x78
    qts.writel(SR(3), 0)
    assert qts.readl(SR(3)) == 0x40
    qts.writel(ECCR2, 0x12345678)
    assert qts.readl(ECCR2) == 0
    assert "ECCR2 is read-only" in qts.log()


def test_fsmc_registers_take_words_only(qts):
    fsmc_clock_on(qts)
    qts.writeb(BCR(2) + 1, 0x00)
    assert qts.readl(BCR(2)) == 0x000030D2
    assert "1-byte write at 0x009 ignored" in qts.log()
    assert qts.readb(BCR(2) + 1) == 0x30                 # the addressed byte, logged


def test_fsmc_reset(qts):
    fsmc_clock_on(qts)
    qts.writel(BCR(3), BSP_BCR3 | MBKEN)
    qts.writel(BTR(3), BSP_BTR3)
    qts.writel(PCR(2), 0x4)
    qts.qmp("system_reset")
    # the reset clears the RCC too: the FSMC's clock is off again until firmware sets it
    qts.wait_until(lambda: not qts.readl(RCC_AHB3ENR) & FSMCEN)
    fsmc_clock_on(qts)
    assert qts.readl(BCR(3)) == 0x30D2
    assert qts.readl(BTR(3)) == 0x0FFFFFFF and qts.readl(PCR(2)) == 0x18


# --- bank enables ----------------------------------------------------------------------

def test_disabled_region_is_an_ahb_error_and_reaches_no_device(qts):
    """RM0090 36.3: an access to a bank that is not enabled is an AHB error (a bus fault
    for the CPU, see test_lcd_baremetal); here: logged, and the LCD never sees it."""
    fsmc_clock_on(qts)
    qts.writel(BCR(3), BSP_BCR3)                 # configured, MBKEN still 0
    lcd = Lcd(qts)
    lcd.index(0x00)
    assert lcd.rdata() == 0
    log = qts.log()
    assert "bank 1 region 3 (NE3) is not enabled (BCR3.MBKEN=0): AHB error" in log
    qts.writel(BCR(3), BSP_BCR3 | MBKEN)
    assert lcd.read(0x00) == 0x9325


def test_write_disabled_region_is_an_error(lcd, qts):
    qts.writel(BCR(3), (BSP_BCR3 | MBKEN) & ~WREN)
    lcd.index(0x50)
    assert "writes to NE3 are disabled (BCR3.WREN=0): AHB error" in qts.log()
    assert qts.readw(LCD_RAM) == 0x9325          # reads still work: the index stayed R00h


def test_nor_region_without_faccen_is_an_error(qts):
    fsmc_clock_on(qts)
    qts.writel(BCR(3), 0x80 | WREN | MWID_16 | (2 << 2) | MBKEN)  # NOR, FACCEN=0
    qts.readw(LCD_RAM)
    assert "NOR flash region NE3 with BCR3.FACCEN=0: AHB error" in qts.log()


def test_regions_without_device_and_nand_banks(qts):
    fsmc_clock_on(qts)
    assert qts.readl(0x60000000) == 0                    # NE1 enabled at reset, nothing on it
    assert "no device on NE1" in qts.log()
    qts.readl(0x64000000)
    assert "region 2 (NE2) is not enabled" in qts.log()
    qts.readl(0x70000000)
    assert "bank 2 is not enabled (PCR2.PBKEN=0): AHB error" in qts.log()
    qts.writel(PCR(4), 0x18 | 0x4)
    assert qts.readl(0x90000000) == 0
    assert "no NAND flash or PC Card on bank 4" in qts.log()


# --- data width and byte lanes ---------------------------------------------------------

def test_lcd_id(lcd):
    """ST's ili9325_ReadID: index 0, then one 16-bit read of the data port."""
    assert lcd.read(0x00) == 0x9325


def test_word_access_is_two_halfword_transactions(lcd, qts):
    """A 32-bit AHB write to the 16-bit memory is two accesses, low half first: the index
    (A0=0), then the data (A0=1)."""
    qts.writel(LCD_REG, (0x0707 << 16) | 0x30)
    assert lcd.read(0x30) == 0x0707


def test_8bit_width_shifts_the_address_lines(lcd, qts):
    """With MWID=8 bits HADDR[0] drives A0: 0x6800_0002 is A1 and the LCD's RS (on A0)
    sees index, data, index, data for the four bytes of a word; the ID read goes wrong."""
    qts.writel(BCR(3), 0x80 | WREN | MBKEN)              # MWID = 8 bits
    qts.writew(LCD_REG, 0x0000)
    value = qts.readw(LCD_RAM)
    assert value != 0x9325
    # byte 0x6800_0002 reaches RS=0 (a status read, 0); byte 0x6800_0003 RS=1 (R00h low byte)
    assert value == 0x2500
    qts.writel(BCR(3), BSP_BCR3 | MBKEN)
    assert lcd.read(0x00) == 0x9325


def test_byte_access_to_the_lcd_is_a_guest_error(lcd, qts):
    qts.writeb(LCD_REG, 0x00)
    assert "byte write: the 16-bit bus has no byte lanes" in qts.log()


# --- GRAM address counter, window, entry modes -----------------------------------------

def traversal(hsa, hea, vsa, vea, am, idh, idv, start, count):
    """The GRAM addresses (h, v) successive writes land on (datasheet: window address
    function; AM=0 moves AD[7:0] first, AM=1 AD[16:8]; at the window's edge the other
    coordinate steps and the first wraps to the opposite edge)."""
    h, v = start
    out = []
    for _ in range(count):
        out.append((h, v))
        if am == 0:
            if idh:
                h, carry = (hsa, True) if h >= hea else (h + 1, False)
            else:
                h, carry = (hea, True) if h <= hsa else (h - 1, False)
            if carry:
                v = (vsa if v >= vea else v + 1) if idv else (vea if v <= vsa else v - 1)
        else:
            if idv:
                v, carry = (vsa, True) if v >= vea else (v + 1, False)
            else:
                v, carry = (vea, True) if v <= vsa else (v - 1, False)
            if carry:
                h = (hsa if h >= hea else h + 1) if idh else (hea if h <= hsa else h - 1)
    return out


@pytest.mark.parametrize("am", [0, 1])
@pytest.mark.parametrize("idh,idv", [(1, 1), (0, 1), (1, 0), (0, 0)])
def test_entry_modes_fill_the_window(lcd, am, idh, idv):
    hsa, hea, vsa, vea = 10, 13, 200, 202              # 4 x 3 window
    lcd.write(0x03, (idv << 5) | (idh << 4) | (am << 3))   # BGR=0: GRAM holds the data
    lcd.window(hsa, hea, vsa, vea)
    start = (hsa if idh else hea, vsa if idv else vea)
    lcd.cursor(*start)
    values = [0x1000 + i for i in range(14)]           # 12 fill the window, 2 wrap around
    lcd.pixels(values)
    expect = {}
    for addr, value in zip(traversal(hsa, hea, vsa, vea, am, idh, idv, start, 14), values):
        expect[addr] = value
    assert expect[start] == values[12]                 # the 13th write wrapped to the start
    for (h, v), value in expect.items():
        assert lcd.gram(h, v) == value, (am, idh, idv, h, v)
    assert lcd.gram(hsa - 1, vsa) == 0                 # outside the window: untouched


def test_gram_read_has_a_dummy_read_then_follows_the_counter(lcd):
    lcd.write(0x03, 0x0030)                            # AM=0, I/D=11, BGR=0
    lcd.cursor(0, 5)
    lcd.pixels([0x1111, 0x2222, 0x3333, 0x4444])
    lcd.cursor(100, 100)
    lcd.pixels([0xABCD])
    lcd.cursor(0, 5)
    lcd.index(0x22)
    lcd.rdata()                                        # dummy: the latch's old content
    assert [lcd.rdata() for _ in range(3)] == [0x1111, 0x2222, 0x3333]
    lcd.cursor(100, 100)
    lcd.index(0x22)
    assert lcd.rdata() != 0xABCD                       # the first read after AC is set
    assert lcd.rdata() == 0xABCD


def test_bgr_swaps_red_and_blue_into_gram(lcd):
    lcd.write(0x03, 0x1030)                            # BGR=1
    lcd.cursor(3, 3)
    lcd.pixels([RED])
    lcd.write(0x03, 0x0030)
    assert lcd.gram(3, 3) == BLUE


def test_address_registers_and_stored_registers(lcd):
    lcd.cursor(0x12, 0x134)
    assert (lcd.read(0x20), lcd.read(0x21)) == (0x12, 0x134)
    for reg, value in ((0x30, 0x0007), (0x90, 0x0010), (0x2B, 0x000E)):
        lcd.write(reg, value)
        assert lcd.read(reg) == value


# --- the screen ------------------------------------------------------------------------

def test_screendump_is_a_320x240_png_black_until_the_display_is_on(lcd, qts, tmp_path):
    screen = screenshot(qts, tmp_path)
    assert (screen.width, screen.height) == (320, 240)
    assert screen.colours(0, 0, 320, 240) == {(0, 0, 0)}


def test_pattern_written_through_the_registers_shows_pixel_for_pixel(lcd, qts, tmp_path):
    """ST's orientation (SS, GS, entry mode 0x1018, BGR, REV): a gradient block drawn in a
    window as ST's SetDisplayWindow does, and a marker on each corner of its 320x240
    picture, appear on the screen at ST's X, Y in their RGB565 colours."""
    lcd.st_init()
    x0, y0, w, h = 40, 20, 24, 10
    lcd.window(y0, y0 + h - 1, 320 - x0 - w, 319 - x0)
    lcd.bsp_cursor(x0, y0)

    def colour(i, j):
        return ((i * 31 // (w - 1)) << 11) | ((j * 63 // (h - 1)) << 5) | (i + j) % 32

    lcd.pixels([colour(i, j) for j in range(h) for i in range(w)])
    lcd.window(0, 0xEF, 0, 0x13F)
    corners = {(0, 0): RED, (319, 0): GREEN, (0, 239): BLUE, (319, 239): WHITE}
    for (x, y), c in corners.items():
        lcd.bsp_cursor(x, y)
        lcd.pixels([c])
    screen = screenshot(qts, tmp_path)
    for j in range(h):
        for i in range(w):
            assert screen.pixel(x0 + i, y0 + j) == rgb565(colour(i, j)), (i, j)
    for (x, y), c in corners.items():
        assert screen.pixel(x, y) == rgb565(c), (x, y)
    assert screen.pixel(x0 - 1, y0) == screen.pixel(x0 + w, y0 + h - 1) == (0, 0, 0)
    assert screen.pixel(0, 1) == screen.pixel(1, 0) == (0, 0, 0)


def test_panel_flags_move_and_recolour_the_picture(lcd, qts, tmp_path):
    lcd.st_init()
    lcd.bsp_cursor(10, 20)
    lcd.pixels([RED])
    assert screenshot(qts, tmp_path, "a.png").pixel(10, 20) == rgb565(RED)
    lcd.write(0x01, 0x0000)                            # SS=0: sources mirrored
    assert screenshot(qts, tmp_path, "b.png").pixel(10, 239 - 20) == rgb565(RED)
    lcd.write(0x01, 0x0100)
    lcd.write(0x60, 0x2700)                            # GS=0: gate scan reversed
    assert screenshot(qts, tmp_path, "c.png").pixel(319 - 10, 20) == rgb565(RED)
    lcd.write(0x60, 0xA700)
    lcd.write(0x61, 0x0000)                            # REV=0: grey levels inverted
    assert screenshot(qts, tmp_path, "d.png").pixel(10, 20) == rgb565(RED ^ 0xFFFF)
    lcd.write(0x61, 0x0003)                            # VLE: scroll the base image
    lcd.write(0x6A, 5)
    assert screenshot(qts, tmp_path, "e.png").pixel(10 + 5, 20) == rgb565(RED)
    lcd.write(0x61, 0x0001)
    lcd.write(0x03, 0x0018)                            # BGR=0 for new data: R and B swap
    lcd.bsp_cursor(11, 20)
    lcd.pixels([RED])
    assert screenshot(qts, tmp_path, "f.png").pixel(11, 20) == rgb565(BLUE)


def test_display_off_and_sleep_blank_the_screen(lcd, qts, tmp_path):
    lcd.st_init()
    lcd.bsp_cursor(5, 5)
    lcd.pixels([GREEN])
    assert screenshot(qts, tmp_path, "on.png").pixel(5, 5) == rgb565(GREEN)
    lcd.write(0x07, 0x0000)                            # ST's ili9325_DisplayOff
    assert screenshot(qts, tmp_path, "off.png").colours(0, 0, 320, 240) == {(0, 0, 0)}
    lcd.write(0x07, 0x0173)                            # ili9325_DisplayOn: GRAM kept
    assert screenshot(qts, tmp_path, "on2.png").pixel(5, 5) == rgb565(GREEN)
    lcd.write(0x10, 0x17B2)                            # SLP
    assert screenshot(qts, tmp_path, "slp.png").pixel(5, 5) == (0, 0, 0)


def test_stm324x9i_eval_has_the_fmc_but_no_lcd(qemu):
    with QTest(qemu, machine="stm324x9i-eval") as q:
        fsmc_clock_on(q)
        assert q.readl(BCR(1)) == 0x30DB
        q.writel(BCR(1), 0xFFFFFFFF)
        assert q.readl(BCR(1)) == 0x001FFFFF            # FMC: CCLKEN in BCR1
        q.writel(BCR(3), BSP_BCR3 | MBKEN)
        assert q.readw(LCD_RAM) == 0
        assert "no device on NE3" in q.log()
