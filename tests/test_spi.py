"""SPI1..SPI5 of the STM32F411 (RM0383 section 20) on the NUCLEO-F411RE, through qtest.

Reset values, access widths, the DR/TXE/RXNE/OVR rules, interrupts, CRC, bit order,
16-bit frames and the DMA requests. The frames the SPI clocks are read back from QEMU's
`stm32f4xx_spi_transfer` trace events (one per frame on the wire): writing DR clocks
exactly one frame, reading DR clocks none (QEMU's own stm32f2xx_spi clocks one on every
DR read, which breaks a W5100's 4-byte command framing). SPI2..SPI5 have no device on
their bus, so the frames clocked in read 0.
"""
import re

import pytest

from lab_qtest import QTest

MACHINE = "nucleo-f411re"
RCC = 0x40023800
AHB1ENR, APB1ENR, APB2ENR = RCC + 0x30, RCC + 0x40, RCC + 0x44
APB1RSTR, APB2RSTR = RCC + 0x20, RCC + 0x24

# base, NVIC line, (RCC enable register, bit)
SPIS = {
    1: (0x40013000, 35, (APB2ENR, 12)),
    2: (0x40003800, 36, (APB1ENR, 14)),
    3: (0x40003C00, 51, (APB1ENR, 15)),
    4: (0x40013400, 84, (APB2ENR, 13)),
    5: (0x40015000, 85, (APB2ENR, 20)),
}
CR1, CR2, SR, DR, CRCPR, RXCRCR, TXCRCR, I2SCFGR, I2SPR = range(0, 0x24, 4)
RESET = {CR1: 0, CR2: 0, SR: 0x0002, DR: 0, CRCPR: 0x0007, RXCRCR: 0, TXCRCR: 0,
         I2SCFGR: 0, I2SPR: 0x0002}

# CR1
CPHA, CPOL, MSTR, SPE, LSBFIRST, SSI, SSM = 1, 2, 4, 1 << 6, 1 << 7, 1 << 8, 1 << 9
DFF, CRCNEXT, CRCEN, BIDIOE, BIDIMODE = 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15
MASTER = MSTR | SSM | SSI | SPE | 3 << 3
# CR2
RXDMAEN, TXDMAEN, ERRIE, RXNEIE, TXEIE = 1, 2, 1 << 5, 1 << 6, 1 << 7
# SR
RXNE, TXE, CRCERR, MODF, OVR, BSY = 1, 2, 1 << 4, 1 << 5, 1 << 6, 1 << 7

TRANSFER = re.compile(r"stm32f4xx_spi_transfer out 0x([0-9a-f]+) in 0x([0-9a-f]+)")


class Spi:
    def __init__(self, q, n):
        self.q, self.n = q, n
        self.base, self.irq, _ = SPIS[n]

    def read(self, reg):
        return self.q.readl(self.base + reg)

    def write(self, reg, value):
        self.q.writel(self.base + reg, value)


def frames(q):
    """Every frame clocked so far, as (out, in) from the trace."""
    return [(int(o, 16), int(i, 16)) for o, i in TRANSFER.findall(q.log())]


def wait_frames(q, count, timeout=5.0):
    """The log is written by QEMU; wait until it holds count frames."""
    import time
    deadline = time.monotonic() + timeout
    while len(frames(q)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return frames(q)


@pytest.fixture
def q(qemu):
    with QTest(qemu, machine=MACHINE,
               args=["-trace", "stm32f4xx_spi_transfer"]) as qts:
        qts.writel(APB1ENR, 3 << 14)
        qts.writel(APB2ENR, 1 << 12 | 1 << 13 | 1 << 20)
        qts.writel(AHB1ENR, 3 << 21)                            # DMA1, DMA2
        yield qts
        assert qts.alive(), f"QEMU died: {qts.stderr()}"


@pytest.fixture(params=sorted(SPIS), ids=lambda n: f"spi{n}")
def spi(q, request):
    return Spi(q, request.param)


def test_reset_values(spi):
    assert {reg: spi.read(reg) for reg in RESET} == RESET


def test_registers_read_back(spi):
    spi.write(CR1, CPHA | CPOL | MSTR | 5 << 3 | LSBFIRST | SSI | SSM)
    assert spi.read(CR1) == CPHA | CPOL | MSTR | 5 << 3 | LSBFIRST | SSI | SSM
    spi.write(CR2, 0xFFFF)
    assert spi.read(CR2) == 0x00F7                   # bit 3 and 8..15 reserved
    spi.write(CRCPR, 0x1021)
    assert spi.read(CRCPR) == 0x1021
    spi.write(I2SPR, 0xFFFF)
    assert spi.read(I2SPR) == 0x03FF


def test_clock_gate_and_reset(q):
    """RCC: with SPIxEN off the registers read 0; SPIxRST returns them to reset values."""
    s = Spi(q, 4)
    s.write(CR1, MSTR)
    q.writel(APB2ENR, 1 << 12 | 1 << 20)            # SPI4 clock off
    assert s.read(SR) == 0
    q.writel(APB2ENR, 1 << 12 | 1 << 13 | 1 << 20)
    assert s.read(CR1) == MSTR
    q.writel(APB2RSTR, 1 << 13)
    q.writel(APB2RSTR, 0)
    assert s.read(CR1) == 0 and s.read(SR) == TXE


def test_half_word_accesses(spi):
    spi.q.writew(spi.base + CR2, RXNEIE)
    assert spi.q.readw(spi.base + CR2) == RXNEIE
    assert spi.q.readw(spi.base + CRCPR + 2) == 0    # reserved upper half
    assert spi.q.readw(spi.base + SR) == TXE


def test_byte_access_to_a_control_register_is_refused(q):
    s = Spi(q, 1)
    q.writeb(s.base + CR1, MSTR)
    assert s.read(CR1) == 0
    assert q.readb(s.base + SR) == 0
    assert "takes half-word and word accesses only" in q.log()


def test_one_frame_per_dr_write_none_per_read(q):
    s = Spi(q, 2)
    s.write(CR1, MASTER)
    s.write(DR, 0xA5)
    assert s.read(SR) & (TXE | RXNE | BSY) == TXE | RXNE
    assert wait_frames(q, 1) == [(0xA5, 0)]
    assert s.read(DR) == 0
    assert s.read(SR) & (RXNE | OVR) == 0
    for _ in range(3):
        s.read(DR)
    s.write(DR, 0x5A)
    assert wait_frames(q, 2) == [(0xA5, 0), (0x5A, 0)]


def test_byte_dr_access_in_8_bit_mode(q):
    """ST's HAL writes and reads DR as a byte in 8-bit mode."""
    s = Spi(q, 1)
    s.write(CR1, MASTER)
    q.writeb(s.base + DR, 0x3C)
    assert s.read(SR) & RXNE
    assert q.readb(s.base + DR) == 0                # nothing selected on the bus
    assert not s.read(SR) & RXNE
    assert wait_frames(q, 1)[0][0] == 0x3C


def test_byte_dr_write_in_16_bit_mode_is_refused(q):
    s = Spi(q, 2)
    s.write(CR1, MASTER | DFF)
    q.writeb(s.base + DR, 0x3C)
    assert s.read(SR) == TXE
    assert "half-word and word" in q.log()


def test_overrun_keeps_the_unread_frame(q):
    """RM0383 20.4.8: a frame received while RXNE is set is lost and OVR is set; OVR clears
    with a DR read followed by an SR read."""
    s = Spi(q, 3)
    s.write(CR1, MASTER)
    s.write(DR, 1)
    s.write(DR, 2)
    assert s.read(SR) & (OVR | RXNE) == OVR | RXNE
    assert s.read(SR) & OVR                       # an SR read alone does not clear it
    s.read(DR)
    assert s.read(SR) & (OVR | RXNE) == OVR       # the clearing read still shows it
    assert s.read(SR) & (OVR | RXNE) == 0
    assert len(wait_frames(q, 2)) == 2


def test_frames_wait_for_spe_and_master(q):
    """DR written while SPE=0 stays in the transmit buffer (TXE=0) until the SPI is
    enabled as master; then it is clocked once."""
    s = Spi(q, 2)
    s.write(DR, 0x42)
    assert s.read(SR) == 0                          # TXE clear, nothing received
    s.write(CR1, MSTR | SSM | SSI)
    assert s.read(SR) == 0
    s.write(CR1, MASTER)
    assert s.read(SR) == TXE | RXNE
    assert wait_frames(q, 1) == [(0x42, 0)]


def test_slave_mode_is_logged_as_unimplemented(q):
    s = Spi(q, 2)
    s.write(CR1, SPE)
    s.write(DR, 0x11)
    assert s.read(SR) & TXE == 0
    assert "slave mode is not modelled" in q.log()


def test_mode_fault_clears_spe_and_mstr(q):
    """A master with software NSS low (SSM=1, SSI=0) gets MODF; SPE and MSTR clear; MODF
    clears with an SR read then a CR1 write."""
    s = Spi(q, 1)
    s.write(CR1, MSTR | SSM | SPE)
    assert s.read(SR) & MODF
    assert s.read(CR1) & (SPE | MSTR) == 0
    s.write(CR1, MSTR | SSM | SSI)
    assert not s.read(SR) & MODF


def test_16_bit_frames_and_lsb_first(q):
    s = Spi(q, 2)
    s.write(CR1, MASTER | DFF)
    s.write(DR, 0xBEEF)
    s.read(DR)
    s.write(CR1, 0)
    s.write(CR1, MASTER | LSBFIRST)
    s.write(DR, 0x01)
    assert wait_frames(q, 2) == [(0xBEEF, 0), (0x01, 0)]


def test_hardware_crc8(q):
    """CRC over the frames sent, polynomial CRCPR (RM0383 20.4.12); CRCNEXT sends TXCRC
    after the last frame; the (all-zero) frames received give RXCRC 0, so the CRC frame
    received (0) matches it."""
    s = Spi(q, 2)
    data = b"\x12\x34\x56"
    s.write(CR1, MASTER | CRCEN)
    for b in data:
        s.write(DR, b)
        s.read(DR)
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07 if crc & 0x80 else crc << 1) & 0xFF
    assert s.read(TXCRCR) == crc and s.read(RXCRCR) == 0
    s.write(CR1, MASTER | CRCEN | CRCNEXT)
    assert s.read(CR1) & CRCNEXT == 0
    assert s.read(SR) & CRCERR == 0
    assert wait_frames(q, 4)[-1] == (crc, 0)


def test_crc_error_and_its_clearing(q):
    """SPI1 with the W5100 selected (PB6 low): it answers a read of RMSR with 0x00 0x01
    0x02 0x55, so RXCRC is not 0 while the chip answers the CRC frame with 0x00: CRCERR.
    CRCERR clears by writing 0 to it, not 1."""
    gpiob = 0x40020400
    q.writel(AHB1ENR, q.readl(AHB1ENR) | 0b10)
    q.writel(gpiob + 0x00, q.readl(gpiob + 0x00) | 1 << 12)      # PB6 output, low
    s = Spi(q, 1)
    s.write(CR1, MASTER | CRCEN)
    received = []
    for b in (0x0F, 0x00, 0x1A, 0x00):
        s.write(DR, b)
        received.append(s.read(DR))
    assert received == [0x00, 0x01, 0x02, 0x55]
    crc = 0
    for b in received:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07 if crc & 0x80 else crc << 1) & 0xFF
    assert s.read(RXCRCR) == crc != 0
    s.write(CR1, MASTER | CRCEN | CRCNEXT)
    assert s.read(SR) & CRCERR
    s.write(SR, 0xFFFF)
    assert s.read(SR) & CRCERR
    s.write(SR, 0xFFFF & ~CRCERR)
    assert not s.read(SR) & CRCERR


@pytest.mark.parametrize("n", sorted(SPIS), ids=lambda n: f"spi{n}")
def test_interrupts(q, n):
    """One NVIC line per SPI (RM0383 table 37): TXEIE with TXE, RXNEIE with RXNE, ERRIE
    with OVR."""
    s = Spi(q, n)
    q.irq_intercept_in()
    s.write(CR2, TXEIE)
    assert q.irq_level(s.irq)
    s.write(CR2, 0)
    assert not q.irq_level(s.irq)
    s.write(CR1, MASTER)
    s.write(CR2, RXNEIE)
    s.write(DR, 0)
    assert q.irq_level(s.irq)
    s.read(DR)
    assert not q.irq_level(s.irq)
    s.write(CR2, ERRIE)
    s.write(DR, 0)
    s.write(DR, 0)
    assert q.irq_level(s.irq)
    s.read(DR)
    s.read(SR)
    assert not q.irq_level(s.irq)


# DMA (RM0383 tables 27, 28): SPI -> (tx [(dma, stream, channel)], rx [...])
DMA1, DMA2 = 0x40026000, 0x40026400
SPI_DMA = {
    1: ([(DMA2, 3, 3), (DMA2, 5, 3)], [(DMA2, 0, 3), (DMA2, 2, 3)]),
    2: ([(DMA1, 4, 0)], [(DMA1, 3, 0)]),
    3: ([(DMA1, 5, 0), (DMA1, 7, 0)], [(DMA1, 0, 0), (DMA1, 2, 0)]),
    4: ([(DMA2, 1, 4), (DMA2, 4, 5)], [(DMA2, 0, 4), (DMA2, 3, 5)]),
    5: ([(DMA2, 4, 2), (DMA2, 6, 7)], [(DMA2, 3, 2), (DMA2, 5, 7)]),
}
SRAM = 0x20000000
S_CR, S_NDTR, S_PAR, S_M0AR = 0x10, 0x14, 0x18, 0x1C
EN, TCIE, M2P, P2M, MINC = 1, 1 << 4, 1 << 6, 0, 1 << 10
LISR, HISR = 0x00, 0x04
TC_SHIFT = [5, 11, 21, 27]


def stream_tc(q, dma, n):
    isr = q.readl(dma + (HISR if n >= 4 else LISR))
    return bool(isr >> TC_SHIFT[n % 4] & 1)


def start_stream(q, dma, n, ch, direction, periph, mem, count):
    base = dma + 0x18 * n
    q.writel(base + S_CR, 0)
    q.writel(base + S_PAR, periph)
    q.writel(base + S_M0AR, mem)
    q.writel(base + S_NDTR, count)
    q.writel(base + S_CR, ch << 25 | MINC | direction | EN)


TX_ROUTES = [(n, *r) for n, (tx, _) in SPI_DMA.items() for r in tx]


@pytest.mark.parametrize("n,dma,stream,ch", TX_ROUTES,
                         ids=[f"spi{n}-tx-dma{1 if d == DMA1 else 2}-s{s}-ch{c}"
                              for n, d, s, c in TX_ROUTES])
def test_tx_dma_request(q, n, dma, stream, ch):
    """TXDMAEN: TXE requests the stream; each item written to DR is one frame, in order."""
    s = Spi(q, n)
    data = bytes(range(0x30, 0x38))
    q.memwrite(SRAM + 0x100, data)
    s.write(CR1, MASTER)
    start_stream(q, dma, stream, ch, M2P, s.base + DR, SRAM + 0x100, len(data))
    s.write(CR2, TXDMAEN)
    for _ in range(100):
        if stream_tc(q, dma, stream):
            break
        q.clock_step(100_000)
    assert stream_tc(q, dma, stream)
    assert [o for o, _ in wait_frames(q, len(data))] == list(data)
    assert s.read(SR) & OVR                      # nobody read DR: as on silicon


RX_ROUTES = [(n, *r, *SPI_DMA[n][0][0]) for n, (_, rx) in SPI_DMA.items() for r in rx]


@pytest.mark.parametrize("n,dma,stream,ch,tdma,tstream,tch", RX_ROUTES,
                         ids=[f"spi{r[0]}-rx-dma{1 if r[1] == DMA1 else 2}-s{r[2]}-ch{r[3]}"
                              for r in RX_ROUTES])
def test_full_duplex_dma(q, n, dma, stream, ch, tdma, tstream, tch):
    """HAL_SPI_TransmitReceive_DMA: RXDMAEN, both streams, then TXDMAEN. Every frame
    received reaches memory, none is lost to OVR, whichever stream wins arbitration: the
    SPI holds its TX request while a received frame waits for the RX stream (on silicon
    the DMA reads DR long before the next frame has been shifted)."""
    s = Spi(q, n)
    data = bytes(range(0x40, 0x50))
    q.memwrite(SRAM + 0x100, data)
    q.memwrite(SRAM + 0x200, b"\xFF" * len(data))
    s.write(CR1, MASTER)
    s.write(CR2, RXDMAEN)
    start_stream(q, dma, stream, ch, P2M, s.base + DR, SRAM + 0x200, len(data))
    start_stream(q, tdma, tstream, tch, M2P, s.base + DR, SRAM + 0x100, len(data))
    s.write(CR2, RXDMAEN | TXDMAEN)
    for _ in range(100):
        if stream_tc(q, dma, stream) and stream_tc(q, tdma, tstream):
            break
        q.clock_step(100_000)
    assert stream_tc(q, tdma, tstream) and stream_tc(q, dma, stream)
    assert q.memread(SRAM + 0x200, len(data)) == bytes(len(data))
    assert [o for o, _ in wait_frames(q, len(data))] == list(data)
    assert not s.read(SR) & OVR
