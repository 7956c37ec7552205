"""GPIO ports A..I (RM0090 section 8.4) and the board's LEDs seen from the host."""
import pytest

GPIO_BASE = 0x40020000
MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH = (
    0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24)

LEDS = {"led1": ("G", 6), "led2": ("G", 8), "led3": ("I", 9), "led4": ("C", 7)}


def port(letter):
    return GPIO_BASE + 0x400 * (ord(letter) - ord("A"))


@pytest.fixture
def qts(qts):
    """The board with the clocks of GPIOA..GPIOI and SYSCFG on, as firmware sets them."""
    qts.enable_clock(*(f"gpio{c}" for c in "abcdefghi"), "syscfg")
    return qts


@pytest.mark.parametrize("letter,moder,ospeedr,pupdr", [
    ("A", 0xA8000000, 0x00000000, 0x64000000),
    ("B", 0x00000280, 0x000000C0, 0x00000100),
    ("C", 0, 0, 0), ("D", 0, 0, 0), ("E", 0, 0, 0), ("F", 0, 0, 0),
    ("G", 0, 0, 0), ("H", 0, 0, 0), ("I", 0, 0, 0),
])
def test_reset_values(qts, letter, moder, ospeedr, pupdr):
    base = port(letter)
    assert qts.readl(base + MODER) == moder
    assert qts.readl(base + OSPEEDR) == ospeedr
    assert qts.readl(base + PUPDR) == pupdr
    for off in (OTYPER, ODR, LCKR, AFRL, AFRH):
        assert qts.readl(base + off) == 0


def test_bsrr_sets_and_resets_odr(qts):
    base = port("D")
    qts.writel(base + BSRR, 0x00FF)
    assert qts.readl(base + ODR) == 0x00FF
    qts.writel(base + BSRR, 0x000F << 16)
    assert qts.readl(base + ODR) == 0x00F0
    qts.writel(base + BSRR, (1 << 4) | (1 << (4 + 16)))   # set wins over reset
    assert qts.readl(base + ODR) & (1 << 4)
    assert qts.readl(base + BSRR) == 0                     # write-only


def test_idr_follows_output_and_pulls(qts):
    base = port("E")
    qts.writel(base + PUPDR, 1 << (3 * 2))                 # PE3 pull-up
    assert qts.readl(base + IDR) == 1 << 3
    qts.writel(base + MODER, 1 << (5 * 2))                 # PE5 output
    qts.writel(base + ODR, 1 << 5)
    assert qts.readl(base + IDR) == (1 << 3) | (1 << 5)
    qts.writel(base + OTYPER, 1 << 5)                      # open drain, ODR=1: floats
    assert qts.readl(base + IDR) == 1 << 3
    qts.writel(base + IDR, 0xFFFF)
    assert "IDR is read-only" in qts.log()


@pytest.mark.parametrize("led", LEDS)
def test_led_visible_over_qmp(qts, led):
    letter, pin = LEDS[led]
    base = port(letter)
    assert qts.qom_get("/machine", led) is False
    qts.writel(base + MODER, 1 << (pin * 2))
    qts.writel(base + BSRR, 1 << pin)
    assert qts.qom_get("/machine", led) is True
    assert all(qts.qom_get("/machine", other) is False for other in LEDS if other != led)
    qts.writel(base + BSRR, 1 << (pin + 16))
    assert qts.qom_get("/machine", led) is False


def test_led_off_while_pin_is_input(qts):
    base = port("C")
    qts.writel(base + ODR, 1 << 7)
    assert qts.qom_get("/machine", "led4") is False
    qts.writel(base + MODER, 1 << 14)
    assert qts.qom_get("/machine", "led4") is True


def test_odr_idr_properties(qts):
    base = port("G")
    qts.writel(base + ODR, 0x1234)
    assert qts.qom_get("/machine/soc/gpiog", "odr") == 0x1234


def test_lock_sequence_freezes_configuration(qts):
    base = port("F")
    qts.writel(base + MODER, 0x5)                          # PF0, PF1 outputs
    key = 0x0003
    qts.writel(base + LCKR, (1 << 16) | key)
    qts.writel(base + LCKR, key)
    qts.writel(base + LCKR, (1 << 16) | key)
    assert qts.readl(base + LCKR) == (1 << 16) | key
    qts.writel(base + MODER, 0xF0)                         # PF0/1 locked, PF2/3 free
    assert qts.readl(base + MODER) == 0xF5
    assert "locked by LCKR" in qts.log()
    qts.writel(base + LCKR, 0)                             # cannot unlock
    assert qts.readl(base + LCKR) == (1 << 16) | key
    qts.writel(base + ODR, 0)                              # data is never locked
    assert qts.readl(base + ODR) == 0


def test_wrong_lock_sequence_does_not_lock(qts):
    base = port("H")
    qts.writel(base + LCKR, (1 << 16) | 1)
    qts.writel(base + LCKR, (1 << 16) | 1)                 # LCKK should have been 0
    qts.writel(base + LCKR, (1 << 16) | 1)
    assert not qts.readl(base + LCKR) & (1 << 16)
    qts.writel(base + MODER, 1)
    assert qts.readl(base + MODER) == 1


SYSCFG_EXTICR1 = 0x40013808
EXTI_IMR, EXTI_RTSR, EXTI_FTSR, EXTI_PR = 0x40013C00, 0x40013C08, 0x40013C0C, 0x40013C14
EXTI3_IRQ = 9


@pytest.mark.parametrize("letter", ["A", "E", "I"])
def test_pin_edge_reaches_exti_through_syscfg(qts, letter):
    """EXTICR1 selects the port for line 3; a rising edge on P<letter>3 driven by the board
    sets EXTI PR3 and raises EXTI3 (NVIC 9); another port's pin 3 does not. (QEMU's EXTI
    model pulses the NVIC line, which latches it pending, so the raise is what counts.)"""
    qts.irq_intercept_in()
    port_index = ord(letter) - ord("A")
    qts.writel(SYSCFG_EXTICR1, port_index << 12)
    qts.writel(EXTI_IMR, 1 << 3)
    qts.writel(EXTI_RTSR, 1 << 3)
    other = "/machine/soc/gpio" + ("b" if letter != "B" else "c")
    qts.set_irq_in(other, 3, 1)
    assert not qts.readl(EXTI_PR) & (1 << 3)
    assert (EXTI3_IRQ, True) not in qts.irq_events
    path = "/machine/soc/gpio" + letter.lower()
    qts.set_irq_in(path, 3, 0)
    qts.set_irq_in(path, 3, 1)
    assert qts.readl(port(letter) + IDR) & (1 << 3)
    assert qts.readl(EXTI_PR) & (1 << 3)
    assert (EXTI3_IRQ, True) in qts.irq_events
    qts.writel(EXTI_PR, 1 << 3)                           # write 1 to clear
    assert not qts.readl(EXTI_PR) & (1 << 3)
