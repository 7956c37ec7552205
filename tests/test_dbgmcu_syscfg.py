"""DBGMCU (RM0090 38.6.1, 38.16): IDCODE with the device and revision IDs that
HAL_GetDEVID/HAL_GetREVID read, CR and the freeze registers stored, word access only.
SYSCFG_PMC keeps MII_RMII_SEL, which HAL_ETH_Init writes (RM0090 9.2.2)."""
import pytest

from lab_qtest import QTest

DBGMCU = 0xE0042000
IDCODE, CR, APB1_FZ, APB2_FZ = DBGMCU, DBGMCU + 4, DBGMCU + 8, DBGMCU + 0xC
SYSCFG_PMC = 0x40013804


@pytest.mark.parametrize("machine,dev_id,rev_id", [
    ("stm324xg-eval", 0x413, 0x1007),      # STM32F405/407/415/417, revision 2
    ("stm324x9i-eval", 0x419, 0x2001),     # STM32F42x/43x, revision 3
])
def test_idcode(qemu, machine, dev_id, rev_id):
    with QTest(qemu, machine=machine) as q:
        idcode = q.readl(IDCODE)
        assert idcode & 0xFFF == dev_id                    # HAL_GetDEVID
        assert idcode >> 16 == rev_id                      # HAL_GetREVID
        q.writel(IDCODE, 0)
        assert q.readl(IDCODE) == idcode
        assert "IDCODE is read-only" in q.log()


def test_idcode_revision_is_a_property(qemu):
    with QTest(qemu, args=["-global", "stm32f4xx-dbgmcu.rev-id=0x1001"]) as q:
        assert q.readl(IDCODE) == 0x10010413               # revision Z


def test_control_and_freeze_registers_are_stored(qts):
    qts.writel(CR, 0x27)                                   # DBG_SLEEP/STOP/STANDBY, TRACE_IOEN
    qts.writel(APB1_FZ, 0xFFFFFFFF)
    qts.writel(APB2_FZ, 0xFFFFFFFF)
    assert qts.readl(CR) == 0x27
    assert qts.readl(APB1_FZ) == 0x06E01DFF
    assert qts.readl(APB2_FZ) == 0x00070003
    assert "reserved bits" in qts.log()
    qts.qmp("system_reset")
    assert qts.readl(CR) == 0 and qts.readl(APB1_FZ) == 0


def test_dbgmcu_takes_words_only(qts):
    qts.writel(CR, 0x7)
    assert qts.readb(IDCODE) == 0
    qts.writeb(CR, 0)
    assert qts.readl(CR) == 0x7
    assert "takes word accesses only" in qts.log()


def test_syscfg_pmc_keeps_mii_rmii_sel(qts):
    """HAL_ETH_Init: SYSCFG->PMC &= ~MII_RMII_SEL; SYSCFG->PMC |= MediaInterface."""
    qts.enable_clock("syscfg")
    assert qts.readl(SYSCFG_PMC) == 0                      # MII after reset
    qts.writel(SYSCFG_PMC, qts.readl(SYSCFG_PMC) | 1 << 23)   # RMII
    assert qts.readl(SYSCFG_PMC) == 1 << 23
    qts.writel(SYSCFG_PMC, qts.readl(SYSCFG_PMC) & ~(1 << 23))
    assert qts.readl(SYSCFG_PMC) == 0
    qts.writel(SYSCFG_PMC, 0xFFFFFFFF)
    assert qts.readl(SYSCFG_PMC) == 1 << 23
    assert "PMC bits 0xff7fffff are not modelled" in qts.log()
