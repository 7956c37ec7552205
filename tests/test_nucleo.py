"""The NUCLEO-F411RE machine (STM32F411RE, RM0383; UM1724): its memory map as 'info mtree'
shows it, the blocks the F411 lacks, DBGMCU IDCODE, 8 MHz HSE bypass to 96 MHz, USART2 as
the console, LD2 on PA5 and B1 on PC13 seen from the host."""
import socket
import tempfile
import time

import pytest

from lab_qtest import QTest, mtree

MACHINE = "nucleo-f411re"

RCC = 0x40023800
RCC_CR, RCC_PLLCFGR, RCC_CFGR = RCC + 0x00, RCC + 0x04, RCC + 0x08
AHB1ENR, APB1ENR, APB2ENR = RCC + 0x30, RCC + 0x40, RCC + 0x44
FLASH_ACR = 0x40023C00
GPIOA, GPIOC = 0x40020000, 0x40020800
MODER, IDR, ODR, BSRR = 0x00, 0x10, 0x14, 0x18
USART2 = 0x40004400
USART_SR, USART_DR, USART_CR1 = 0x00, 0x04, 0x0C

# (region name in 'info mtree -f', start, size): RM0383 table 1, DS10314
BLOCKS = [
    ("flash", 0x08000000, 0x80000),
    ("flash.alias", 0x00000000, 0x80000),
    ("sram", 0x20000000, 0x20000),
    ("signature", 0x1FFF7A10, 0x20),
    ("stm32f2xx-usart", 0x40011000, 0x400),   # USART1
    ("stm32f2xx-usart", 0x40004400, 0x400),   # USART2, console
    ("stm32f2xx-usart", 0x40011400, 0x400),   # USART6
    ("stm32f2xx_timer", 0x40000000, 0x400),   # TIM2
    ("stm32f2xx_timer", 0x40000C00, 0x400),   # TIM5
    ("stm32f4xx-spi", 0x40013000, 0x400),     # SPI1
    ("stm32f4xx-spi", 0x40003800, 0x400),     # SPI2
    ("stm32f4xx-spi", 0x40003C00, 0x400),     # SPI3
    ("stm32f4xx-spi", 0x40013400, 0x400),     # SPI4
    ("stm32f4xx-spi", 0x40015000, 0x400),     # SPI5
    ("stm32f4xx-syscfg", 0x40013800, 0x400),
    ("stm32f4xx-exti", 0x40013C00, 0x400),
    ("stm32f4xx-rcc", 0x40023800, 0x400),
    ("stm32f4xx-flash-if", 0x40023C00, 0x400),
    ("stm32f4xx-pwr", 0x40007000, 0x400),
    ("stm32f4xx-dma", 0x40026000, 0x400),     # DMA1
    ("stm32f4xx-dma", 0x40026400, 0x400),     # DMA2
    ("I2C1", 0x40005400, 0x400),              # logged as unimplemented
    ("ADC1", 0x40012000, 0x400),
    ("USB", 0x50000000, 0x40000),             # USB OTG FS
] + [("stm32f4xx-gpio", 0x40020000 + 0x400 * i, 0x400) for i in (0, 1, 2, 3, 4, 7)]

# Blocks of the F417 that the F411 does not have: nothing may answer there
ABSENT = [
    ("ccm", 0x10000000), ("bkpsram", 0x40024000), ("USART3", 0x40004800),
    ("GPIOF", 0x40021400), ("GPIOG", 0x40021800), ("GPIOI", 0x40022000),
    ("ETH", 0x40028000), ("CRYP", 0x50060000), ("HASH", 0x50060400),
    ("RNG", 0x50060800), ("FSMC", 0xA0000000), ("FSMC bank 1", 0x60000000),
    ("DCMI", 0x50050000), ("USB OTG HS", 0x40040000),
]


@pytest.fixture(scope="module")
def regions(qemu):
    with QTest(qemu, machine=MACHINE) as q:
        return mtree(q)


@pytest.fixture
def nucleo(qemu):
    with QTest(qemu, machine=MACHINE) as q:
        yield q
        assert q.alive(), f"QEMU died: {q.stderr()}"


@pytest.mark.parametrize("name,start,size", BLOCKS,
                         ids=[f"{n}@{s:08x}" for n, s, _ in BLOCKS])
def test_block_at_its_address(regions, name, start, size):
    assert (name, start, size) in regions, \
        f"{name} not at 0x{start:08x}+0x{size:x}; have {sorted(r for r in regions if r[0] == name)}"


@pytest.mark.parametrize("name,addr", ABSENT, ids=[n for n, _ in ABSENT])
def test_blocks_the_f411_lacks_are_absent(regions, name, addr):
    hits = [r for r in regions if r[1] <= addr < r[1] + r[2] and r[2] < 1 << 32]
    assert not hits, f"{name}: the F411 has nothing at 0x{addr:08x}, QEMU maps {hits}"


def test_flash_size_and_unique_id(nucleo):
    """RM0383 24.1/24.2: flash size in KiB at 0x1FFF7A22 (512), 96-bit ID at 0x1FFF7A10."""
    assert nucleo.readw(0x1FFF7A22) == 512
    assert [nucleo.readl(0x1FFF7A10 + 4 * i) for i in range(3)] == \
        [0x00430027, 0x33345111, 0x35383830]


def test_flash_and_sram_ends(nucleo):
    """The last flash sector (128 KiB at 0x0806_0000) is readable through the boot alias;
    the last SRAM word takes a write and the next address is outside SRAM."""
    assert nucleo.readl(0x0807FFFC) == nucleo.readl(0x0007FFFC)
    nucleo.writel(0x2001FFFC, 0xA5A5F00D)
    assert nucleo.readl(0x2001FFFC) == 0xA5A5F00D
    assert not any(r[1] <= 0x20020000 < r[1] + r[2] and r[2] < 1 << 32 for r in mtree(nucleo))


def test_dbgmcu_idcode(nucleo):
    """RM0383 23.6.1: DEV_ID 0x431 (STM32F411xC/E), REV_ID 0x1000 (revision A)."""
    assert nucleo.readl(0xE0042000) == 0x10000431


def test_hse_bypass_pll_to_96mhz(nucleo):
    """UM1724: 8 MHz from the ST-LINK on OSC_IN, HSE bypass; PLL M=8 N=384 P=4 -> 96 MHz
    (the Cube examples' USB-friendly setting)."""
    nucleo.writel(RCC_CR, nucleo.readl(RCC_CR) | 1 << 18)             # HSEBYP
    nucleo.writel(RCC_CR, nucleo.readl(RCC_CR) | 1 << 16)             # HSEON
    assert nucleo.readl(RCC_CR) & 1 << 17                              # HSERDY
    nucleo.writel(RCC_PLLCFGR, 8 | 384 << 6 | 1 << 16 | 1 << 22 | 8 << 24)
    nucleo.writel(RCC_CR, nucleo.readl(RCC_CR) | 1 << 24)             # PLLON
    assert nucleo.readl(RCC_CR) & 1 << 25                              # PLLRDY
    nucleo.writel(FLASH_ACR, 3)
    nucleo.writel(RCC_CFGR, 4 << 10 | 2)                               # PPRE1 /2, SW=PLL
    assert nucleo.readl(RCC_CFGR) >> 2 & 3 == 2                        # SWS=PLL
    assert nucleo.qom_get("/machine/soc/rcc", "hclk-frequency") == 96_000_000


def test_usart2_is_the_console(qemu):
    """The first -serial is USART2 (the ST-LINK virtual COM port, PA2/PA3)."""
    with tempfile.TemporaryDirectory(prefix="stm32lab-nucleo-") as d:
        path = f"{d}/console.sock"
        with QTest(qemu, machine=MACHINE,
                   serials=[f"unix:{path},server=on,wait=off"]) as q:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(path)
            c.settimeout(5)
            q.writel(APB1ENR, 1 << 17)
            q.writel(USART2 + USART_CR1, 1 << 13 | 1 << 3 | 1 << 2)       # UE, TE, RE
            for ch in b"F411":
                q.writel(USART2 + USART_DR, ch)
            data = b""
            while len(data) < 4:
                data += c.recv(4 - len(data))
            assert data == b"F411"
            c.sendall(b"k")
            deadline = time.monotonic() + 5
            while not q.readl(USART2 + USART_SR) & 1 << 5:                 # RXNE
                assert time.monotonic() < deadline, "USART2 did not receive"
                q.clock_step(1000)
                time.sleep(0.002)
            assert q.readl(USART2 + USART_DR) == ord("k")
            c.close()


def test_ld2_follows_pa5(nucleo):
    """LD2 (green, PA5, active high) over QMP: on with PA5 high in output mode."""
    nucleo.writel(AHB1ENR, 1)
    assert nucleo.qom_get("/machine", "led2") is False
    nucleo.writel(GPIOA + MODER, (nucleo.readl(GPIOA + MODER) & ~(3 << 10)) | 1 << 10)
    nucleo.writel(GPIOA + BSRR, 1 << 5)
    assert nucleo.qom_get("/machine", "led2") is True
    nucleo.writel(GPIOA + BSRR, 1 << 21)
    assert nucleo.qom_get("/machine", "led2") is False


def test_b1_is_active_low_on_pc13_and_fires_exti(nucleo):
    """B1 pulls PC13 low while pressed (the board's pull-up holds it high); EXTI line 13 on
    port C with a falling-edge trigger raises EXTI15_10 (NVIC 40)."""
    nucleo.writel(AHB1ENR, 1 << 2)
    nucleo.writel(APB2ENR, 1 << 14)                                     # SYSCFG
    nucleo.irq_intercept_in()
    assert nucleo.readl(GPIOC + IDR) & 1 << 13
    nucleo.writel(0x40013814, 2 << 4)                                   # EXTICR4: PC13
    nucleo.writel(0x40013C00, 1 << 13)                                  # IMR
    nucleo.writel(0x40013C0C, 1 << 13)                                  # FTSR
    nucleo.qom_set("/machine", "button-user", True)
    assert nucleo.qom_get("/machine", "button-user") is True
    assert not nucleo.readl(GPIOC + IDR) & 1 << 13
    assert nucleo.readl(0x40013C14) & 1 << 13
    assert (40, True) in nucleo.irq_events
    nucleo.qom_set("/machine", "button-user", False)
    assert nucleo.readl(GPIOC + IDR) & 1 << 13

