"""Bus access widths on every model (RM0090): byte, half-word and word accesses where the
manual allows them, each changing only its own byte lanes, as ST's HAL relies on; word-only
blocks (CRYP, HASH, RNG, Ethernet) and registers (GPIOx_LCKR, FLASH_KEYR) refuse a narrower
access with a guest error and ignore it."""
import pytest

RCC = 0x40023800
RCC_CR, RCC_CIR, RCC_AHB1ENR = RCC + 0x00, RCC + 0x0C, RCC + 0x30
FLASH = 0x40023C00
FLASH_ACR, FLASH_KEYR, FLASH_OPTKEYR, FLASH_SR, FLASH_CR, FLASH_OPTCR = (
    FLASH + 0x00, FLASH + 0x04, FLASH + 0x08, FLASH + 0x0C, FLASH + 0x10, FLASH + 0x14)
PWR_CR = 0x40007000
GPIOD, GPIOG = 0x40020C00, 0x40021800
MODER, IDR, ODR, BSRR, LCKR, PUPDR = 0x00, 0x10, 0x14, 0x18, 0x1C, 0x0C
CRYP, HASH, RNG, ETH = 0x50060000, 0x50060400, 0x50060800, 0x40028000
RCC_IRQ = 5

HSION, HSIRDY, HSEON, HSERDY = 1 << 0, 1 << 1, 1 << 16, 1 << 17


def narrow_refused(qts, before: int) -> list[str]:
    """Guest-error lines about refused narrow accesses logged since offset before."""
    return [line for line in qts.log()[before:].splitlines()
            if "accesses only" in line]


# --- RCC: word, half-word and byte (RM0090 7.3) ---------------------------------------

def test_hal_hse_on_is_a_byte_write_to_cr_byte2(qts):
    """__HAL_RCC_HSE_CONFIG(RCC_HSE_ON) writes 0x01 to the byte at RCC_CR+2: HSE starts
    and the HSI bits in byte 0 stay as they were."""
    assert qts.readl(RCC_CR) & 0xFF == 0x83                # HSION, HSIRDY, HSITRIM=16
    qts.writeb(RCC_CR + 2, 0x01)
    cr = qts.readl(RCC_CR)
    assert cr & (HSEON | HSERDY) == HSEON | HSERDY
    assert cr & 0xFF == 0x83
    assert qts.readb(RCC_CR + 2) == 0x03                   # HSEON | HSERDY as a byte
    assert qts.readw(RCC_CR + 2) == 0x0003
    assert qts.readw(RCC_CR) == 0x0083
    assert qts.qom_get("/machine/soc/rcc", "hclk-frequency") == 16_000_000
    qts.writeb(RCC_CR + 2, 0x00)                           # HAL: HSE off the same way
    assert qts.readl(RCC_CR) & (HSEON | HSERDY) == 0
    assert qts.readl(RCC_CR) & 0xFF == 0x83


def test_hal_cir_byte_clear_keeps_interrupt_enables(qts):
    """__HAL_RCC_ENABLE_IT ORs into the byte at CIR+1, __HAL_RCC_CLEAR_IT writes the
    byte at CIR+2: clearing HSERDYF leaves the enables and the other flags alone."""
    qts.irq_intercept_in()
    qts.writeb(RCC_CIR + 1, qts.readb(RCC_CIR + 1) | 0x08 | 0x10)   # HSERDYIE, PLLRDYIE
    assert qts.readl(RCC_CIR) == 0x1800
    qts.writeb(RCC_CR + 2, 0x01)                          # HSE on: HSERDYF
    qts.writel(RCC + 0x04, 25 | 64 << 6 | 1 << 22 | 4 << 24)   # PLL from HSE, M=25 N=64
    qts.writeb(RCC_CR + 3, 0x01)                          # PLLON: PLLRDYF
    assert qts.readl(RCC_CIR) == 0x1818
    assert qts.irq_level(RCC_IRQ)
    qts.writeb(RCC_CIR + 2, 0x08)                         # clear HSERDYF only
    assert qts.readl(RCC_CIR) == 0x1810
    assert qts.readb(RCC_CIR + 1) == 0x18
    assert qts.irq_level(RCC_IRQ)                         # PLLRDYF still pending
    qts.writeb(RCC_CIR + 2, 0x10)
    assert qts.readl(RCC_CIR) == 0x1800
    assert not qts.irq_level(RCC_IRQ)


def test_rcc_enable_bits_by_byte_and_half_word(qts):
    qts.writeb(RCC_AHB1ENR + 0, 0x40)                      # GPIOGEN
    assert qts.readl(RCC_AHB1ENR) == 0x00100040            # CCMDATARAMEN kept
    qts.writew(RCC_AHB1ENR + 2, 0x0010 | 0x0200)           # CCMDATARAMEN, ETHMACEN
    assert qts.readl(RCC_AHB1ENR) == 0x02100040
    assert qts.readw(RCC_AHB1ENR + 2) == 0x0210
    assert qts.readb(RCC_AHB1ENR + 3) == 0x02


# --- Flash interface: word, half-word and byte; KEYR/OPTKEYR word only (RM0090 3.9) ----

def test_hal_latency_byte_write_keeps_the_caches(qts):
    """__HAL_FLASH_SET_LATENCY writes the byte at FLASH_ACR: ICEN/DCEN/PRFTEN stay."""
    qts.writel(FLASH_ACR, (1 << 8) | (1 << 9) | (1 << 10))     # PRFTEN, ICEN, DCEN
    qts.writeb(FLASH_ACR, 5)
    assert qts.readl(FLASH_ACR) == 0x705
    assert qts.readb(FLASH_ACR) == 5
    assert qts.readb(FLASH_ACR + 1) == 0x07
    qts.writeb(FLASH_ACR + 1, 0x01)                            # PRFTEN only
    assert qts.readl(FLASH_ACR) == 0x105


def test_flash_keys_take_words_only(qts):
    log = len(qts.log())
    qts.writeb(FLASH_KEYR, 0x23)                               # a byte of KEY1: refused
    qts.writew(FLASH_KEYR, 0x0123)
    assert len(narrow_refused(qts, log)) == 2
    assert qts.readl(FLASH_CR) & (1 << 31)                     # still locked
    qts.writel(FLASH_KEYR, 0x45670123)
    qts.writel(FLASH_KEYR, 0xCDEF89AB)
    assert qts.readl(FLASH_CR) == 0                            # unlocked: not blocked


def test_flash_sr_byte_clear_acts_on_its_lane_only(qts):
    qts.writel(FLASH_KEYR, 0x45670123)
    qts.writel(FLASH_KEYR, 0xCDEF89AB)
    qts.writel(FLASH_CR, (1 << 1) | (1 << 16))                 # SER, STRT: EOP
    assert qts.readl(FLASH_SR) & 1
    qts.writeb(FLASH_SR + 1, 0xFF)                             # lane 1 holds no flags
    qts.writew(FLASH_SR + 2, 0xFFFF)
    assert qts.readl(FLASH_SR) & 1
    qts.writeb(FLASH_SR, 0x01)                                 # EOP, write-1-to-clear
    assert qts.readl(FLASH_SR) & 1 == 0
    qts.writeb(FLASH_CR + 3, 0x80)                             # HAL_FLASH_Lock, byte 3
    assert qts.readl(FLASH_CR) == 0x80000002


def test_flash_optcr_byte_writes_as_hal_ob_program(qts):
    """HAL_FLASHEx_OBProgram writes RDP and the BOR/user bits through OPTCR's bytes."""
    qts.writel(FLASH_OPTKEYR, 0x08192A3B)
    qts.writel(FLASH_OPTKEYR, 0x4C5D6E7F)
    assert qts.readl(FLASH_OPTCR) == 0x0FFFAAEC               # OPTLOCK clear
    qts.writeb(FLASH_OPTCR + 1, 0xBB)                          # RDP byte
    assert qts.readl(FLASH_OPTCR) == 0x0FFFBBEC
    qts.writeb(FLASH_OPTCR, qts.readb(FLASH_OPTCR) | 0x01)     # OPTLOCK by a byte RMW
    assert qts.readl(FLASH_OPTCR) == 0x0FFFBBED


# --- PWR: half-word and word (RM0090 5.4) ---------------------------------------------

def test_pwr_half_words_and_refused_bytes(qts):
    qts.enable_clock("pwr")
    qts.writew(PWR_CR, 0x4100)                                 # VOS, DBP
    assert qts.readl(PWR_CR) == 0x4100
    qts.writew(PWR_CR + 2, 0xFFFF)                             # reserved half
    assert qts.readl(PWR_CR) == 0x4100
    assert qts.readw(PWR_CR) == 0x4100
    log = len(qts.log())
    qts.writeb(PWR_CR, 0x00)
    assert qts.readb(PWR_CR + 1) == 0                          # refused read: 0
    assert qts.readl(PWR_CR) == 0x4100
    assert len(narrow_refused(qts, log)) == 2


# --- GPIO: word, half-word and byte; LCKR word only (RM0090 8.4) ----------------------

def test_bsrrl_bsrrh_half_words_drive_led1(qts):
    """Older HAL/StdPeriph write BSRRL (0x18) to set and BSRRH (0x1A) to reset pins as
    half-words: PG6 (LED1) lights and goes dark again."""
    qts.enable_clock("gpiog")
    qts.writel(GPIOG + MODER, 1 << 12)                         # PG6 output
    qts.writew(GPIOG + BSRR, 1 << 6)                           # BSRRL
    assert qts.readl(GPIOG + ODR) == 1 << 6
    assert qts.qom_get("/machine", "led1") is True
    qts.writew(GPIOG + BSRR + 2, 1 << 6)                       # BSRRH: GPIO_ResetBits
    assert qts.readl(GPIOG + ODR) == 0
    assert qts.qom_get("/machine", "led1") is False


def test_bsrr_byte_lanes_set_and_reset_their_pins_only(qts):
    qts.enable_clock("gpiod")
    qts.writel(GPIOD + ODR, 0x0000)
    qts.writeb(GPIOD + BSRR + 1, 0x81)                         # set PD8, PD15
    assert qts.readl(GPIOD + ODR) == 0x8100
    qts.writeb(GPIOD + BSRR, 0x11)                             # set PD0, PD4
    assert qts.readl(GPIOD + ODR) == 0x8111
    qts.writeb(GPIOD + BSRR + 2, 0xFF)                         # reset PD0..PD7 only
    assert qts.readl(GPIOD + ODR) == 0x8100
    qts.writeb(GPIOD + BSRR + 3, 0x80)                         # reset PD15 only
    assert qts.readl(GPIOD + ODR) == 0x0100
    # BSRR is write-only at every width
    assert qts.readl(GPIOD + BSRR) == 0
    assert qts.readw(GPIOD + BSRR + 2) == 0
    assert qts.readb(GPIOD + BSRR + 1) == 0


def test_gpio_configuration_bytes_and_idr_bytes(qts):
    qts.enable_clock("gpiod")
    qts.writel(GPIOD + MODER, 0x55555555)
    qts.writeb(GPIOD + MODER + 1, 0x00)                        # PD4..PD7 back to input
    assert qts.readl(GPIOD + MODER) == 0x55550055
    qts.writew(GPIOD + ODR, 0xA5F0)
    qts.writew(GPIOD + ODR + 2, 0xFFFF)                        # reserved half: nothing
    assert qts.readl(GPIOD + ODR) == 0xA5F0
    qts.writeb(GPIOD + PUPDR + 1, 0x55)                        # PD4..PD7 pull-up
    assert qts.readl(GPIOD + IDR) == 0xA5F0                    # outputs, pulled inputs
    assert qts.readb(GPIOD + IDR + 1) == 0xA5
    assert qts.readw(GPIOD + IDR) == 0xA5F0
    assert qts.readb(GPIOD + ODR) == 0xF0


def test_lckr_takes_words_only(qts):
    qts.enable_clock("gpiod")
    log = len(qts.log())
    for value in (0x0001, 0x0000, 0x0001):                     # key sequence as bytes
        qts.writeb(GPIOD + LCKR + 2, value)
    assert qts.readl(GPIOD + LCKR) == 0
    assert qts.readb(GPIOD + LCKR + 2) == 0
    assert len(narrow_refused(qts, log)) == 4
    for value in (0x10001, 0x00001, 0x10001):                  # the same sequence as words
        qts.writel(GPIOD + LCKR, value)
    assert qts.readl(GPIOD + LCKR) == 0x10001


# --- Word-only blocks: CRYP, HASH, RNG, Ethernet ----------------------------------------

WORD_ONLY = {
    # block: (register to write, its reset value, a value to write by word)
    "cryp": (CRYP + 0x14, 0x0, 0x3),          # IMSCR
    "hash": (HASH + 0x20, 0x0, 0x3),          # IMR
    "rng": (RNG + 0x00, 0x0, 0x8),            # CR: IE
    "eth": (ETH + 0x08, 0x0, 0x12345678),     # MACHTHR
}


@pytest.mark.parametrize("block", WORD_ONLY)
def test_word_only_block_refuses_bytes_and_half_words(qts, block):
    addr, reset, value = WORD_ONLY[block]
    qts.enable_clock(block)
    log = len(qts.log())
    qts.writeb(addr, value)
    qts.writew(addr, value)
    assert qts.readl(addr) == reset
    qts.writel(addr, value)
    assert qts.readl(addr) == value
    assert qts.readb(addr) == 0 and qts.readw(addr) == 0
    assert len(narrow_refused(qts, log)) == 4


def test_rng_byte_read_of_dr_consumes_nothing(qts):
    qts.enable_clock("rng")
    qts.writel(RNG, 0x4)                                       # RNGEN
    qts.wait_until(lambda: qts.readl(RNG + 4) & 1, step_ns=1000)
    assert qts.readb(RNG + 8) == 0 and qts.readw(RNG + 10) == 0
    assert qts.readl(RNG + 4) & 1                              # DRDY still set
    assert qts.qom_get("/machine/soc/rng", "words") == 0
    qts.readl(RNG + 8)
    assert qts.qom_get("/machine/soc/rng", "words") == 1


def test_hash_byte_write_to_cr_does_not_start_a_digest(qts):
    qts.enable_clock("hash")
    qts.writel(HASH + 0x00, 0x84)                              # INIT, MD5
    qts.writeb(HASH + 0x00, 0x04)                              # INIT, SHA-1: refused
    assert qts.readl(HASH + 0x00) & 0x80                       # still MD5
