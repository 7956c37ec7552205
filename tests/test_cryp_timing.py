"""The CRYP's busy time: RM0090's processing time per block in virtual time.

In a normal run the CRYP model processes a block within the register access that makes
it possible: no timer, BUSY never seen, the result in the OUT FIFO at once (the emulator
would otherwise spend far more host time on the timer than on the block). Under qtest and
-icount, whose virtual clocks are deterministic, the core holds BUSY=1 for RM0090's
processing time at HCLK 168 MHz, and the block's result reaches the OUT FIFO (OFNE, the
OUT request and interrupt) only when it ends. The qtests here measure that time to the
nanosecond for each algorithm, key size and GCM/CCM phase; the bare-metal program
(tests/baremetal/cryp_timing.c) shows what a guest sees with and without -icount.
"""
import re
import tempfile
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

from host_tools.board import Board
from lab_firmware import wait_console
from lab_qtest import QTest
from test_cryp import (AES_CBC, AES_CCM, AES_CTR, AES_ECB, AES_GCM, AES_KEY, BASE, BUSY,
                       CR, CRYP_IRQ, CRYPEN, DES_ECB, DIN, DOUT, FFLUSH, FINAL,
                       HEADER, IFEM, IFNF, IMSCR, INIT, IV0LR, K0LR, OFNE, OUTIM, PAYLOAD,
                       SR, TDES_CBC, TDES_ECB, be_words, cr_value)

HCLK_HZ = 168_000_000


def busy_ns(cycles: int) -> int:
    """The model's busy time for `cycles` HCLK cycles, in whole nanoseconds."""
    return cycles * 1_000_000_000 // HCLK_HZ


@pytest.fixture(params=["stm324xg-eval", "stm324x9i-eval"])
def fresh(qemu, request):
    with QTest(qemu, machine=request.param) as q:
        q.enable_clock("cryp")
        yield q
        assert q.alive(), q.stderr()


@pytest.fixture
def v2(qemu):
    """A fresh STM32F439 for each test (test_cryp's v2 is one per module): the busy times
    are measured from a clock no other test has moved."""
    with QTest(qemu, machine="stm324x9i-eval") as q:
        q.enable_clock("cryp")
        yield q
        assert q.alive(), q.stderr()


def load_key(q, key: bytes) -> None:
    """An AES key: it ends at K3RR."""
    first = 8 - len(key) // 4
    for i, w in enumerate(be_words(key)):
        q.writel(BASE + K0LR + 4 * (first + i), w)


def load_iv(q, iv: bytes) -> None:
    for i, w in enumerate(be_words(iv)):
        q.writel(BASE + IV0LR + 4 * i, w)


def sr(q) -> int:
    return q.readl(BASE + SR)


def busy_for(q, limit_ns: int = 10_000) -> int:
    """Nanoseconds of virtual time until BUSY drops, stepping 1 ns at a time."""
    ns = 0
    while sr(q) & BUSY:
        q.clock_step(1)
        ns += 1
        assert ns < limit_ns, "BUSY never dropped"
    return ns


BLOCK_CASES = [
    # algo, key length, cycles (RM0090 "Processing time")
    (AES_ECB, 16, 14), (AES_ECB, 24, 16), (AES_ECB, 32, 18),
    (AES_CBC, 16, 14), (AES_CTR, 32, 18),
    (DES_ECB, 8, 16), (TDES_ECB, 24, 48), (TDES_CBC, 24, 48),
]


@pytest.mark.parametrize("algo,keylen,cycles", BLOCK_CASES)
def test_a_block_is_busy_for_its_processing_time_then_its_result_shows(fresh, algo, keylen,
                                                                      cycles):
    q = fresh
    key = bytes(range(0x40, 0x40 + keylen))
    iv = bytes(range(0x80, 0x90))
    des = algo <= DES_ECB + 1                    # TDES/DES, ECB/CBC
    bw = 2 if des else 4
    data = bytes(range(4 * bw))
    keysize = {16: 0, 24: 1, 32: 2}[keylen] if not des else 0
    q.writel(BASE + CR, cr_value(algo, keysize=keysize) | FFLUSH)
    if des:
        for i, w in enumerate(be_words(key)):
            q.writel(BASE + K0LR + 8 + 4 * i, w)
        load_iv(q, iv[:8])
    else:
        load_key(q, key)
        load_iv(q, iv)
    q.writel(BASE + CR, cr_value(algo, keysize=keysize) | CRYPEN)
    assert sr(q) == IFEM | IFNF                  # enabled, idle: waits for input
    for w in be_words(data):
        q.writel(BASE + DIN, w)
    assert sr(q) == IFEM | IFNF | BUSY           # the block left the IN FIFO, no result
    q.clock_step(busy_ns(cycles) - 1)
    assert sr(q) == IFEM | IFNF | BUSY           # one nanosecond short
    assert q.readl(BASE + 0x18) == 1             # RISR: INRIS only, no OUTRIS yet
    q.clock_step(1)
    assert sr(q) == IFEM | IFNF | OFNE           # done: the result is in the OUT FIFO
    out = b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(bw))
    if des:
        k = key if keylen == 24 else key * 3
        mode = modes.CBC(iv[:8]) if algo == TDES_CBC else modes.ECB()
        ref = Cipher(TripleDES(k), mode).encryptor()
    else:
        mode = {AES_ECB: modes.ECB(), AES_CBC: modes.CBC(iv), AES_CTR: modes.CTR(iv)}[algo]
        ref = Cipher(algorithms.AES(key), mode).encryptor()
    assert out == ref.update(data)
    assert sr(q) == IFEM | IFNF
    assert "cryp" not in q.log()


@pytest.mark.parametrize("keylen,cycles", [(16, 14), (24, 16), (32, 18)])
def test_key_preparation_holds_busy_and_crypen(fresh, keylen, cycles):
    q = fresh
    keysize = {16: 0, 24: 1, 32: 2}[keylen]
    load_key(q, bytes(range(keylen)))
    q.writel(BASE + CR, cr_value(AES_KEY, keysize=keysize) | CRYPEN)
    assert q.readl(BASE + CR) & CRYPEN and sr(q) & BUSY
    assert busy_for(q) == busy_ns(cycles)
    assert not q.readl(BASE + CR) & CRYPEN       # cleared by hardware when done


# GCM/CCM per-phase cycles for AES-128/192/256 (RM0090, STM32F43x/F439 CRYP)
GCM_CYCLES = {INIT: (24, 28, 32), HEADER: (10, 10, 10), PAYLOAD: (14, 16, 18),
              FINAL: (14, 16, 18)}
CCM_CYCLES = {INIT: (12, 14, 16), HEADER: (14, 16, 18), PAYLOAD: (25, 29, 33),
              FINAL: (14, 16, 18)}


@pytest.mark.parametrize("keylen", [16, 24, 32])
@pytest.mark.parametrize("algo", [AES_GCM, AES_CCM])
def test_gcm_ccm_phases_take_their_times(v2, algo, keylen):
    q = v2
    ks = {16: 0, 24: 1, 32: 2}[keylen]
    table = GCM_CYCLES if algo == AES_GCM else CCM_CYCLES
    load_key(q, bytes(range(keylen)))
    load_iv(q, bytes(range(12)) + b"\0\0\0\2")
    q.writel(BASE + CR, cr_value(algo, keysize=ks, phase=INIT) | FFLUSH)
    q.writel(BASE + CR, cr_value(algo, keysize=ks, phase=INIT) | CRYPEN)
    if algo == AES_CCM:
        assert busy_for(q) == 0                  # waits for B0
        for w in range(4):
            q.writel(BASE + DIN, 0x07000000 if w == 0 else w)
    assert q.readl(BASE + CR) & CRYPEN
    assert busy_for(q) == busy_ns(table[INIT][ks])
    assert not q.readl(BASE + CR) & CRYPEN       # the init phase ends itself
    for phase in (HEADER, PAYLOAD, FINAL):
        q.writel(BASE + CR, cr_value(algo, keysize=ks, phase=phase))
        q.writel(BASE + CR, cr_value(algo, keysize=ks, phase=phase) | CRYPEN)
        for w in range(4):
            q.writel(BASE + DIN, w)
        assert not sr(q) & OFNE
        assert busy_for(q) == busy_ns(table[phase][ks]), phase
        if phase == HEADER:
            assert not sr(q) & OFNE              # a header block has no output
        else:
            assert sr(q) & OFNE
            for _ in range(4):
                q.readl(BASE + DOUT)
    assert "cryp" not in q.log()


def test_hal_style_gcm_polling_busy_and_ofne(v2):
    """STM32CubeF4's sequence (HAL_CRYPEx_AESGCM_Encrypt): wait for CRYPEN=0 after init,
    for BUSY=0 after the header and the payload, for OFNE before each DOUT read; every
    wait polls SR and lets virtual time pass between polls."""
    q = v2
    key, nonce = bytes(range(32)), bytes(range(12))
    aad, data = bytes(range(100, 140)), bytes(range(64))
    polls = 0

    def wait(read, cond):
        nonlocal polls
        while not cond(read()):
            polls += 1
            assert polls < 10_000
            q.clock_step(5)

    cr = cr_value(AES_GCM, keysize=2)
    load_key(q, key)
    load_iv(q, nonce + b"\0\0\0\2")
    q.writel(BASE + CR, cr | FFLUSH)
    q.writel(BASE + CR, cr | CRYPEN)
    wait(lambda: q.readl(BASE + CR), lambda v: not v & CRYPEN)
    q.writel(BASE + CR, cr | HEADER << 16)
    q.writel(BASE + CR, cr | HEADER << 16 | CRYPEN)
    padded = aad + bytes(-len(aad) % 16)
    for i in range(0, len(padded), 16):
        wait(lambda: sr(q), lambda v: v & IFNF)
        for w in be_words(padded[i:i + 16]):
            q.writel(BASE + DIN, w)
    wait(lambda: sr(q), lambda v: not v & BUSY)
    q.writel(BASE + CR, cr | PAYLOAD << 16)
    q.writel(BASE + CR, cr | PAYLOAD << 16 | CRYPEN)
    out = b""
    for i in range(0, len(data), 16):
        for w in be_words(data[i:i + 16]):
            q.writel(BASE + DIN, w)
        wait(lambda: sr(q), lambda v: v & OFNE)
        out += b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(4))
    wait(lambda: sr(q), lambda v: not v & BUSY)
    q.writel(BASE + CR, cr | FINAL << 16)
    q.writel(BASE + CR, cr | FINAL << 16 | CRYPEN)
    for w in be_words((len(aad) * 8).to_bytes(8, "big") + (len(data) * 8).to_bytes(8, "big")):
        q.writel(BASE + DIN, w)
    wait(lambda: sr(q), lambda v: v & OFNE)
    tag = b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(4))
    q.writel(BASE + CR, 0)
    assert out + tag == AESGCM(key).encrypt(nonce, data, aad)
    assert polls > 4                             # the waits did wait
    assert "cryp" not in q.log()


def test_hal_style_cbc_decryption_polls_busy_after_the_key_preparation(fresh):
    q = fresh
    key, iv, data = bytes(range(16)), bytes(range(16, 32)), bytes(range(48))
    ct = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(data)
    load_key(q, key)
    q.writel(BASE + CR, cr_value(AES_KEY) | CRYPEN)
    steps = 0
    while sr(q) & BUSY:
        q.clock_step(10)
        steps += 1
    assert steps == -(-busy_ns(14) // 10)
    load_iv(q, iv)
    q.writel(BASE + CR, cr_value(AES_CBC, decrypt=True) | FFLUSH)
    q.writel(BASE + CR, cr_value(AES_CBC, decrypt=True) | CRYPEN)
    out = b""
    for i in range(0, len(ct), 16):
        for w in be_words(ct[i:i + 16]):
            q.writel(BASE + DIN, w)
        while not sr(q) & OFNE:
            q.clock_step(10)
        out += b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(4))
    assert out == data


def test_blocks_queue_behind_the_busy_core(fresh):
    """Two blocks written at once: the second waits in the IN FIFO while the first runs,
    starts when the first ends, and each result shows at the end of its own time."""
    q = fresh
    load_key(q, bytes(16))
    q.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
    for w in range(8):
        q.writel(BASE + DIN, w)
    t = busy_ns(14)
    assert sr(q) == IFNF | BUSY                  # 4 words wait
    q.clock_step(t)
    assert sr(q) == IFEM | IFNF | OFNE | BUSY    # first result out, second block runs
    q.clock_step(t)
    assert sr(q) == IFEM | IFNF | OFNE | 8       # OFFU: both results, idle


def test_interrupt_and_dma_request_wait_for_the_result(fresh):
    q = fresh
    q.irq_intercept_in("/machine/soc/armv7m")
    load_key(q, bytes(16))
    q.writel(BASE + IMSCR, OUTIM)
    q.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
    for w in range(4):
        q.writel(BASE + DIN, w)
    assert not q.irq_level(CRYP_IRQ)
    assert q.readl(BASE + 0x1C) == 0             # MISR
    q.clock_step(busy_ns(14))
    assert q.irq_level(CRYP_IRQ)
    assert q.readl(BASE + 0x1C) == 2             # OUTMIS


def test_clearing_crypen_lets_the_running_block_finish(fresh):
    q = fresh
    load_key(q, bytes(16))
    q.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
    for w in range(4):
        q.writel(BASE + DIN, w)
    q.writel(BASE + CR, cr_value(AES_ECB))       # CRYPEN off while BUSY
    assert sr(q) & BUSY
    q.clock_step(busy_ns(14))
    assert sr(q) == IFEM | IFNF | OFNE           # RM0090: BUSY=0 once it has completed
    out = b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(4))
    assert out == Cipher(algorithms.AES(bytes(16)), modes.ECB()).encryptor().update(
        b"".join(w.to_bytes(4, "big") for w in range(4)))
    assert "cryp" not in q.log()


def test_din_into_a_full_fifo_and_config_changes_while_busy(fresh):
    """What a guest that does not wait gets: a DIN write into the full IN FIFO waits for
    the core (the running block completes at once, as with AHB wait states), and a CR
    write that changes the configuration while BUSY=1 is logged and completes it."""
    q = fresh
    key = bytes(range(16))
    load_key(q, key)
    q.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
    words = list(range(16))
    for w in words[:12]:                         # one block runs, 8 words wait
        q.writel(BASE + DIN, w)
    assert sr(q) == BUSY
    q.writel(BASE + DIN, words[12])              # into the full FIFO
    assert "IN FIFO full" not in q.log()
    assert sr(q) & (BUSY | OFNE) == BUSY | OFNE  # block 1 out, block 2 running
    for w in words[13:]:
        q.writel(BASE + DIN, w)
    q.writel(BASE + CR, cr_value(AES_CBC) | CRYPEN)   # mode change while BUSY
    assert "while BUSY=1" in q.log()
    assert sr(q) & OFNE
    q.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
    q.clock_step(1000)
    out = b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(8))
    data = b"".join(w.to_bytes(4, "big") for w in words)
    assert out == Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data[:32])
    assert q.alive()


def test_phase_change_while_busy_completes_the_queued_header_blocks_first(v2):
    """A guest that switches from the header to the payload phase without waiting for
    BUSY=0 (the HAL waits): the header blocks already queued are authenticated under the
    header phase first, as in a normal run, and the write is logged."""
    q = v2
    key, nonce, aad, data = bytes(range(16)), bytes(range(12)), bytes(range(32)), bytes(16)
    cr = cr_value(AES_GCM)
    load_key(q, key)
    load_iv(q, nonce + b"\0\0\0\2")
    q.writel(BASE + CR, cr | CRYPEN)
    q.clock_step(1000)
    q.writel(BASE + CR, cr | HEADER << 16 | CRYPEN)
    for w in be_words(aad):                      # block 1 runs, block 2 waits
        q.writel(BASE + DIN, w)
    q.writel(BASE + CR, cr | PAYLOAD << 16)      # no wait for BUSY=0
    assert "while BUSY=1" in q.log()
    q.writel(BASE + CR, cr | PAYLOAD << 16 | CRYPEN)
    for w in be_words(data):
        q.writel(BASE + DIN, w)
    q.clock_step(1000)
    out = b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(4))
    q.writel(BASE + CR, cr | FINAL << 16 | CRYPEN)
    for w in be_words((len(aad) * 8).to_bytes(8, "big") + (len(data) * 8).to_bytes(8, "big")):
        q.writel(BASE + DIN, w)
    q.clock_step(1000)
    tag = b"".join(q.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(4))
    assert out + tag == AESGCM(key).encrypt(nonce, data, aad)


def test_reset_while_busy_drops_the_block(fresh):
    q = fresh
    load_key(q, bytes(16))
    q.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
    for w in range(4):
        q.writel(BASE + DIN, w)
    assert sr(q) & BUSY
    q.reset_block("cryp")
    assert sr(q) == IFEM | IFNF
    q.clock_step(1000)                           # no late result
    assert sr(q) == IFEM | IFNF


def test_busy_state_migrates(qemu):
    """A machine saved while the core is busy resumes with the block still running (the
    busy subsection and its timer migrate) and the next block waiting behind it. (qtest's
    virtual clock itself is not migrated, so the time left is not compared here.)"""
    with tempfile.TemporaryDirectory(prefix="stm32lab-cryp-mig-") as d:
        state = Path(d) / "state"
        key = bytes(range(16))
        with QTest(qemu, machine="stm324x9i-eval") as src:
            src.enable_clock("cryp")
            load_key(src, key)
            src.writel(BASE + CR, cr_value(AES_ECB) | CRYPEN)
            for w in range(8):
                src.writel(BASE + DIN, w)
            src.clock_step(5)
            assert sr(src) == IFNF | BUSY
            src.qmp("migrate", uri=f"exec:cat > {state}")
            deadline = time.monotonic() + 30
            while src.qmp("query-migrate").get("status") != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.05)
        with QTest(qemu, machine="stm324x9i-eval", args=("-incoming", "defer")) as dst:
            dst.qmp("migrate-incoming", uri=f"exec:cat {state}")
            deadline = time.monotonic() + 30
            while dst.qmp("query-migrate").get("status") != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert sr(dst) == IFNF | BUSY            # still running, 4 words waiting
            assert dst.readl(BASE + DOUT) == 0       # no result before its time
            dst.clock_step(1000)
            out = b"".join(dst.readl(BASE + DOUT).to_bytes(4, "big") for _ in range(8))
            data = b"".join(w.to_bytes(4, "big") for w in range(8))
            assert out == Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data)


# ---- on the emulated CPU (tests/baremetal/cryp_timing.c) -------------------------------

# the FIPS-197 / SP 800-67 results of the program's fixed key and block
AES128 = "69c4e0d8 6a7b0430 d8cdb780 70b4c55a"
AES256 = "8ea2b7ca 516745bf eafc4990 4b496089"
ICOUNT_SHIFT = 1              # 2 ns per instruction: the polls count the busy time finely


@pytest.fixture(scope="module")
def program(baremetal):
    return baremetal / "cryp_timing.elf"


def run_program(qemu, program, **options) -> dict:
    with Board(program, emulator=qemu, **options) as board:
        out = wait_console(board, "\ndone")
    fields = {}
    for m in re.finditer(r"cryp (\w+) sr: 0x([0-9a-f]+) polls: (\d+)(?: out:((?: [0-9a-f]{8})+))?",
                         out):
        fields[m.group(1)] = (int(m.group(2), 16), int(m.group(3)),
                              (m.group(4) or "").strip())
    assert set(fields) == {"key128", "aes128", "aes256", "tdes"}, out
    assert fields["aes128"][2] == AES128 and fields["aes256"][2] == AES256, out
    tdes_key = bytes(range(24))                  # key[0..5] to K1LR..K3RR
    ref = Cipher(TripleDES(tdes_key), modes.ECB()).encryptor().update(
        bytes.fromhex("0011223344556677"))
    assert fields["tdes"][2] == " ".join(ref[i:i + 4].hex() for i in (0, 4)), out
    return fields


def test_cryp_takes_no_time_in_a_normal_run(qemu, program):
    r = run_program(qemu, program)
    for name, (sr_value, polls, _) in r.items():
        assert not sr_value & BUSY and polls == 0, (name, r)


def test_cryp_busy_time_is_charged_and_reproducible_under_icount(qemu, program):
    first = run_program(qemu, program, deterministic=True, icount_shift=ICOUNT_SHIFT)
    for name, (sr_value, polls, _) in first.items():
        assert sr_value & BUSY and polls > 0, (name, first)
    polls = {name: p for name, (_, p, _) in first.items()}
    # 14, 18 and 48 HCLK cycles (83, 107, 285 ns): the waits grow with the work
    assert polls["aes128"] < polls["aes256"] < polls["tdes"], polls
    assert 2.5 < polls["tdes"] / polls["aes128"] < 4.5, polls
    assert run_program(qemu, program, deterministic=True, icount_shift=ICOUNT_SHIFT) == first
