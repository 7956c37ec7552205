"""Garbage to every register of every new model, reads of every offset: QEMU keeps running,
guest errors are logged, and the device still works afterwards."""
import pytest

from lab_qtest import RCC_CLOCKS, QTest

# (name, base, size, function-name prefix of its log messages) of each model the lab adds
MODELS = [
    ("rcc", 0x40023800, 0x400, "stm32f4xx_rcc"),
    ("flash-if", 0x40023C00, 0x400, "stm32f4xx_flash"),
    ("pwr", 0x40007000, 0x400, "stm32f4xx_pwr"),
    ("rng", 0x50060800, 0x400, "stm32f4xx_rng"),
    ("eth", 0x40028000, 0x1400, "stm32f4xx_eth"),
    ("cryp", 0x50060000, 0x400, "stm32f4xx_cryp"),
    ("hash", 0x50060400, 0x400, "stm32f4xx_hash"),
] + [(f"gpio{chr(ord('a') + i)}", 0x40020000 + 0x400 * i, 0x400, "stm32f4xx_gpio")
     for i in range(9)]

PATTERNS = [0xFFFFFFFF, 0x00000000, 0xA5A5A5A5, 0x5A5A5A5A, 0xDEADBEEF]


@pytest.mark.parametrize("name,base,size,prefix", MODELS, ids=[m[0] for m in MODELS])
def test_garbage_everywhere(qemu, name, base, size, prefix):
    with QTest(qemu, nic="user,restrict=on,net=192.168.0.0/24,host=192.168.0.1") as q:
        if name in RCC_CLOCKS:
            q.enable_clock(name)
        for off in range(0, size, 4):
            q.readl(base + off)
        for pattern in PATTERNS:
            for off in range(0, size, 4):
                q.writel(base + off, pattern)
                q.readl(base + off)
            q.clock_step(10_000)
        for off in range(0, size, 1):   # byte accesses
            q.writeb(base + off, 0xFF)
            q.readb(base + off)
        assert q.alive(), q.stderr()
        assert prefix in q.log(), f"no guest error logged by {prefix}: {q.log()[-2000:]}"
        # After a system reset the board is usable: RNG delivers, RCC reaches the PLL
        q.qmp("system_reset")
        q.enable_clock("rng")
        q.writel(0x50060800, 1 << 2)
        q.wait_until(lambda: q.readl(0x50060804) & 1, step_ns=1000)
        assert q.readl(0x50060808) != 0
        assert q.alive(), q.stderr()


def test_bad_offsets_are_guest_errors(qts):
    qts.enable_clock("rng", "gpioa")
    qts.readl(0x40023800 + 0x3FC)
    qts.writel(0x40023800 + 0x3FC, 1)
    qts.readl(0x50060800 + 0x10)
    qts.readl(0x40020000 + 0x3FC)
    log = qts.log()
    assert "stm32f4xx_rcc_read: bad offset 0x3fc" in log
    assert "stm32f4xx_rcc_write: bad offset 0x3fc" in log
    assert "stm32f4xx_rng_read: bad offset 0x10" in log
    assert "GPIOA: bad offset 0x3fc" in log
