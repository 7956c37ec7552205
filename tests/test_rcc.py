"""RCC, flash interface and PWR: RM0090 sections 7.3, 3.9 and 5.4, through qtest."""
import pytest

RCC = 0x40023800
CR, PLLCFGR, CFGR, CIR = RCC + 0x00, RCC + 0x04, RCC + 0x08, RCC + 0x0C
AHB1ENR, APB1ENR, BDCR, CSR = RCC + 0x30, RCC + 0x40, RCC + 0x70, RCC + 0x74
FLASH_ACR, FLASH_KEYR, FLASH_SR, FLASH_CR = 0x40023C00, 0x40023C04, 0x40023C0C, 0x40023C10
FLASH_OPTCR = 0x40023C14
PWR_CR, PWR_CSR = 0x40007000, 0x40007004
RCC_IRQ = 5

HSEON, HSERDY, PLLON, PLLRDY = 1 << 16, 1 << 17, 1 << 24, 1 << 25

RESET_VALUES = {
    "CR": (CR, 0x00000083),
    "PLLCFGR": (PLLCFGR, 0x24003010),
    "CFGR": (CFGR, 0x00000000),
    "CIR": (CIR, 0x00000000),
    "AHB1ENR": (AHB1ENR, 0x00100000),
    "AHB1LPENR": (RCC + 0x50, 0x7E6791FF),
    "AHB2LPENR": (RCC + 0x54, 0x000000F1),
    "APB1LPENR": (RCC + 0x60, 0x36FEC9FF),
    "APB2LPENR": (RCC + 0x64, 0x00075F33),
    "CSR": (CSR, 0x0E000000),
    "PLLI2SCFGR": (RCC + 0x84, 0x20003000),
    "FLASH_ACR": (FLASH_ACR, 0),
    "FLASH_CR": (FLASH_CR, 0x80000000),
    "FLASH_OPTCR": (FLASH_OPTCR, 0x0FFFAAED),
    "PWR_CR": (PWR_CR, 0x00004000),
}


@pytest.mark.parametrize("name", RESET_VALUES)
def test_reset_value(qts, name):
    addr, value = RESET_VALUES[name]
    if name.startswith("PWR"):
        qts.enable_clock("pwr")
    assert qts.readl(addr) == value, name


def hclk(qts):
    return qts.qom_get("/machine/soc/rcc", "hclk-frequency")


def test_bringup_to_168mhz(qts):
    """The usual HAL sequence: HSE, PLL M=25 N=336 P=2 Q=7, 5 wait states, switch."""
    assert hclk(qts) == 16_000_000
    qts.writel(CR, qts.readl(CR) | HSEON)
    assert qts.readl(CR) & HSERDY
    qts.writel(APB1ENR, qts.readl(APB1ENR) | 1 << 28)
    qts.writel(PWR_CR, qts.readl(PWR_CR) | 1 << 14)
    qts.writel(PLLCFGR, 25 | 336 << 6 | 0 << 16 | 1 << 22 | 7 << 24)
    qts.writel(CR, qts.readl(CR) | PLLON)
    assert qts.readl(CR) & PLLRDY
    qts.writel(FLASH_ACR, 0x700 | 5)
    assert qts.readl(FLASH_ACR) == 0x705
    qts.writel(CFGR, 5 << 10 | 4 << 13 | 2)
    cfgr = qts.readl(CFGR)
    assert cfgr & 3 == 2 and (cfgr >> 2) & 3 == 2, hex(cfgr)   # SW = SWS = PLL
    assert (cfgr >> 10) & 7 == 5 and (cfgr >> 13) & 7 == 4      # prescalers read back
    assert hclk(qts) == 168_000_000


def test_ready_flags_follow_enables(qts):
    qts.writel(CR, qts.readl(CR) | HSEON)
    assert qts.readl(CR) & HSERDY
    qts.writel(CR, qts.readl(CR) & ~HSEON)
    assert not qts.readl(CR) & HSERDY
    qts.writel(RCC + 0x74, 1)  # LSION
    assert qts.readl(CSR) & 2
    qts.writel(BDCR, 1)        # LSEON
    assert qts.readl(BDCR) & 2


def test_switch_waits_for_source(qts):
    """SW=HSE with the HSE off: SWS stays on HSI until the HSE is ready."""
    qts.writel(CFGR, 1)
    assert (qts.readl(CFGR) >> 2) & 3 == 0
    assert hclk(qts) == 16_000_000
    qts.writel(CR, qts.readl(CR) | HSEON)
    assert (qts.readl(CFGR) >> 2) & 3 == 1
    assert hclk(qts) == 25_000_000


def test_pll_out_of_range_does_not_lock(qts):
    qts.writel(PLLCFGR, 1 | 336 << 6 | 1 << 22)   # M=1 is not allowed
    qts.writel(CR, qts.readl(CR) | HSEON | PLLON)
    assert qts.readl(CR) & PLLON and not qts.readl(CR) & PLLRDY


def test_cannot_stop_system_clock_source(qts):
    qts.writel(CR, qts.readl(CR) & ~1)             # HSION while HSI is SYSCLK
    assert qts.readl(CR) & 3 == 3
    assert "cannot stop" in qts.log()


def test_pllcfgr_locked_while_pll_on(qts):
    qts.writel(CR, qts.readl(CR) | PLLON)
    before = qts.readl(PLLCFGR)
    qts.writel(PLLCFGR, 8 | 200 << 6)
    assert qts.readl(PLLCFGR) == before
    assert "PLLCFGR written while the PLL is on" in qts.log()


def test_ahb_prescaler_divides_hclk(qts):
    qts.writel(CFGR, 0x8 << 4)                     # HPRE /2
    assert hclk(qts) == 8_000_000
    qts.writel(CFGR, 0xF << 4)                     # HPRE /512
    assert hclk(qts) == 16_000_000 // 512


def test_ready_interrupt_and_clear(qts):
    qts.irq_intercept_in()
    qts.writel(CIR, 1 << 11)                       # HSERDYIE
    assert not qts.irq_level(RCC_IRQ)
    qts.writel(CR, qts.readl(CR) | HSEON)
    assert qts.readl(CIR) & (1 << 3)               # HSERDYF
    assert qts.irq_level(RCC_IRQ)
    qts.writel(CIR, (1 << 11) | (1 << 19))         # HSERDYC (write 1 to clear)
    assert not qts.readl(CIR) & (1 << 3)
    assert not qts.readl(CIR) & (1 << 19)          # clear bits read as 0
    assert not qts.irq_level(RCC_IRQ)


def test_swS_is_read_only(qts):
    qts.writel(CFGR, 2 << 2)
    assert qts.readl(CFGR) == 0


def test_reset_flags_cleared_by_rmvf(qts):
    assert qts.readl(CSR) & 0x0E000000
    qts.writel(CSR, 1 << 24)
    assert qts.readl(CSR) & 0xFE000000 == 0


def test_flash_unlock_sequence(qts):
    assert qts.readl(FLASH_CR) & (1 << 31)
    qts.writel(FLASH_KEYR, 0x45670123)
    qts.writel(FLASH_KEYR, 0xCDEF89AB)
    assert not qts.readl(FLASH_CR) & (1 << 31)
    qts.writel(FLASH_CR, 1 << 31)                  # lock again
    assert qts.readl(FLASH_CR) & (1 << 31)


def test_flash_wrong_key_locks_until_reset(qts):
    qts.writel(FLASH_KEYR, 0x12345678)
    qts.writel(FLASH_KEYR, 0x45670123)
    qts.writel(FLASH_KEYR, 0xCDEF89AB)
    assert qts.readl(FLASH_CR) & (1 << 31)
    assert "locked until reset" in qts.log()
    qts.qmp("system_reset")
    qts.writel(FLASH_KEYR, 0x45670123)
    qts.writel(FLASH_KEYR, 0xCDEF89AB)
    assert not qts.readl(FLASH_CR) & (1 << 31)


def test_flash_latency_read_back(qts):
    for ws in range(8):
        qts.writel(FLASH_ACR, ws)
        assert qts.readl(FLASH_ACR) & 7 == ws


def test_pwr_backup_regulator_ready_follows_enable(qts):
    qts.enable_clock("pwr")
    qts.writel(PWR_CSR, 1 << 9)                    # BRE
    assert qts.readl(PWR_CSR) & (1 << 3)           # BRR
    qts.writel(PWR_CSR, 0)
    assert not qts.readl(PWR_CSR) & (1 << 3)
