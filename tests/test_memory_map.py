"""The memory map of qemu/README.md (docs/architecture.md, "The boards"), as QEMU's
'info mtree' shows it."""
import re
import subprocess
from pathlib import Path

import pytest

from lab_qtest import QTest, mtree

# (region name pattern in 'info mtree -f', start, size)
BLOCKS = [
    ("flash", 0x08000000, 0x100000),
    ("flash.alias", 0x00000000, 0x100000),
    ("sram", 0x20000000, 0x20000),
    ("ccm", 0x10000000, 0x10000),
    ("bkpsram", 0x40024000, 0x1000),
    ("signature", 0x1FFF7A10, 0x20),
    ("stm32f2xx-usart", 0x40004800, 0x400),   # USART3, console
    ("stm32f2xx-usart", 0x40011000, 0x400),   # USART1
    ("stm32f2xx-usart", 0x40004400, 0x400),   # USART2
    ("stm32f2xx-usart", 0x40011400, 0x400),   # USART6
    ("stm32f2xx_timer", 0x40000000, 0x400),   # TIM2
    ("stm32f2xx_timer", 0x40000C00, 0x400),   # TIM5
    ("stm32f4xx-syscfg", 0x40013800, 0x400),
    ("stm32f4xx-exti", 0x40013C00, 0x400),
    ("stm32f4xx-rcc", 0x40023800, 0x400),
    ("stm32f4xx-flash-if", 0x40023C00, 0x400),
    ("stm32f4xx-pwr", 0x40007000, 0x400),
    ("stm32f4xx-eth", 0x40028000, 0x1400),
    ("stm32f4xx-rng", 0x50060800, 0x400),
    ("stm32f4xx-cryp", 0x50060000, 0x400),
    ("stm32f4xx-hash", 0x50060400, 0x400),
    ("stm32f4xx-dma", 0x40026000, 0x400),     # DMA1
    ("stm32f4xx-dma", 0x40026400, 0x400),     # DMA2
] + [("stm32f4xx-gpio", 0x40020000 + 0x400 * i, 0x400) for i in range(9)]


@pytest.fixture(scope="module")
def regions(qemu):
    with QTest(qemu) as q:
        return mtree(q)


@pytest.mark.parametrize("name,start,size", BLOCKS,
                         ids=[f"{n}@{s:08x}" for n, s, _ in BLOCKS])
def test_block_at_its_address(regions, name, start, size):
    assert (name, start, size) in regions, \
        f"{name} not at 0x{start:08x}+0x{size:x}; have {sorted(r for r in regions if r[0] == name)}"


def test_print_qemu_names_a_binary_with_the_board():
    """`make -s print-qemu` prints one absolute path whose `-M help` lists stm324xg-eval."""
    top = Path(__file__).resolve().parent.parent
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(top), "print-qemu"],
                         capture_output=True,
                         text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == 1 and Path(lines[0]).is_absolute(), out
    machines = subprocess.run([lines[0], "-M", "help"], capture_output=True, text=True,
                              check=True).stdout
    assert re.search(r"^stm324xg-eval\s+ST STM324xG-EVAL", machines, re.M)


@pytest.mark.parametrize("machine,flash_kib", [("stm324xg-eval", 1024), ("stm324x9i-eval", 2048)])
def test_device_signature(qemu, machine, flash_kib):
    """RM0090 39: 96-bit unique ID at 0x1FFF7A10, flash size in KiB at 0x1FFF7A22."""
    with QTest(qemu, machine=machine) as q:
        assert [q.readl(0x1FFF7A10 + 4 * i) for i in range(3)] == \
            [0x00430027, 0x33345111, 0x35383830]
        assert q.readw(0x1FFF7A22) == flash_kib
        q.writel(0x1FFF7A10, 0)                    # ROM: writes are ignored
        assert q.readl(0x1FFF7A10) == 0x00430027
