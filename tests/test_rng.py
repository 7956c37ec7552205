"""RNG (RM0090 section 24): DRDY, data, seeding and injected errors, through qtest."""
import pytest

from lab_qtest import QTest

RNG = 0x50060800
CR, SR, DR = RNG, RNG + 4, RNG + 8
RNGEN, IE = 1 << 2, 1 << 3
DRDY, CECS, SECS, CEIS, SEIS = 1, 2, 4, 1 << 5, 1 << 6
HASH_RNG_IRQ = 80


@pytest.fixture
def qts(qts):
    """The board with the RNG clock on (RCC_AHB2ENR.RNGEN), as firmware sets it."""
    qts.enable_clock("rng")
    return qts


def read_words(qts, n):
    words = []
    for _ in range(n):
        qts.wait_until(lambda: qts.readl(SR) & DRDY, step_ns=1000)
        words.append(qts.readl(DR))
    return words


def test_reset_values(qts):
    assert (qts.readl(CR), qts.readl(SR), qts.readl(DR)) == (0, 0, 0)


def test_drdy_then_distinct_nonzero_words(qts):
    qts.writel(CR, RNGEN)
    assert not qts.readl(SR) & DRDY            # 40 RNG clocks before the first word
    words = read_words(qts, 64)
    assert len(set(words)) == 64
    assert all(words)
    assert not qts.readl(SR) & DRDY            # the read consumed the word
    assert qts.qom_get("/machine/soc/rng", "words") == 64


def test_dr_reads_zero_when_not_ready(qts):
    assert qts.readl(DR) == 0
    assert "DRDY=0" in qts.log()


def test_same_seed_same_sequence(qemu):
    runs = []
    for seed in (1234, 1234, 99):
        with QTest(qemu, args=["-global", f"stm32f4xx-rng.seed={seed}"]) as q:
            q.enable_clock("rng")
            q.writel(CR, RNGEN)
            runs.append(read_words(q, 16))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_host_entropy_differs_between_runs(qemu):
    runs = []
    for _ in range(2):
        with QTest(qemu) as q:
            q.enable_clock("rng")
            q.writel(CR, RNGEN)
            runs.append(read_words(q, 4))
    assert runs[0] != runs[1]


def test_interrupt_on_data_ready(qts):
    qts.irq_intercept_in()
    qts.writel(CR, RNGEN | IE)
    qts.wait_until(lambda: qts.irq_level(HASH_RNG_IRQ), step_ns=1000)
    qts.readl(DR)
    assert not qts.irq_level(HASH_RNG_IRQ)


def test_seed_error_and_recovery(qts):
    qts.irq_intercept_in()
    qts.writel(CR, RNGEN | IE)
    read_words(qts, 1)
    qts.qom_set("/machine/soc/rng", "seed-error", True)
    sr = qts.readl(SR)
    assert sr & SECS and sr & SEIS and not sr & DRDY
    assert qts.irq_level(HASH_RNG_IRQ)
    qts.clock_step(100_000)
    assert not qts.readl(SR) & DRDY            # no data while the fault lasts
    qts.qom_set("/machine/soc/rng", "seed-error", False)
    qts.writel(SR, ~SEIS & 0xFFFFFFFF)         # SEIS is rc_w0
    assert not qts.readl(SR) & SEIS
    assert qts.readl(SR) & SECS                # stays until the RNG restarts
    qts.writel(CR, IE)
    qts.writel(CR, RNGEN | IE)
    assert not qts.readl(SR) & SECS
    assert read_words(qts, 2)[0] != 0


def test_clock_error_clears_by_itself(qts):
    qts.writel(CR, RNGEN)
    qts.qom_set("/machine/soc/rng", "clock-error", True)
    assert qts.readl(SR) & (CECS | CEIS) == CECS | CEIS
    qts.qom_set("/machine/soc/rng", "clock-error", False)
    sr = qts.readl(SR)
    assert not sr & CECS and sr & CEIS         # CEIS waits for software
    qts.writel(SR, 0)
    assert not qts.readl(SR) & CEIS
    assert read_words(qts, 1)


@pytest.mark.parametrize("value", [0xFFFFFFFF, 0])
def test_read_only_bits_ignore_writes(qts, value):
    qts.writel(SR, value)
    assert qts.readl(SR) & (DRDY | CECS | SECS) == 0
    qts.writel(DR, 0x12345678)
    assert qts.readl(DR) == 0
