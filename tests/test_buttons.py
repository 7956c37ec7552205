"""The boards' push-buttons (ST's BSP stm324xg_eval.h / stm324x9i_eval.h), pressed from the
host with the machine's QOM properties button-wakeup, button-tamper, button-user: a press
drives the pin to its active level, IDR reads it and the EXTI line fires through SYSCFG."""
import pytest

from lab_qtest import QTest

F417, F439 = "stm324xg-eval", "stm324x9i-eval"
GPIO_BASE = 0x40020000
IDR = 0x10
SYSCFG_EXTICR = 0x40013808                    # EXTICR1..4 at +0, +4, +8, +0xC
EXTI_IMR, EXTI_RTSR, EXTI_FTSR, EXTI_PR = 0x40013C00, 0x40013C08, 0x40013C0C, 0x40013C14
EXTI0_IRQ, EXTI15_10_IRQ = 6, 40

# machine: {button: (port, pin, active high)}
BUTTONS = {
    F417: {"wakeup": ("A", 0, True), "tamper": ("C", 13, False), "user": ("G", 15, False)},
    F439: {"wakeup": ("A", 0, True), "tamper": ("C", 13, False), "user": ("C", 13, False)},
}
CASES = [(m, b) for m in BUTTONS for b in BUTTONS[m]]


def pin_level(q: QTest, port: str, pin: int) -> bool:
    return bool(q.readl(GPIO_BASE + 0x400 * (ord(port) - ord("A")) + IDR) >> pin & 1)


def route_exti(q: QTest, port: str, pin: int, rising: bool) -> None:
    """What BSP_PB_Init(BUTTON_MODE_EXTI) sets up: SYSCFG EXTICR, IMR, the edge."""
    reg = SYSCFG_EXTICR + 4 * (pin // 4)
    shift = 4 * (pin % 4)
    q.writel(reg, q.readl(reg) & ~(0xF << shift) | (ord(port) - ord("A")) << shift)
    q.writel(EXTI_IMR, q.readl(EXTI_IMR) | 1 << pin)
    edge = EXTI_RTSR if rising else EXTI_FTSR
    q.writel(edge, q.readl(edge) | 1 << pin)


@pytest.fixture
def board(qemu, request):
    with QTest(qemu, machine=request.param) as q:
        q.enable_clock("gpioa", "gpioc", "gpiog", "syscfg")
        yield request.param, q
        assert q.alive(), q.stderr()


@pytest.mark.parametrize("board,button", CASES, indirect=["board"],
                         ids=[f"{m}-{b}" for m, b in CASES])
def test_press_and_release_drive_the_pin(board, button):
    machine, q = board
    port, pin, active_high = BUTTONS[machine][button]
    prop = f"button-{button}"
    assert q.qom_get("/machine", prop) is False
    assert pin_level(q, port, pin) is not active_high          # the pull resistor
    q.qom_set("/machine", prop, True)
    assert q.qom_get("/machine", prop) is True
    assert pin_level(q, port, pin) is active_high
    q.qom_set("/machine", prop, False)
    assert pin_level(q, port, pin) is not active_high


@pytest.mark.parametrize("board,button", CASES, indirect=["board"],
                         ids=[f"{m}-{b}" for m, b in CASES])
def test_press_fires_the_exti_line(board, button):
    """BSP_PB_Init in EXTI mode: rising edge for Wakeup, falling for the others."""
    machine, q = board
    port, pin, active_high = BUTTONS[machine][button]
    irq = EXTI0_IRQ if pin == 0 else EXTI15_10_IRQ
    q.irq_intercept_in()
    route_exti(q, port, pin, rising=active_high)
    q.qom_set("/machine", f"button-{button}", True)
    assert q.readl(EXTI_PR) & 1 << pin
    assert (irq, True) in q.irq_events
    q.writel(EXTI_PR, 1 << pin)                                 # the handler clears it
    q.qom_set("/machine", f"button-{button}", False)
    assert not q.readl(EXTI_PR) & 1 << pin                      # release: other edge


@pytest.mark.parametrize("board", [F417], indirect=True)
def test_another_port_on_the_exti_line_does_not_fire(board):
    """EXTI line 15 routed to port C: the User button on PG15 is not seen."""
    _, q = board
    route_exti(q, "C", 15, rising=False)
    q.qom_set("/machine", "button-user", True)
    assert not q.readl(EXTI_PR) & 1 << 15
    assert pin_level(q, "G", 15) is False


@pytest.mark.parametrize("board", [F439], indirect=True)
def test_tamper_and_key_are_one_button_on_the_f439(board):
    _, q = board
    q.qom_set("/machine", "button-user", True)
    q.qom_set("/machine", "button-tamper", True)
    q.qom_set("/machine", "button-user", False)
    assert pin_level(q, "C", 13) is False                       # tamper still held
    q.qom_set("/machine", "button-tamper", False)
    assert pin_level(q, "C", 13) is True


def test_button_held_from_the_command_line(qemu):
    """-M stm324xg-eval,button-user=on: the board starts with the button held."""
    with QTest(qemu, machine=f"{F417},button-user=on") as q:
        q.enable_clock("gpiog")
        assert q.qom_get("/machine", "button-user") is True
        assert pin_level(q, "G", 15) is False


def test_pin_keeps_its_level_across_a_gpio_reset(qemu):
    """RCC GPIOGRST resets the port, not the board: a held button still reads pressed."""
    with QTest(qemu) as q:
        q.enable_clock("gpiog")
        q.qom_set("/machine", "button-user", True)
        q.reset_block("gpiog")
        assert pin_level(q, "G", 15) is False
