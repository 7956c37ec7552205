"""DMA bursts into HASH and CRYP (qemu/include/hw/dma/stm32f4xx_dma_burst.h) through qtest.

The DMA hands the HASH's DIN, and the CRYP's DIN and DOUT, runs of 32-bit items in one
call instead of one bus access per item. That is for the host's speed only, so every
test runs the same transfer on two boards: one as built, and one with every item
through the bus (`-global stm32f4xx-dma.burst=off`, the model's item-by-item path). The
guest must see the same on both: memory, every DMA2 stream register (NDTR, EN, flags,
FIFO status), every interrupt edge, the HASH and CRYP registers (context swap registers
included) and the guest-error log; the results are checked against hashlib and
cryptography. The burst board must have moved items in bursts (QOM "burst-items") where
the burst applies (also byte or half-word memory items packed by the FIFO), and none where
it must not (a block whose clock is off).
"""
import hashlib
import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

from lab_dma import (DMA2, LISR, HISR, LIFCR, HIFCR, CR, NDTR, PAR, M0AR, M1AR, FCR, EN, DMEIE,
                     TEIE, HTIE, TCIE, P2M, M2P, M2M, PINC, MINC, psize, msize, pl, DMDIS, fth,
                     TE, HT, TC, SHIFT, AHB1ENR, AHB2ENR, DMA2EN, CRYPEN_CLK, HASHEN_CLK, SRAM,
                     V1, V2)
from lab_qtest import QTest

PER_ITEM = ("-global", "stm32f4xx-dma.burst=off")

IRQS = DMEIE | TEIE | HTIE | TCIE

SRAM_END = {V1: 0x20020000, V2: 0x20030000}

CRYP = 0x50060000
C_CR, C_SR, C_DIN, C_DOUT, C_DMACR, C_IMSCR, C_RISR, C_MISR = range(0, 0x20, 4)
C_K0LR, C_IV0LR = 0x20, 0x40
CRYPEN, FFLUSH, ALGODIR = 1 << 15, 1 << 14, 1 << 2
DIEN, DOEN = 1, 2
AES_CBC, AES_KEY, DES_CBC, TDES_CBC = 5, 7, 3, 1
DATATYPE_8 = 2 << 6

HASH = 0x50060400
H_CR, H_DIN, H_STR, H_HR, H_IMR, H_SR, H_CSR0 = 0x00, 0x04, 0x08, 0x0C, 0x20, 0x24, 0xF8
H_HR_V2 = 0x310
INIT, DMAE, MDMAT = 1 << 2, 1 << 3, 1 << 13
H_DT8 = 2 << 4
DINIS, DCIS, BUSY = 1, 2, 8
ALGOS = {"sha1": 0, "md5": 1 << 7, "sha224": 1 << 18, "sha256": (1 << 18) | (1 << 7)}
DIGEST_WORDS = {"sha1": 5, "md5": 4, "sha224": 7, "sha256": 8}
CSR_COUNT = {V1: 51, V2: 54}


def burst_beats(pburst, mburst):
    return (pburst << 21) | (mburst << 23)


def rand_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def be_words(data):
    return [int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data), 4)]


class Stream:
    """A DMA2 stream, programmed as HAL_DMA_Init + HAL_DMA_Start_IT do."""

    def __init__(self, q: QTest, n: int):
        self.q, self.n = q, n
        self.base = DMA2 + 0x10 + 0x18 * n
        self.ifcr = DMA2 + (LIFCR if n < 4 else HIFCR)
        self.shift = SHIFT[n % 4]

    def read(self, reg: int) -> int:
        return self.q.readl(self.base + reg)

    def write(self, reg: int, value: int) -> None:
        self.q.writel(self.base + reg, value)

    def flags(self) -> int:
        isr = DMA2 + (LISR if self.n < 4 else HISR)
        return (self.q.readl(isr) >> self.shift) & 0x3D

    def start(self, cr: int, fcr: int, periph: int, mem: int, count: int) -> None:
        self.write(CR, 0)
        self.write(FCR, fcr)
        self.write(NDTR, count)
        self.write(PAR, periph)
        self.write(M0AR, mem)
        self.q.writel(self.ifcr, 0x3D << self.shift)
        self.write(CR, cr | EN)


def board(qemu, machine, per_item):
    q = QTest(qemu, machine=machine, args=PER_ITEM if per_item else ())
    q.writel(AHB1ENR, q.readl(AHB1ENR) | DMA2EN)
    q.writel(AHB2ENR, q.readl(AHB2ENR) | CRYPEN_CLK | HASHEN_CLK)
    q.irq_intercept_in()
    return q


def snapshot(q: QTest, machine: str, memory=()) -> dict:
    """What the guest can see after a transfer (register reads without side effects)."""
    state = {"isr": [q.readl(DMA2 + LISR), q.readl(DMA2 + HISR)],
             "streams": [[q.readl(DMA2 + 0x10 + 0x18 * n + r)
                          for r in (CR, NDTR, PAR, M0AR, M1AR, FCR)] for n in range(8)],
             "items": q.qom_get("/machine/soc/dma2", "items"),
             "cryp": [q.readl(CRYP + r) for r in (C_CR, C_SR, C_DMACR, C_IMSCR, C_RISR,
                                                  C_MISR)]
             + [q.readl(CRYP + C_IV0LR + 4 * i) for i in range(4)],
             "cryp blocks": q.qom_get("/machine/soc/cryp", "blocks"),
             "hash": [q.readl(HASH + r) for r in (H_CR, H_STR, H_IMR, H_SR)]
             + [q.readl(HASH + H_CSR0 + 4 * i) for i in range(CSR_COUNT[machine])],
             "hash blocks": q.qom_get("/machine/soc/hash", "blocks"),
             "memory": [q.memread(addr, size) for addr, size in memory]}
    q.irq_level(0)                      # collect the IRQ messages still on their way
    state["irq edges"] = list(q.irq_events)
    state["log"] = q.log()
    return state


def on_both(qemu, machine, scenario):
    """Run scenario(q) on a board with bursts and one without; the same must come out.

    Returns (what scenario returned, the burst board's burst-items)."""
    results = []
    for per_item in (False, True):
        q = board(qemu, machine, per_item)
        try:
            out, memory = scenario(q)
            results.append((out, snapshot(q, machine, memory),
                            q.qom_get("/machine/soc/dma2", "burst-items")))
            assert q.alive(), q.stderr()
        finally:
            q.close()
    (out, seen, bursts), (out_ref, seen_ref, bursts_ref) = results
    assert bursts_ref == 0
    for key in seen_ref:
        assert seen[key] == seen_ref[key], f"{key} differs with bursts"
    assert out == out_ref
    return out, bursts


# --- HASH IN by DMA ------------------------------------------------------------------

def hash_digest(q, algo):
    n = DIGEST_WORDS[algo]
    base = HASH + (H_HR_V2 if n > 5 else H_HR)
    return b"".join(q.readl(base + 4 * i).to_bytes(4, "big") for i in range(n))


def hash_by_dma(q, data, algo, cr, fcr, addr=SRAM, extra_cr=0, imr=0):
    """INIT, NBLW, the stream, DMAE (HAL's HASH_Start_DMA); the digest once DCIS."""
    q.writel(HASH + H_CR, ALGOS[algo] | H_DT8 | extra_cr | INIT)
    q.writel(HASH + H_IMR, imr)
    q.memwrite(addr, data + bytes(-len(data) % 4))
    q.writel(HASH + H_STR, 8 * (len(data) % 4))
    s = Stream(q, 7)
    s.start(cr, fcr, HASH + H_DIN, addr, (len(data) + 3) // 4)
    q.writel(HASH + H_CR, q.readl(HASH + H_CR) | DMAE)
    q.clock_step(1)                     # the request raised by DMAE is served
    sr_after = q.readl(HASH + H_SR)     # qtest's clock: BUSY for the final blocks
    q.clock_step()                      # to the end of BUSY
    return s, sr_after


WORDS = M2P | MINC | psize(4) | msize(4) | (2 << 25) | pl(2) | IRQS


@pytest.mark.parametrize("machine,algo", [(V1, "sha1"), (V1, "md5"), (V2, "sha224"),
                                          (V2, "sha256")])
@pytest.mark.parametrize("size,fcr", [(8192, 0), (4099, 0), (4099, DMDIS | fth(3)),
                                      (1000, DMDIS | fth(1))])
def test_hash_by_dma_burst_is_the_per_item_transfer(qemu, machine, algo, size, fcr):
    data = rand_bytes(random.Random(size), size)

    def scenario(q):
        s, sr_after = hash_by_dma(q, data, algo, WORDS, fcr, imr=DINIS | DCIS)
        assert sr_after & BUSY and s.flags() == HT | TC and s.read(NDTR) == 0
        return hash_digest(q, algo), ()

    digest, bursts = on_both(qemu, machine, scenario)
    assert digest == hashlib.new(algo, data).digest()
    assert bursts >= (size + 3) // 4 - 2       # all but the FIFO's first words


def test_hash_64k_by_dma_with_mdmat_in_parts(qemu):
    """STM32F439, as the firmware feeds a long update: MDMAT, whole blocks, then the end."""
    rng = random.Random(64)
    parts = [rand_bytes(rng, 32768), rand_bytes(rng, 32768 - 64), rand_bytes(rng, 61)]

    def scenario(q):
        q.writel(HASH + H_CR, ALGOS["sha256"] | H_DT8 | MDMAT | INIT)
        contexts = []
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                q.writel(HASH + H_CR, q.readl(HASH + H_CR) & ~MDMAT)
            q.memwrite(SRAM, part + bytes(-len(part) % 4))
            q.writel(HASH + H_STR, 8 * (len(part) % 4))
            s = Stream(q, 7)
            s.start(WORDS, 0, HASH + H_DIN, SRAM, (len(part) + 3) // 4)
            q.writel(HASH + H_CR, q.readl(HASH + H_CR) | DMAE)
            q.clock_step(1)
            contexts.append([q.readl(HASH + H_CSR0 + 4 * n) for n in range(54)])
            q.writel(HASH + H_CR, q.readl(HASH + H_CR) & ~DMAE)
        q.clock_step()
        assert q.readl(HASH + H_SR) & DCIS
        return (hash_digest(q, "sha256"), contexts), ()

    (digest, _), bursts = on_both(qemu, V2, scenario)
    assert digest == hashlib.sha256(b"".join(parts)).digest()
    assert bursts > 16000


@pytest.mark.parametrize("fcr", [0, DMDIS | fth(3)])
def test_hash_source_running_off_sram_errors_at_the_same_item(qemu, fcr):
    """The prefetch (direct: 1 word, FIFO: 4) meets the end of SRAM as item by item."""
    def scenario(q):
        start = SRAM_END[V1] - 1000
        q.memwrite(start, rand_bytes(random.Random(5), 1000))
        q.writel(HASH + H_CR, H_DT8 | INIT)
        s = Stream(q, 7)
        s.start(WORDS, fcr, HASH + H_DIN, start, 400)
        q.writel(HASH + H_CR, q.readl(HASH + H_CR) | DMAE)
        q.clock_step(1)
        assert s.flags() & TE and not s.read(CR) & EN
        return s.read(NDTR), ()

    ndtr, bursts = on_both(qemu, V1, scenario)
    assert 150 <= ndtr <= 154 and bursts > 200


@pytest.mark.parametrize("mem_bytes,fcr,offset", [(1, DMDIS | fth(3), 1), (1, DMDIS | fth(0), 3),
                                                 (2, DMDIS | fth(1), 2)])
def test_hash_by_dma_from_narrower_memory_items_in_bursts(qemu, mem_bytes, fcr, offset):
    """Byte or half-word memory items, from an address that is not word aligned, packed by
    the FIFO into DIN words: in bursts, the same as item by item."""
    data = rand_bytes(random.Random(mem_bytes), 1000)
    cr = M2P | MINC | psize(4) | msize(mem_bytes) | (2 << 25) | pl(2) | IRQS

    def scenario(q):
        hash_by_dma(q, data, "sha1", cr, fcr, addr=SRAM + offset)
        return hash_digest(q, "sha1"), ()

    digest, bursts = on_both(qemu, V1, scenario)
    assert digest == hashlib.sha1(data).digest()
    assert bursts > 200


@pytest.mark.parametrize("fcr,size", [(DMDIS | fth(3), 4096 + 60), (DMDIS | fth(1), 999),
                                      (DMDIS | fth(0), 64)])
def test_hash_fed_memory_to_memory_into_din(qemu, fcr, size):
    """No DMAE, no end of transfer: the CPU's DIN stores done by a memory-to-memory
    stream (fixed destination), then NBLW and DCAL by the CPU: how an STM32F415/417,
    which has no MDMAT, feeds a message that goes on."""
    data = rand_bytes(random.Random(size), size)
    cr = M2M | PINC | psize(4) | msize(4) | pl(1) | IRQS

    def scenario(q):
        q.writel(HASH + H_CR, H_DT8 | INIT)
        q.writel(HASH + H_IMR, DINIS | DCIS)
        q.memwrite(SRAM, data + bytes(-len(data) % 4))
        s = Stream(q, 0)
        s.start(cr, fcr, SRAM, HASH + H_DIN, (size + 3) // 4)
        assert s.flags() == HT | TC and not s.read(CR) & EN
        q.writel(HASH + H_STR, 8 * (size % 4))
        q.writel(HASH + H_STR, 8 * (size % 4) | (1 << 8))
        q.clock_step()
        assert q.readl(HASH + H_SR) & DCIS
        return hash_digest(q, "sha1"), ()

    digest, bursts = on_both(qemu, V1, scenario)
    assert digest == hashlib.sha1(data).digest()
    assert bursts >= (size + 3) // 4 - 4


def test_memory_to_memory_source_running_off_sram_errors_at_the_same_item(qemu):
    def scenario(q):
        start = SRAM_END[V1] - 1000
        q.memwrite(start, rand_bytes(random.Random(9), 1000))
        q.writel(HASH + H_CR, H_DT8 | INIT)
        s = Stream(q, 0)
        s.start(M2M | PINC | psize(4) | msize(4) | IRQS, DMDIS | fth(3), start,
                HASH + H_DIN, 400)
        assert s.flags() & TE and not s.read(CR) & EN
        return s.read(NDTR), ()

    ndtr, bursts = on_both(qemu, V1, scenario)
    assert ndtr == 150 and bursts >= 248


def test_dma_into_a_block_whose_clock_is_off_goes_item_by_item(qemu):
    """The RCC gate answers, not the HASH: every item is a guest error on both boards."""
    def scenario(q):
        q.writel(HASH + H_CR, H_DT8 | DMAE | INIT)      # request up, then the clock off
        q.writel(AHB2ENR, q.readl(AHB2ENR) & ~HASHEN_CLK)
        s = Stream(q, 7)
        s.start(WORDS, 0, HASH + H_DIN, SRAM, 16)
        q.clock_step(1)
        q.writel(AHB2ENR, q.readl(AHB2ENR) | HASHEN_CLK)
        return s.read(NDTR), ()

    ndtr, bursts = on_both(qemu, V1, scenario)
    assert ndtr == 0 and bursts == 0


# --- CRYP IN and OUT by DMA ----------------------------------------------------------

def cryp_cr(algo, keysize=0, decrypt=False):
    return (algo << 3) | DATATYPE_8 | (keysize << 8) | (ALGODIR if decrypt else 0)


def cryp_load(q, key, iv, aes=True):
    words = be_words(key)
    first = 8 - len(words) if aes else 2
    for i, w in enumerate(words):
        q.writel(CRYP + C_K0LR + 4 * (first + i), w)
    for i, w in enumerate(be_words(iv)):
        q.writel(CRYP + C_IV0LR + 4 * i, w)


def cryp_start(q, cr, data, src, dst, pl_in, pl_out, fifo=0, beats=0, dmacr=DIEN | DOEN,
               mem_bytes=4):
    """HAL's CRYP_SetDMAConfig order: CRYPEN, IN stream, OUT stream, DMACR."""
    if dst != src:
        q.memwrite(dst, bytes(len(data)))
    q.memwrite(src, data)
    s_in, s_out = Stream(q, 6), Stream(q, 5)
    common = MINC | psize(4) | msize(mem_bytes) | (2 << 25) | IRQS | beats
    q.writel(CRYP + C_CR, cr | FFLUSH)
    q.writel(CRYP + C_CR, cr | CRYPEN)
    q.writel(CRYP + C_IMSCR, 1)          # INIM: its edges show the order of the items
    s_in.start(M2P | common | pl(pl_in), fifo, CRYP + C_DIN, src, len(data) // 4)
    s_out.start(P2M | common | pl(pl_out), fifo, CRYP + C_DOUT, dst, len(data) // 4)
    q.writel(CRYP + C_DMACR, dmacr)
    cryp_settle(q)
    return s_in, s_out


def cryp_settle(q: QTest) -> None:
    """Under qtest the CRYP's core is busy for RM0090's time per block (83-286 ns):
    a millisecond of virtual time lets every run here finish."""
    q.clock_step(1_000_000)


def cryp_prepare_key(q) -> None:
    """AES key preparation; CRYPEN and BUSY clear when it ends."""
    q.writel(CRYP + C_CR, cryp_cr(AES_KEY) | CRYPEN)
    cryp_settle(q)


PRIORITIES = [(2, 3), (2, 2), (3, 1)]          # OUT wins, OUT wins the tie, IN wins
FIFOS = [(0, 0), (DMDIS | fth(3), burst_beats(1, 1)), (DMDIS | fth(1), 0)]


@pytest.mark.parametrize("pl_in,pl_out", PRIORITIES)
@pytest.mark.parametrize("fifo,beats", FIFOS)
@pytest.mark.parametrize("decrypt", [False, True])
def test_cryp_aes_cbc_by_dma_burst_is_the_per_item_transfer(qemu, pl_in, pl_out, fifo,
                                                            beats, decrypt):
    rng = random.Random(pl_in * 10 + pl_out + decrypt)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, 4096)
    dst = SRAM + 0x8000

    def scenario(q):
        cryp_load(q, key, iv)
        if decrypt:
            cryp_prepare_key(q)
        s_in, s_out = cryp_start(q, cryp_cr(AES_CBC, decrypt=decrypt), data, SRAM, dst,
                                 pl_in, pl_out, fifo, beats)
        assert s_in.flags() == HT | TC and s_out.flags() == HT | TC
        return q.memread(dst, len(data)), [(dst, len(data))]

    out, bursts = on_both(qemu, V1, scenario)
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    ref = c.decryptor() if decrypt else c.encryptor()
    assert out == ref.update(data) + ref.finalize()
    assert bursts > 1024


@pytest.mark.parametrize("mem_bytes,fifo,beats", [(1, DMDIS | fth(3), 0),
                                                 (1, DMDIS | fth(3), burst_beats(0, 1)),
                                                 (2, DMDIS | fth(1), 0)])
@pytest.mark.parametrize("in_place", [False, True])
def test_cryp_aes_cbc_from_unaligned_memory_by_dma_burst(qemu, mem_bytes, fifo, beats,
                                                         in_place):
    """Byte or half-word memory items at addresses that are not word aligned, the FIFO
    packing them into the CRYP's words (how the firmware decrypts a TLS record in place,
    13 + 16 bytes into mbedTLS's buffer): in bursts, the same as item by item."""
    rng = random.Random(mem_bytes * 10 + in_place)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, 4096)
    src = SRAM + 0x400 + mem_bytes              # 1 mod 4; half-words: 2 mod 4
    dst = src if in_place else SRAM + 0x8000 + 4 - mem_bytes     # 3 mod 4; 2 mod 4

    def scenario(q):
        cryp_load(q, key, iv)
        cryp_prepare_key(q)
        s_in, s_out = cryp_start(q, cryp_cr(AES_CBC, decrypt=True), data, src, dst, 2, 2,
                                 fifo, beats, mem_bytes=mem_bytes)
        assert s_in.flags() == HT | TC and s_out.flags() == HT | TC
        return q.memread(dst, len(data)), [(dst, len(data))]

    out, bursts = on_both(qemu, V1, scenario)
    ref = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    assert out == ref.update(data) + ref.finalize()
    assert bursts > 1024


@pytest.mark.parametrize("algo,keylen", [(DES_CBC, 8), (TDES_CBC, 24)])
@pytest.mark.parametrize("decrypt", [False, True])
def test_cryp_des_tdes_cbc_by_dma_burst(qemu, algo, keylen, decrypt):
    rng = random.Random(keylen + decrypt)
    key, iv, data = rand_bytes(rng, keylen), rand_bytes(rng, 8), rand_bytes(rng, 2048)
    dst = SRAM + 0x8000

    def scenario(q):
        cryp_load(q, key, iv, aes=False)
        s_in, s_out = cryp_start(q, cryp_cr(algo, decrypt=decrypt), data, SRAM, dst, 2, 2)
        assert s_out.flags() == HT | TC
        return q.memread(dst, len(data)), [(dst, len(data))]

    out, bursts = on_both(qemu, V1, scenario)
    c = Cipher(TripleDES(key * (24 // keylen)), modes.CBC(iv))
    ref = c.decryptor() if decrypt else c.encryptor()
    assert out == ref.update(data) + ref.finalize()
    assert bursts > 512


def test_cryp_in_stream_stops_past_half_transfer_without_doen(qemu):
    """Without DOEN both FIFOs fill and IN stops with HTIF and not TCIF; DOEN finishes."""
    rng = random.Random(96)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, 96)
    dst = SRAM + 0x8000

    def scenario(q):
        cryp_load(q, key, iv)
        s_in, s_out = cryp_start(q, cryp_cr(AES_CBC), data, SRAM, dst, 2, 2, dmacr=DIEN)
        stopped = (s_in.read(NDTR), s_in.flags(), s_out.read(NDTR), s_out.flags(),
                   list(q.irq_events))
        q.writel(CRYP + C_DMACR, DIEN | DOEN)
        cryp_settle(q)
        return (stopped, q.memread(dst, len(data))), [(dst, len(data))]

    ((ndtr_in, flags_in, ndtr_out, flags_out, _), out), _ = on_both(qemu, V1, scenario)
    assert 0 < ndtr_in < 12 and flags_in == HT and ndtr_out == 24 and flags_out == 0
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    assert out == enc.update(data) + enc.finalize()


@pytest.mark.parametrize("fifo", [0, DMDIS | fth(3)])
def test_cryp_destination_running_off_sram_errors_at_the_same_item(qemu, fifo):
    rng = random.Random(7)
    key, iv, data = rand_bytes(rng, 16), rand_bytes(rng, 16), rand_bytes(rng, 2048)
    dst = SRAM_END[V1] - 1024

    def scenario(q):
        cryp_load(q, key, iv)
        s_in, s_out = cryp_start(q, cryp_cr(AES_CBC), data, SRAM, dst, 2, 3, fifo)
        assert s_out.flags() & TE and not s_out.read(CR) & EN
        return (s_in.read(NDTR), s_out.read(NDTR)), [(dst, 1024)]

    (ndtr_in, ndtr_out), bursts = on_both(qemu, V1, scenario)
    assert ndtr_out <= 256 and ndtr_in > 0 and bursts > 200
