"""RCC peripheral reset and clock-enable bits act on the blocks (RM0090 7.3.5..7.3.14):
a block whose clock is off does not respond (reads 0, writes ignored, a guest error), a
reset bit resets the block and holds it while set. ST's HAL relies on both: it pulses
RCC_AHB2RSTR.HASHRST before each hash and then ORs the algorithm into HASH_CR."""
import hashlib

import pytest

from lab_qtest import RCC_BASE, RCC_CLOCKS, QTest

F417, F439 = "stm324xg-eval", "stm324x9i-eval"

# block: (register, its reset value, a value to write, what reads back)
BLOCKS = {
    **{f"gpio{c}": (0x40020000 + 0x400 * i + 0x00, 0xA8000000 if c == "a" else
                    0x00000280 if c == "b" else 0, 0x55555555, 0x55555555)
       for i, c in enumerate("abcdefghi")},
    "eth": (0x40028008, 0, 0x12345678, 0x12345678),          # MACHTHR
    "cryp": (0x50060014, 0, 0x3, 0x3),                       # IMSCR
    "hash": (0x50060420, 0, 0x3, 0x3),                       # IMR
    "rng": (0x50060800, 0, 0x8, 0x8),                        # CR: IE
    "tim2": (0x40000028, 0, 0x1234, 0x1234),                 # PSC
    "tim3": (0x40000428, 0, 0x1234, 0x1234),
    "tim4": (0x40000828, 0, 0x1234, 0x1234),
    "tim5": (0x40000C28, 0, 0x1234, 0x1234),
    "usart2": (0x40004408, 0, 0x2D9, 0x2D9),                 # BRR
    "usart3": (0x40004808, 0, 0x2D9, 0x2D9),
    "usart1": (0x40011008, 0, 0x2D9, 0x2D9),
    "usart6": (0x40011408, 0, 0x2D9, 0x2D9),
    "pwr": (0x40007000, 0x4000, 0x4100, 0x4100),             # CR: VOS, DBP
    "syscfg": (0x40013808, 0, 0x1234, 0x1234),               # EXTICR1
}


def refused(q: QTest, since: int, what: str) -> list[str]:
    return [line for line in q.log()[since:].splitlines() if what in line]


@pytest.mark.parametrize("block", BLOCKS)
def test_clock_off_block_does_not_respond(qts, block):
    addr, reset, value, back = BLOCKS[block]
    log = len(qts.log())
    qts.writel(addr, value)
    assert qts.readl(addr) == 0                               # clock off: reads 0
    assert len(refused(qts, log, f"{block} clock is off")) == 2
    qts.enable_clock(block)
    assert qts.readl(addr) == reset                           # the write was ignored
    qts.writel(addr, value)
    assert qts.readl(addr) == back
    qts.disable_clock(block)
    assert qts.readl(addr) == 0
    qts.enable_clock(block)
    assert qts.readl(addr) == back                            # gating keeps the state


@pytest.mark.parametrize("block", BLOCKS)
def test_reset_bit_resets_and_holds_the_block(qts, block):
    addr, reset, value, back = BLOCKS[block]
    enr, bit = RCC_CLOCKS[block]
    rstr = RCC_BASE + enr - 0x20
    qts.enable_clock(block)
    qts.writel(addr, value)
    assert qts.readl(addr) == back
    qts.writel(rstr, qts.readl(rstr) | 1 << bit)             # __HAL_RCC_x_FORCE_RESET
    log = len(qts.log())
    assert qts.readl(addr) == 0                               # held: no answer
    qts.writel(addr, value)
    assert len(refused(qts, log, f"{block} is held in reset")) == 2
    qts.writel(rstr, qts.readl(rstr) & ~(1 << bit))          # __HAL_RCC_x_RELEASE_RESET
    assert qts.readl(addr) == reset                           # out of reset at reset value


def test_other_blocks_are_not_reset(qts):
    qts.enable_clock("gpiod", "gpioe")
    qts.writel(0x40020C00, 0x1111)
    qts.writel(0x40021000, 0x2222)
    qts.reset_block("gpiod")
    assert qts.readl(0x40020C00) == 0
    assert qts.readl(0x40021000) == 0x2222


def test_hal_hash_reset_pulse_between_algorithms(qts):
    """HAL_HASH_DeInit/Init pulse HASHRST, then HASH_Start ORs ALGO and INIT into CR:
    MD5 first, a reset pulse, then SHA-1 (ALGO=0 ORed in) must compute SHA-1."""
    HASH = 0x50060400
    CR, DIN, STR, HR = HASH, HASH + 4, HASH + 8, HASH + 0x0C
    message = b"abc"
    word = int.from_bytes(message.ljust(4, b"\0"), "little")

    def run(algo_bits: int, n: int) -> bytes:
        qts.writel(CR, qts.readl(CR) | algo_bits | 1 << 2 | 2 << 4)   # |= ALGO, INIT, 8-bit
        qts.writel(STR, 8 * len(message))
        qts.writel(DIN, word)
        qts.writel(STR, 8 * len(message) | 1 << 8)                   # DCAL
        qts.wait_until(lambda: qts.readl(HASH + 0x24) & 2, step_ns=1000)   # DCIS
        return b"".join(qts.readl(HR + 4 * i).to_bytes(4, "big") for i in range(n))

    qts.enable_clock("hash")
    assert run(1 << 7, 4) == hashlib.md5(message).digest()
    qts.reset_block("hash")                                   # HAL_HASH_MspDeInit
    assert qts.readl(CR) == 0
    assert run(0, 5) == hashlib.sha1(message).digest()
    # Without the pulse the MD5 bit stays and "SHA-1" is MD5: what the reset is for
    assert run(1 << 7, 4) == hashlib.md5(message).digest()
    assert run(0, 4) == hashlib.md5(message).digest()


def test_ethmacrst_resets_the_mac_not_the_phy(qts):
    """The DP83848 is its own chip: ETHMACRST resets MAC and DMA, the PHY keeps ANAR."""
    MACMIIAR, MACMIIDR, MACHTHR = 0x40028010, 0x40028014, 0x40028008
    qts.enable_clock("eth")

    def mdio(reg, write=None):
        if write is not None:
            qts.writel(MACMIIDR, write)
        qts.writel(MACMIIAR, 1 << 11 | reg << 6 | (2 if write is not None else 0) | 1)
        qts.wait_until(lambda: not qts.readl(MACMIIAR) & 1, step_ns=1000)
        return qts.readl(MACMIIDR)

    mdio(4, write=0x0061)                                     # ANAR: 10 Mb/s only
    qts.writel(MACHTHR, 0xFFFF)
    qts.reset_block("eth")
    assert qts.readl(MACHTHR) == 0
    assert mdio(4) == 0x0061


@pytest.mark.parametrize("machine,jk", [(F417, False), (F439, True)])
def test_gpiojk_bits_only_on_the_f439(qemu, machine, jk):
    with QTest(qemu, machine=machine) as q:
        q.writel(RCC_BASE + 0x30, 0x00100600)
        assert q.readl(RCC_BASE + 0x30) == (0x00100600 if jk else 0x00100000)
        if jk:
            q.writel(0x40022400, 0x5)                         # GPIOJ_MODER, clock on
            assert q.readl(0x40022400) == 0x5
            q.reset_block("gpioj")
            assert q.readl(0x40022400) == 0


def test_system_reset_with_a_block_held_in_reset(qts):
    qts.enable_clock("gpiod")
    qts.writel(RCC_BASE + 0x10, 1 << 3)                       # GPIODRST held
    qts.qmp("system_reset")
    assert qts.readl(RCC_BASE + 0x10) == 0
    assert qts.readl(0x40020C00) == 0                         # clock off again
    qts.enable_clock("gpiod")
    qts.writel(0x40020C00, 0x4)
    assert qts.readl(0x40020C00) == 0x4
