"""DMA1/DMA2 (RM0090 section 10) through qtest, and the blocks they serve.

Memory-to-memory in every PSIZE/MSIZE combination through the FIFO, direct and FIFO
mode on real request lines (USART RX/TX on loopback sockets, CRYP IN/OUT, HASH IN),
circular and double-buffer modes, HT/TC flags and interrupts, write-1-to-clear,
locked registers, bus errors (CCM RAM, unmapped addresses, DMA1's APB1-only peripheral
port), FIFO threshold checks, reset values. CRYP and HASH by DMA are compared with
Python's `cryptography` and `hashlib`.

Every test enables the DMA (and peripheral) clocks first, as firmware must.
"""
import hashlib
import hmac
import random
import socket
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

from lab_dma import (DMA1, DMA2, LISR, HISR, LIFCR, HIFCR, CR, NDTR, PAR, M0AR, M1AR, FCR, EN,
                     DMEIE, TEIE, HTIE, TCIE, P2M, M2P, M2M, CIRC, PINC, MINC, PINCOS, DBM, CT,
                     psize, msize, pl, pburst, mburst, chsel, DMDIS, FEIE, FS_EMPTY, fth, FE,
                     TE, HT, TC, SHIFT, IRQ, AHB1ENR, AHB2ENR, APB1ENR, APB2ENR, DMA1EN,
                     DMA2EN, CRYPEN_CLK, HASHEN_CLK, SRAM, V1, V2)
from lab_firmware import wait_for
from lab_qtest import QTest

CCM = 0x10000000
UNMAPPED = 0x30000000           # nothing between SRAM and the peripherals
FLASH = 0x08000000


def enable_clocks(q: QTest) -> None:
    """__HAL_RCC_DMAx_CLK_ENABLE, CRYP and HASH: read-modify-write of the ENRs."""
    q.writel(AHB1ENR, q.readl(AHB1ENR) | DMA1EN | DMA2EN)
    q.writel(AHB2ENR, q.readl(AHB2ENR) | CRYPEN_CLK | HASHEN_CLK)
    q.writel(APB1ENR, q.readl(APB1ENR) | (1 << 17) | (1 << 18))   # USART2, USART3
    q.writel(APB2ENR, q.readl(APB2ENR) | (1 << 4) | (1 << 5))     # USART1, USART6


class Stream:
    """One DMA stream, programmed as HAL_DMA_Init + HAL_DMA_Start(_IT) do."""

    def __init__(self, q: QTest, dma: int, n: int):
        self.q, self.dma, self.n = q, dma, n
        self.base = dma + 0x10 + 0x18 * n
        self.isr = dma + (LISR if n < 4 else HISR)
        self.ifcr = dma + (LIFCR if n < 4 else HIFCR)
        self.shift = SHIFT[n % 4]
        self.irq = IRQ[dma][n]

    def read(self, reg: int) -> int:
        return self.q.readl(self.base + reg)

    def write(self, reg: int, value: int) -> None:
        self.q.writel(self.base + reg, value)

    def flags(self) -> int:
        return (self.q.readl(self.isr) >> self.shift) & 0x3D

    def clear(self, flags: int = 0x3F) -> None:
        self.q.writel(self.ifcr, flags << self.shift)

    def init(self, cr: int, fcr: int = 0) -> None:
        """HAL_DMA_Init: disable and wait, CR, FCR, clear all the stream's flags."""
        self.write(CR, self.read(CR) & ~EN)
        assert self.read(CR) & EN == 0
        self.write(CR, cr)
        self.write(FCR, fcr)
        self.clear()

    def start(self, src: int, dst: int, count: int, irqs: int = 0) -> None:
        """HAL_DMA_Start_IT: DBM off, NDTR, PAR/M0AR by direction, clear, enable."""
        cr = self.read(CR) & ~DBM
        self.write(CR, cr)
        self.write(NDTR, count)
        if cr & (3 << 6) == M2P:
            self.write(PAR, dst)
            self.write(M0AR, src)
        else:
            self.write(PAR, src)
            self.write(M0AR, dst)
        self.clear()
        self.write(CR, cr | irqs | EN)

    def fs(self) -> int:
        return (self.read(FCR) >> 3) & 7


def settle(q: QTest) -> None:
    """A request raised inside a peripheral's register access is served from a timer
    at the current virtual time; one more round trip lets QEMU's main loop run it."""
    q.clock_step(1)


@pytest.fixture
def dq(qemu):
    with QTest(qemu) as q:
        enable_clocks(q)
        yield q
        assert q.alive(), f"QEMU died: {q.stderr()}"


def rand_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


# --- reset values and register rules -------------------------------------------------

def stream_regs(q, dma, n):
    base = dma + 0x10 + 0x18 * n
    return [q.readl(base + r) for r in (CR, NDTR, PAR, M0AR, M1AR, FCR)]


def test_reset_values(dq):
    for dma in (DMA1, DMA2):
        for reg in (LISR, HISR):
            assert dq.readl(dma + reg) == 0
        for n in range(8):
            assert stream_regs(dq, dma, n) == [0, 0, 0, 0, 0, 0x21]


def test_system_reset_returns_registers_and_stops_streams(dq):
    s = Stream(dq, DMA2, 3)
    s.init(P2M | chsel(0) | MINC | psize(4) | msize(4), DMDIS | fth(3) | FEIE)
    s.start(SRAM, SRAM + 0x100, 5, TCIE)
    s.write(M1AR, 0x20001234)
    assert s.read(CR) & EN                             # waits for a request
    t = Stream(dq, DMA2, 0)
    t.init(M2M | PINC | MINC | psize(1) | msize(1), DMDIS)
    t.start(CCM, SRAM, 4)                              # a transfer error: TEIF
    assert t.flags() & TE
    dq.qmp("system_reset")
    enable_clocks(dq)
    for dma in (DMA1, DMA2):
        assert dq.readl(dma + LISR) == 0 and dq.readl(dma + HISR) == 0
        for n in range(8):
            assert stream_regs(dq, dma, n) == [0, 0, 0, 0, 0, 0x21]


def test_registers_are_word_access_only(dq):
    s = Stream(dq, DMA2, 1)
    s.write(NDTR, 0x1234)
    dq.writeb(s.base + NDTR, 0x55)
    assert s.read(NDTR) == 0x1234
    assert dq.readb(s.base + NDTR) == 0
    assert dq.readw(s.base + NDTR) == 0
    assert "32-bit accesses only" in dq.log()


def test_isr_is_read_only_and_ifcr_clears_what_is_written(dq):
    streams = [Stream(dq, DMA2, n) for n in range(8)]
    for s in streams:                                   # TEIF on every stream
        s.init(M2M | PINC | MINC | psize(4) | msize(4), DMDIS)
        s.start(UNMAPPED, SRAM, 1)
        assert s.flags() == TE
    assert dq.readl(DMA2 + LISR) == dq.readl(DMA2 + HISR) == 0x02080208
    dq.writel(DMA2 + LISR, 0)
    assert dq.readl(DMA2 + LISR) == 0x02080208
    assert "read-only" in dq.log()
    dq.writel(DMA2 + LIFCR, TE << 6)                     # stream 1 only
    assert streams[1].flags() == 0 and streams[0].flags() == TE
    assert dq.readl(DMA2 + LIFCR) == 0                   # write-only
    dq.writel(DMA2 + HIFCR, (TE << 16) | (HT << 22))     # stream 6, and a clear flag
    assert [s.flags() for s in streams[4:]] == [TE, TE, 0, TE]
    dq.writel(DMA2 + HIFCR, 0x0FFF0FFF)
    assert dq.readl(DMA2 + HISR) == 0


def test_configuration_is_locked_while_enabled(dq):
    s = Stream(dq, DMA2, 3)                             # channel 0 (SPI1_TX): no request
    cr = P2M | chsel(0) | MINC | psize(2) | msize(2) | pl(1)
    s.init(cr, DMDIS | fth(1))
    s.start(0x40013000 + 0x0C, SRAM + 0x400, 7)
    assert s.read(CR) & EN
    s.write(NDTR, 3)
    s.write(PAR, 0x1234)
    s.write(M0AR, 0x5678)
    s.write(M1AR, 0x9ABC)
    s.write(FCR, fth(3) | FEIE)                          # FEIE may change, FTH not
    s.write(CR, (cr & ~msize(2)) | msize(4) | chsel(5) | EN | TCIE | HTIE)
    assert s.read(NDTR) == 7
    assert s.read(PAR) == 0x4001300C
    assert s.read(M0AR) == SRAM + 0x400
    assert s.read(M1AR) == 0
    assert s.read(FCR) & 0x87 == DMDIS | fth(1) | FEIE
    assert s.read(CR) == cr | EN | TCIE | HTIE          # interrupt enables did change
    log = dq.log()
    assert "cannot change while EN=1" in log and "read-only while EN=1" in log
    s.write(CR, s.read(CR) & ~EN)                       # stopped before any item moved
    assert s.read(CR) & EN == 0
    assert s.flags() == TC and s.read(NDTR) == 7
    s.write(NDTR, 3)
    assert s.read(NDTR) == 3


# --- memory-to-memory ----------------------------------------------------------------

@pytest.mark.parametrize("ps", [1, 2, 4])
@pytest.mark.parametrize("ms", [1, 2, 4])
@pytest.mark.parametrize("threshold", [0, 1, 2, 3])
def test_memory_to_memory_packs_and_unpacks_through_the_fifo(dq, ps, ms, threshold):
    rng = random.Random(ps * 100 + ms * 10 + threshold)
    size = 240                                          # a multiple of every size
    src, dst = SRAM + 0x100, SRAM + 0x1000
    data = rand_bytes(rng, size)
    dq.memwrite(src, data)
    dq.memwrite(dst, bytes(size + 16))
    s = Stream(dq, DMA2, 0)
    s.init(M2M | PINC | MINC | psize(ps) | msize(ms) | pl(2), DMDIS | fth(threshold))
    s.start(src, dst, size // ps)
    assert s.read(CR) & EN == 0                         # done: EN reads back 0
    assert s.read(NDTR) == 0
    assert s.flags() == HT | TC
    assert s.fs() == FS_EMPTY
    assert dq.memread(dst, size + 16) == data + bytes(16)
    assert dq.qom_get("/machine/soc/dma2", "items") == size // ps


def test_memory_to_memory_fixed_source_fills_words(dq):
    """PINC=0: the same source byte, packed four at a time into memory words."""
    dq.memwrite(SRAM, b"\xA5")
    dq.memwrite(SRAM + 0x200, bytes(32))
    s = Stream(dq, DMA2, 2)
    s.init(M2M | MINC | psize(1) | msize(4), DMDIS | fth(3))
    s.start(SRAM, SRAM + 0x200, 16)
    assert dq.memread(SRAM + 0x200, 20) == b"\xA5" * 16 + bytes(4)


def test_addresses_are_aligned_to_the_data_size(dq):
    """RM0090 10.5.7/10.5.8: PA[1:0] and MA[1:0] are ignored for 32-bit data."""
    data = bytes(range(16))
    dq.memwrite(SRAM + 0x300, data)
    s = Stream(dq, DMA2, 0)
    s.init(M2M | PINC | MINC | psize(4) | msize(4), DMDIS)
    s.start(SRAM + 0x303, SRAM + 0x402, 4)
    assert dq.memread(SRAM + 0x400, 16) == data


def test_memory_to_memory_forces_fifo_mode_and_reads_flash(dq):
    s = Stream(dq, DMA2, 4)
    s.init(M2M | PINC | MINC | psize(4) | msize(4), 0)        # direct mode asked
    dq.memwrite(SRAM + 0x500, bytes(16))
    s.start(FLASH, SRAM + 0x500, 4)
    assert s.read(FCR) & DMDIS                                # forced by hardware
    assert dq.memread(SRAM + 0x500, 16) == dq.memread(FLASH, 16)
    assert s.flags() == HT | TC


def test_memory_to_memory_needs_dma2(dq):
    s = Stream(dq, DMA1, 0)
    dq.memwrite(SRAM + 0x600, bytes(8))
    s.init(M2M | PINC | MINC | psize(4) | msize(4), DMDIS)
    s.start(SRAM, SRAM + 0x600, 2)
    assert s.flags() == TE and s.read(CR) & EN == 0
    assert dq.memread(SRAM + 0x600, 8) == bytes(8)
    assert "memory-to-memory is a DMA2 feature" in dq.log()


@pytest.mark.parametrize("src,dst", [(CCM, SRAM + 0x700), (SRAM, CCM + 0x100),
                                     (UNMAPPED, SRAM + 0x700), (SRAM, UNMAPPED)])
def test_bus_error_sets_teif_and_disables_the_stream(dq, src, dst):
    dq.irq_intercept_in()
    dq.memwrite(SRAM, bytes(range(32)))
    s = Stream(dq, DMA2, 5)
    s.init(M2M | PINC | MINC | psize(4) | msize(4) | TEIE, DMDIS | fth(0))
    s.start(src, dst, 8)
    assert s.flags() & TE
    assert s.read(CR) & EN == 0
    assert dq.irq_level(s.irq)
    assert "bus error" in dq.log()
    s.clear(TE)
    assert not dq.irq_level(s.irq)


def test_ccm_stays_reachable_by_the_cpu(dq):
    dq.memwrite(CCM, b"ccm!")
    assert dq.memread(CCM, 4) == b"ccm!"


def test_half_and_complete_interrupts(dq):
    dq.irq_intercept_in()
    dq.memwrite(SRAM, bytes(64))
    s = Stream(dq, DMA2, 6)
    s.init(M2M | PINC | MINC | psize(4) | msize(4), DMDIS)
    s.start(SRAM, SRAM + 0x800, 16, HTIE)              # TC without TCIE: no interrupt
    assert s.flags() == HT | TC
    assert dq.irq_level(s.irq)
    s.clear(HT)
    assert not dq.irq_level(s.irq)
    s.write(CR, s.read(CR) | TCIE)
    assert dq.irq_level(s.irq)
    s.clear(TC)
    assert not dq.irq_level(s.irq)
    other = Stream(dq, DMA2, 7)
    assert not dq.irq_level(other.irq)


def test_fifo_threshold_incompatible_with_burst_sets_feif(dq):
    """RM0090 table 48: 8 words per burst do not fit a half-full (8-byte) FIFO."""
    dq.irq_intercept_in()
    s = Stream(dq, DMA2, 1)
    s.init(M2M | PINC | MINC | psize(4) | msize(4) | mburst(1), DMDIS | fth(1) | FEIE)
    s.start(SRAM, SRAM + 0x900, 8)
    assert s.flags() == FE and s.read(CR) & EN == 0
    assert dq.irq_level(s.irq)
    s.init(M2M | PINC | MINC | psize(4) | msize(4) | mburst(1), DMDIS | fth(3))
    s.start(SRAM, SRAM + 0x900, 8)                      # INCR4 words in a full FIFO: ok
    assert s.flags() == HT | TC


def test_direct_mode_forces_msize_and_single_bursts(dq):
    s = Stream(dq, DMA2, 3)                             # no request on channel 0
    s.init(P2M | MINC | psize(2) | msize(4) | pburst(1) | mburst(1) | PINCOS | PINC, 0)
    s.start(0x40013000, SRAM, 4)
    cr = s.read(CR)
    assert (cr >> 13) & 3 == 1 and (cr >> 21) & 0xF == 0 and not cr & PINCOS


def test_dma1_peripheral_port_reaches_apb1_only(dq):
    """USART3_RX's stream (DMA1 S1 ch 4) pointed at SRAM: a bus error, not a copy."""
    s = Stream(dq, DMA1, 1)
    s.init(P2M | chsel(4) | MINC | psize(1) | msize(1), 0)
    s.start(SRAM, SRAM + 0xA00, 4)
    dq.set_irq_in("/machine/soc/dma1", 1 * 8 + 4, 1, "dma-req")
    settle(dq)
    assert s.flags() == TE and s.read(CR) & EN == 0


def raise_requests(q: QTest, path: str, lines_: list[int]) -> None:
    """Raise several request inputs in one qtest round trip, before the DMA's timer runs."""
    q.q.sock.sendall("".join(f"set_irq_in {path} dma-req {n} 1\n" for n in lines_).encode())
    for _ in lines_:
        assert q.q.readline(q.timeout).startswith("OK")


@pytest.mark.parametrize("pl1,pl2,winner", [(0, 3, 1), (3, 0, 2), (1, 1, 2)])
def test_arbiter_serves_priority_then_stream_number(dq, pl1, pl2, winner):
    """Two streams write the same words: the one served last leaves its data. A higher
    PL goes first; at equal PL the lower stream number does."""
    a, b, dst = SRAM + 0x5000, SRAM + 0x5100, SRAM + 0x5200
    dq.memwrite(a, b"\x11" * 64)
    dq.memwrite(b, b"\x22" * 64)
    streams = {1: Stream(dq, DMA2, 1), 2: Stream(dq, DMA2, 2)}
    for n, src, prio in ((1, a, pl1), (2, b, pl2)):
        streams[n].init(P2M | chsel(0) | PINC | MINC | psize(4) | msize(4) | pl(prio), 0)
        streams[n].start(src, dst, 16)
    raise_requests(dq, "/machine/soc/dma2", [1 * 8 + 0, 2 * 8 + 0])
    settle(dq)
    assert streams[1].flags() & TC and streams[2].flags() & TC
    assert dq.memread(dst, 64) == (b"\x11" if winner == 1 else b"\x22") * 64


def test_circular_stream_on_a_held_request_yields_to_the_cpu(dq):
    """A circular stream whose request never drops moves 262144 items per run, then
    continues 100 us (virtual) later."""
    s = Stream(dq, DMA2, 3)
    s.init(P2M | chsel(0) | CIRC | MINC | psize(4) | msize(4), 0)
    s.start(SRAM, SRAM + 0x6000, 64)
    before = dq.qom_get("/machine/soc/dma2", "items")
    dq.set_irq_in("/machine/soc/dma2", 3 * 8 + 0, 1, "dma-req")
    settle(dq)
    assert dq.qom_get("/machine/soc/dma2", "items") - before == 262144
    assert s.read(CR) & EN and s.flags() == HT | TC
    dq.clock_step(100_000)
    assert dq.qom_get("/machine/soc/dma2", "items") - before == 2 * 262144
    dq.set_irq_in("/machine/soc/dma2", 3 * 8 + 0, 0, "dma-req")
    dq.clock_step(100_000)
    assert dq.qom_get("/machine/soc/dma2", "items") - before == 2 * 262144


# --- USARTs: request lines on real peripherals ---------------------------------------

USART = {1: 0x40011000, 2: 0x40004400, 3: 0x40004800, 6: 0x40011400}
SR, DR, CR1, CR3 = 0x00, 0x04, 0x0C, 0x14
UE, TE_BIT, RE_BIT = 1 << 13, 1 << 3, 1 << 2
DMAT, DMAR = 1 << 7, 1 << 6
USART_TC = 1 << 6

# RM0090 tables 42 and 43: (USART, TX or RX) -> the (DMA, stream, channel) pairs
USART_DMA = {
    (1, "rx"): [(DMA2, 2, 4), (DMA2, 5, 4)],
    (1, "tx"): [(DMA2, 7, 4)],
    (2, "rx"): [(DMA1, 5, 4)],
    (2, "tx"): [(DMA1, 6, 4)],
    (3, "rx"): [(DMA1, 1, 4)],
    (3, "tx"): [(DMA1, 3, 4), (DMA1, 4, 7)],
    (6, "rx"): [(DMA2, 1, 5), (DMA2, 2, 5)],
    (6, "tx"): [(DMA2, 6, 5), (DMA2, 7, 5)],
}
ROUTES = [(u, d, dma, n, ch) for (u, d), pairs in USART_DMA.items() for dma, n, ch in pairs]


class Serials:
    """The four USARTs on unix sockets: -serial order is USART3, USART1, USART2, USART6."""
    ORDER = [3, 1, 2, 6]

    def __init__(self, qemu):
        import tempfile
        self.dir = tempfile.TemporaryDirectory(prefix="stm32lab-dma-")
        self.paths = {u: f"{self.dir.name}/usart{u}.sock" for u in self.ORDER}
        serials = [f"unix:{self.paths[u]},server=on,wait=off" for u in self.ORDER]
        self.q = QTest(qemu, serials=serials)
        self.socks = {}
        for u in self.ORDER:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(self.paths[u])
            c.settimeout(5)
            self.socks[u] = c

    def connected(self) -> bool:
        """Every USART's socket chardev has its client (query-chardev, not a sleep)."""
        return all(not c["filename"].startswith("disconnected:")
                   for c in self.q.qmp("query-chardev") if c["label"].startswith("serial"))

    def recv(self, u: int, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.socks[u].recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    def send_and_wait(self, u: int, data: bytes, until) -> None:
        """Send host bytes to a USART; QEMU's main loop delivers them one by one."""
        self.socks[u].sendall(data)
        deadline = time.monotonic() + 10
        while not until():
            assert time.monotonic() < deadline, "the USART did not take the bytes"
            self.q.clock_step(1000)
            time.sleep(0.002)

    def close(self):
        for c in self.socks.values():
            c.close()
        alive = self.q.alive()
        self.q.close()
        self.dir.cleanup()
        assert alive, "QEMU died"


@pytest.fixture
def serials(qemu):
    s = Serials(qemu)
    enable_clocks(s.q)
    # QEMU's main loop accepts the four connections on its own time
    wait_for(s.connected, 10, what="QEMU accepting the four USART connections")
    yield s
    s.close()


def usart_setup(q, u, cr3):
    q.writel(USART[u] + CR1, UE | TE_BIT | RE_BIT)
    q.writel(USART[u] + CR3, cr3)


@pytest.mark.parametrize("u,direction,dma,n,ch", ROUTES,
                         ids=[f"usart{u}-{d}-dma{1 if dma == DMA1 else 2}-s{n}-ch{ch}"
                              for u, d, dma, n, ch in ROUTES])
def test_usart_request_mapping(serials, u, direction, dma, n, ch):
    q = serials.q
    s = Stream(q, dma, n)
    msg = f"usart{u} {direction} on stream {n}".encode()
    if direction == "tx":
        q.memwrite(SRAM + 0x1000, msg)
        s.init(M2P | chsel(ch) | MINC | psize(1) | msize(1), 0)
        # HAL_UART_Transmit_DMA: start the stream, clear TC, then set DMAT
        s.start(SRAM + 0x1000, USART[u] + DR, len(msg), TCIE | TEIE | DMEIE | HTIE)
        q.writel(USART[u] + SR, ~USART_TC & 0xFFFFFFFF)
        usart_setup(q, u, DMAT)
        settle(q)
        assert serials.recv(u, len(msg)) == msg
    else:
        q.memwrite(SRAM + 0x2000, bytes(len(msg)))
        usart_setup(q, u, DMAR)
        s.init(P2M | chsel(ch) | MINC | psize(1) | msize(1), 0)
        s.start(USART[u] + DR, SRAM + 0x2000, len(msg), TCIE)
        serials.send_and_wait(u, msg, lambda: s.flags() & TC)
        assert q.memread(SRAM + 0x2000, len(msg)) == msg
    assert s.flags() == HT | TC and s.read(CR) & EN == 0 and s.read(NDTR) == 0


def test_usart_tx_is_not_served_by_an_unrelated_channel(serials):
    """USART1_TX is DMA2 stream 7 channel 4; channel 2 of that stream is HASH_IN."""
    q = serials.q
    s = Stream(q, DMA2, 7)
    q.memwrite(SRAM + 0x1000, b"nothing")
    s.init(M2P | chsel(2) | MINC | psize(1) | msize(1), 0)
    s.start(SRAM + 0x1000, USART[1] + DR, 7)
    usart_setup(q, 1, DMAT)
    settle(q)
    assert s.read(NDTR) == 7 and s.read(CR) & EN


def test_usart_rx_circular_and_fifo_threshold(serials):
    """Circular receive into a 16-byte ring with a half-full FIFO: memory is written
    8 bytes at a time, NDTR reloads, HT and TC each lap; disabling flushes the FIFO."""
    q = serials.q
    s = Stream(q, DMA2, 5)                              # USART1_RX, channel 4
    ring = SRAM + 0x3000
    q.memwrite(ring, bytes(16))
    usart_setup(q, 1, DMAR)
    s.init(P2M | chsel(4) | MINC | CIRC | psize(1) | msize(1), DMDIS | fth(1))
    s.start(USART[1] + DR, ring, 16, TCIE | HTIE)
    serials.send_and_wait(1, b"abcde", lambda: s.read(NDTR) == 11)
    assert q.memread(ring, 16) == bytes(16)             # still in the FIFO
    assert s.fs() == 1                                  # 1/4 <= level < 1/2
    serials.send_and_wait(1, b"fgh", lambda: s.read(NDTR) == 8)
    assert q.memread(ring, 8) == b"abcdefgh"
    assert s.flags() == HT
    serials.send_and_wait(1, b"ijklmnopQR", lambda: s.read(NDTR) == 14)
    assert q.memread(ring, 16) == b"abcdefghijklmnop"   # Q, R wait in the FIFO
    assert s.flags() == HT | TC and s.read(CR) & EN     # a lap; still running
    s.clear()
    s.write(CR, s.read(CR) & ~EN)                       # stop: the FIFO is flushed
    assert q.memread(ring, 16) == b"QRcdefghijklmnop"
    assert s.flags() == TC and s.read(NDTR) == 14


def test_usart_rx_double_buffer(serials):
    """DBM: M0AR then M1AR, CT toggles at each end, TC each time; the idle buffer's
    address may change on the fly, the current one's may not (TEIF)."""
    q = serials.q
    s = Stream(q, DMA2, 2)                              # USART1_RX, channel 4
    buf0, buf1, buf2 = SRAM + 0x4000, SRAM + 0x4100, SRAM + 0x4200
    for b in (buf0, buf1, buf2):
        q.memwrite(b, bytes(8))
    usart_setup(q, 1, DMAR)
    s.init(P2M | chsel(4) | MINC | psize(1) | msize(1), 0)
    s.write(NDTR, 4)
    s.write(PAR, USART[1] + DR)
    s.write(M0AR, buf0)
    s.write(M1AR, buf1)
    s.clear()
    s.write(CR, s.read(CR) | DBM | TCIE | EN)
    assert s.read(CR) & CIRC                            # forced with DBM
    serials.send_and_wait(1, b"0123", lambda: s.flags() & TC)
    assert q.memread(buf0, 4) == b"0123" and s.read(CR) & CT
    s.clear()
    s.write(M0AR, buf2)                                 # idle target: allowed
    serials.send_and_wait(1, b"4567", lambda: s.flags() & TC)
    assert q.memread(buf1, 4) == b"4567" and not s.read(CR) & CT
    s.clear()
    serials.send_and_wait(1, b"89ab", lambda: s.flags() & TC)
    assert q.memread(buf2, 4) == b"89ab" and q.memread(buf0, 4) == b"0123"
    s.clear()
    s.write(M1AR, buf0)                                 # CT=1: M1AR is current
    assert s.flags() == TE and s.read(CR) & EN == 0


# --- CRYP IN/OUT by DMA ----------------------------------------------------------------

CRYP = 0x50060000
C_CR, C_SR, C_DIN, C_DOUT, C_DMACR = 0x00, 0x04, 0x08, 0x0C, 0x10
C_K0LR, C_IV0LR = 0x20, 0x40
CRYPEN, FFLUSH, ALGODIR = 1 << 15, 1 << 14, 1 << 2
DIEN, DOEN = 1, 2
AES_CBC, AES_KEY, TDES_CBC = 5, 7, 1
DATATYPE_8 = 2 << 6


def cryp_cr(algo, keysize=0, decrypt=False):
    return (algo << 3) | DATATYPE_8 | (keysize << 8) | (ALGODIR if decrypt else 0)


def cryp_settle(q: QTest) -> None:
    """Under qtest the CRYP's core is busy for RM0090's time per block (83-286 ns):
    a millisecond of virtual time lets the largest run here (4096 blocks) finish."""
    q.clock_step(1_000_000)


def be_words(data):
    return [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]


def cryp_load(q, key, iv, aes=True):
    words = be_words(key)
    first = 8 - len(words) if aes else 2                # K1LR.. for TDES
    for i, w in enumerate(words):
        q.writel(CRYP + C_K0LR + 4 * (first + i), w)
    for i, w in enumerate(be_words(iv)):
        q.writel(CRYP + C_IV0LR + 4 * i, w)


def cryp_by_dma(q, cr, data, fifo_in=0, fifo_out=0, cr_in=0, cr_out=0):
    """The order of HAL's CRYP_SetDMAConfig: CRYPEN, IN stream, OUT stream, DMACR."""
    src, dst = SRAM, SRAM + 0x10000
    q.memwrite(src, data)
    q.memwrite(dst, bytes(len(data)))
    s_in, s_out = Stream(q, DMA2, 6), Stream(q, DMA2, 5)
    s_in.init(M2P | chsel(2) | MINC | psize(4) | msize(4) | pl(2) | cr_in, fifo_in)
    s_out.init(P2M | chsel(2) | MINC | psize(4) | msize(4) | pl(3) | cr_out, fifo_out)
    q.writel(CRYP + C_CR, cr | FFLUSH)
    q.writel(CRYP + C_CR, cr | CRYPEN)
    s_in.start(src, CRYP + C_DIN, len(data) // 4, TCIE | TEIE | DMEIE)
    s_out.start(CRYP + C_DOUT, dst, len(data) // 4, TCIE | TEIE | DMEIE)
    q.writel(CRYP + C_DMACR, DOEN | DIEN)
    cryp_settle(q)
    assert s_in.flags() == HT | TC and s_out.flags() == HT | TC
    assert s_in.read(CR) & EN == 0 and s_out.read(CR) & EN == 0
    return q.memread(dst, len(data))


@pytest.mark.parametrize("size", [16, 4096, 65536])
def test_cryp_aes_cbc_encrypt_by_dma(dq, size):
    rng = random.Random(size)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, size)
    cryp_load(dq, key, iv)
    out = cryp_by_dma(dq, cryp_cr(AES_CBC), data)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    assert out == enc.update(data) + enc.finalize()


@pytest.mark.parametrize("keylen", [16, 24, 32])
def test_cryp_aes_cbc_decrypt_by_dma_with_fifo_bursts(dq, keylen):
    rng = random.Random(keylen)
    key, iv, data = rand_bytes(rng, keylen), rand_bytes(rng, 16), rand_bytes(rng, 1024)
    ks = {16: 0, 24: 1, 32: 2}[keylen]
    cryp_load(dq, key, iv)
    dq.writel(CRYP + C_CR, cryp_cr(AES_KEY, ks) | CRYPEN)      # key preparation
    cryp_settle(dq)
    assert dq.readl(CRYP + C_CR) & CRYPEN == 0
    out = cryp_by_dma(dq, cryp_cr(AES_CBC, ks, decrypt=True), data,
                      fifo_in=DMDIS | fth(3), fifo_out=DMDIS | fth(3),
                      cr_in=mburst(1) | pburst(1), cr_out=mburst(1) | pburst(1))
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    assert out == dec.update(data) + dec.finalize()


@pytest.mark.parametrize("decrypt", [False, True])
def test_cryp_tdes_cbc_by_dma(dq, decrypt):
    rng = random.Random(7 + decrypt)
    key, iv, data = rand_bytes(rng, 24), rand_bytes(rng, 8), rand_bytes(rng, 2048)
    cryp_load(dq, key, iv, aes=False)
    out = cryp_by_dma(dq, cryp_cr(TDES_CBC, decrypt=decrypt), data)
    c = Cipher(TripleDES(key), modes.CBC(iv))
    ref = c.decryptor() if decrypt else c.encryptor()
    assert out == ref.update(data) + ref.finalize()


def test_cryp_aes_gcm_payload_by_dma(qemu):
    """STM32F439: init and header phases by the CPU, payload by DMA, tag by the CPU."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    with QTest(qemu, machine=V2) as q:
        enable_clocks(q)
        rng = random.Random(128)
        key, nonce = rand_bytes(rng, 16), rand_bytes(rng, 12)
        aad, data = rand_bytes(rng, 32), rand_bytes(rng, 4096)
        AES_GCM, HEADER, PAYLOAD, FINAL = 8, 1, 2, 3

        def gcm_cr(phase):
            return cryp_cr(AES_GCM & 7) | (1 << 19) | (phase << 16)

        cryp_load(q, key, nonce + b"\x00\x00\x00\x02")
        q.writel(CRYP + C_CR, gcm_cr(0) | FFLUSH)
        q.writel(CRYP + C_CR, gcm_cr(0) | CRYPEN)
        cryp_settle(q)
        assert q.readl(CRYP + C_CR) & CRYPEN == 0          # init phase done
        q.writel(CRYP + C_CR, gcm_cr(HEADER) | CRYPEN)
        for i in range(0, len(aad), 4):
            q.writel(CRYP + C_DIN, int.from_bytes(aad[i:i + 4], "little"))
        cryp_settle(q)                                      # BUSY=0 before the payload
        out = cryp_by_dma(q, gcm_cr(PAYLOAD), data)
        q.writel(CRYP + C_CR, gcm_cr(FINAL) | CRYPEN)
        lengths = (len(aad) * 8).to_bytes(8, "big") + (len(data) * 8).to_bytes(8, "big")
        for i in range(0, 16, 4):
            q.writel(CRYP + C_DIN, int.from_bytes(lengths[i:i + 4], "little"))
        cryp_settle(q)                                      # OFNE
        tag = b"".join(q.readl(CRYP + C_DOUT).to_bytes(4, "little") for _ in range(4))
        assert out + tag == AESGCM(key).encrypt(nonce, data, aad)


def test_cryp_requests_follow_dien_doen_and_crypen(dq):
    """Without DOEN the OUT stream waits; IN stops when both FIFOs are full."""
    rng = random.Random(3)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, 256)
    cryp_load(dq, key, iv)
    dq.memwrite(SRAM, data)
    s_in, s_out = Stream(dq, DMA2, 6), Stream(dq, DMA2, 5)
    s_in.init(M2P | chsel(2) | MINC | psize(4) | msize(4), 0)
    s_out.init(P2M | chsel(2) | MINC | psize(4) | msize(4), 0)
    dq.writel(CRYP + C_CR, cryp_cr(AES_CBC) | FFLUSH)
    s_in.start(SRAM, CRYP + C_DIN, 64)
    s_out.start(CRYP + C_DOUT, SRAM + 0x10000, 64)
    dq.writel(CRYP + C_DMACR, DIEN | DOEN)              # CRYPEN still 0
    settle(dq)
    assert s_in.read(NDTR) == 64
    dq.writel(CRYP + C_DMACR, DIEN)
    dq.writel(CRYP + C_CR, cryp_cr(AES_CBC) | CRYPEN)
    cryp_settle(dq)
    # 2 blocks in the OUT FIFO, 2 more in the IN FIFO, plus the direct-mode item
    assert s_in.read(NDTR) == 64 - 16 and s_out.read(NDTR) == 64
    dq.writel(CRYP + C_DMACR, DIEN | DOEN)
    cryp_settle(dq)
    assert s_in.read(NDTR) == 0 and s_out.read(NDTR) == 0
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    assert dq.memread(SRAM + 0x10000, 256) == enc.update(data) + enc.finalize()


def test_dma_burst_is_a_handful_of_accesses(dq):
    """64 KiB through CRYP by DMA: the guest-side cost is the register set-up only."""
    rng = random.Random(64)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, 65536)
    cryp_load(dq, key, iv)
    before = dq.qom_get("/machine/soc/cryp", "blocks")
    cryp_by_dma(dq, cryp_cr(AES_CBC), data)
    assert dq.qom_get("/machine/soc/cryp", "blocks") - before == 4096
    assert dq.qom_get("/machine/soc/dma2", "items") == 2 * 16384


# --- HASH IN by DMA --------------------------------------------------------------------

HASH = 0x50060400
H_CR, H_DIN, H_STR, H_HR, H_SR = 0x00, 0x04, 0x08, 0x0C, 0x24
H_HR_V2 = 0x310
INIT, DMAE, MODE, ALGO0, ALGO1, MDMAT, LKEY = 1 << 2, 1 << 3, 1 << 6, 1 << 7, 1 << 18, 1 << 13, 1 << 16
H_DT8 = 2 << 4
DCAL = 1 << 8
DINIS, DCIS, DMAS, BUSY = 1, 2, 4, 8
ALGOS = {"sha1": 0, "md5": ALGO0, "sha224": ALGO1, "sha256": ALGO1 | ALGO0}
DIGEST_WORDS = {"sha1": 5, "md5": 4, "sha224": 7, "sha256": 8}


def hash_digest(q, algo):
    q.wait_until(lambda: q.readl(HASH + H_SR) & DCIS, step_ns=5000)
    n = DIGEST_WORDS[algo]
    words = [q.readl(HASH + (H_HR_V2 if n > 5 else H_HR) + 4 * i) for i in range(n)]
    return b"".join(w.to_bytes(4, "big") for w in words)


def hash_feed_by_dma(q, s, addr, data, stream_fifo=DMDIS | fth(1)):
    """HAL's HASH_Start_DMA after INIT: NBLW, DMA stream, then DMAE."""
    q.memwrite(addr, data + bytes(4))
    q.writel(HASH + H_STR, 8 * (len(data) % 4))
    s.init(M2P | chsel(2) | MINC | psize(4) | msize(4) | pl(2), stream_fifo)
    s.start(addr, HASH + H_DIN, (len(data) + 3) // 4, TCIE | TEIE | DMEIE)
    q.writel(HASH + H_CR, q.readl(HASH + H_CR) | DMAE)
    settle(q)
    assert s.flags() == HT | TC or (len(data) <= 4 and s.flags() & TC)
    # HASH_DMAXferCplt clears DMAE
    q.writel(HASH + H_CR, q.readl(HASH + H_CR) & ~DMAE)


@pytest.mark.parametrize("board,algo", [(V1, "sha1"), (V1, "md5"), (V2, "sha224"),
                                        (V2, "sha256")])
@pytest.mark.parametrize("size", [3, 64, 1000, 65536])
def test_hash_by_dma(qemu, board, algo, size):
    with QTest(qemu, machine=board) as q:
        enable_clocks(q)
        rng = random.Random(size)
        data = rand_bytes(rng, size)
        s = Stream(q, DMA2, 7)
        q.writel(HASH + H_CR, ALGOS[algo] | H_DT8 | INIT)
        hash_feed_by_dma(q, s, SRAM, data, stream_fifo=DMDIS | fth(1))
        assert q.readl(HASH + H_CR) & DMAE == 0
        assert hash_digest(q, algo) == hashlib.new(algo, data).digest()


def test_hash_dmae_cleared_by_hardware_and_dmas(dq):
    data = b"a message the DMA writes to HASH_DIN"
    s = Stream(dq, DMA2, 7)
    dq.writel(HASH + H_CR, H_DT8 | INIT)                 # SHA-1
    dq.memwrite(SRAM, data)
    dq.writel(HASH + H_STR, 8 * (len(data) % 4))
    s.init(M2P | chsel(2) | MINC | psize(4) | msize(4), 0)
    s.start(SRAM, HASH + H_DIN, (len(data) + 3) // 4)
    assert dq.readl(HASH + H_SR) & DMAS == 0
    dq.writel(HASH + H_CR, dq.readl(HASH + H_CR) | DMAE)
    settle(dq)
    assert dq.readl(HASH + H_CR) & DMAE == 0             # the last word cleared it
    assert dq.readl(HASH + H_SR) & DMAS == 0
    assert hash_digest(dq, "sha1") == hashlib.sha1(data).digest()


def test_hash_multiple_dma_transfers_with_mdmat(qemu):
    """STM32F43xxx: MDMAT=1 keeps the message open across transfers."""
    with QTest(qemu, machine=V2) as q:
        enable_clocks(q)
        rng = random.Random(11)
        parts = [rand_bytes(rng, 640), rand_bytes(rng, 1280), rand_bytes(rng, 77)]
        s = Stream(q, DMA2, 7)
        q.writel(HASH + H_CR, ALGOS["sha256"] | H_DT8 | MDMAT | INIT)
        hash_feed_by_dma(q, s, SRAM, parts[0])
        hash_feed_by_dma(q, s, SRAM, parts[1])
        assert q.readl(HASH + H_SR) & DCIS == 0
        q.writel(HASH + H_CR, q.readl(HASH + H_CR) & ~MDMAT)
        hash_feed_by_dma(q, s, SRAM, parts[2])
        assert hash_digest(q, "sha256") == hashlib.sha256(b"".join(parts)).digest()


@pytest.mark.parametrize("algo,keylen", [("sha1", 20), ("md5", 80), ("sha1", 100)])
def test_hmac_by_dma_three_transfers(dq, algo, keylen):
    """HAL's HMAC DMA: key, message, key again, each ended by the DMA's last word."""
    rng = random.Random(keylen)
    key, msg = rand_bytes(rng, keylen), rand_bytes(rng, 333)
    s = Stream(dq, DMA2, 7)
    dq.writel(HASH + H_CR, ALGOS[algo] | H_DT8 | MODE | (LKEY if keylen > 64 else 0) | INIT)
    for part in (key, msg, key):
        hash_feed_by_dma(dq, s, SRAM, part)
    assert hash_digest(dq, algo) == hmac.new(key, msg, algo).digest()
