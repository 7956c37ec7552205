"""Bare-metal programs that drive the board register by register as ST's STM32CubeF4 HAL,
StdPeriph and libopencm3 do (tests/baremetal/hal_*.c, ocm3_*.c: same access widths, same
order, same reliance on resets and flags), run on the emulated CPU and checked against the
host (hashlib, hmac) and the board's QMP view (LEDs, buttons, RNG faults)."""
import hashlib
import hmac
import re

import pytest

from lab_qtest import Guest

MESSAGE = b"The quick brown fox jumps over the lazy dog"
HMAC_KEY = b"key"


def values(out: str) -> dict[str, str]:
    """'key value' lines of a program's report."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            found[parts[0]] = parts[1]
    return found


def hexv(report: dict[str, str], key: str) -> int:
    return int(report[key], 16)


def guest_error_lines(g: Guest) -> list[str]:
    return [line for line in g.log().splitlines() if line.strip()]


# --- HAL_RCC_OscConfig / HAL_RCC_ClockConfig, then HAL_HASH around HASHRST -------------

@pytest.fixture(scope="module")
def hal_clock_hash(qemu, baremetal):
    with Guest(qemu, baremetal / "hal_clock_hash.elf") as g:
        out = g.read_until("DONE", timeout=60)
        hclk = g.qom_get("/machine/soc/rcc", "hclk-frequency")
        yield values(out), out, hclk, guest_error_lines(g)


def test_hal_bringup_reaches_168mhz_from_hse(hal_clock_hash):
    report, out, hclk, _ = hal_clock_hash
    assert "FAIL" not in out, out
    assert report["sysclk"] == "168000000" and hclk == 168_000_000
    assert report["pclk1"] == "42000000" and report["pclk2"] == "84000000"
    cr = hexv(report, "rcc_cr")
    assert cr & 0x03030003 == 0x03030003, hex(cr)          # HSI, HSE, PLL on and ready
    assert cr & 0xFF == 0x83                                 # HSITRIM untouched by the byte
    assert hexv(report, "rcc_cfgr") == 0x0000940A            # SW=SWS=PLL, APB1 /4, APB2 /2
    assert hexv(report, "rcc_pllcfgr") & 0x0F437FFF == 0x07405419   # M 25 N 336 P 2 Q 7 HSE
    assert hexv(report, "pwr_cr") == 0x4000                  # VOS scale 1


def test_hal_latency_byte_write_keeps_the_caches(hal_clock_hash):
    """HAL_Init sets ICEN, DCEN, PRFTEN; __HAL_FLASH_SET_LATENCY(5) is a byte write."""
    report = hal_clock_hash[0]
    assert hexv(report, "flash_acr") == 0x705


def test_hal_ready_interrupt_flags_cleared_by_bytes(hal_clock_hash):
    """__HAL_RCC_ENABLE_IT ORs into CIR byte 1, __HAL_RCC_CLEAR_IT writes CIR byte 2."""
    report = hal_clock_hash[0]
    assert hexv(report, "cir") == 0x1818                      # HSERDY, PLLRDY: flag + enable
    assert hexv(report, "cir_hse_cleared") == 0x1810
    assert hexv(report, "cir_pll_cleared") == 0x1800          # enables kept


def test_hal_getrevid_getdevid(hal_clock_hash):
    idcode = hexv(hal_clock_hash[0], "idcode")
    assert idcode & 0xFFF == 0x413 and idcode >> 16 == 0x1007


def test_hal_hash_digests_around_reset_pulses(hal_clock_hash):
    """MD5, then SHA-1 and HMAC-SHA-1 after HASHRST pulses, the algorithm ORed into CR."""
    report = hal_clock_hash[0]
    assert report["md5"] == hashlib.md5(MESSAGE).hexdigest()
    assert hexv(report, "hash_cr_md5") & 0x80                 # ALGO = MD5 before the pulse
    assert hexv(report, "hash_cr_after_reset") == 0x20        # reset, then DATATYPE 8-bit
    assert report["sha1"] == hashlib.sha1(MESSAGE).hexdigest()
    assert report["hmac_sha1"] == hmac.new(HMAC_KEY, MESSAGE, "sha1").hexdigest()
    assert hexv(report, "hash_clock_off_cr") == 0
    assert report["failures"] == "0"


def test_hal_program_makes_no_guest_error_but_the_one_it_asks_for(hal_clock_hash):
    errors = hal_clock_hash[3]
    assert len(errors) == 1 and "hash clock is off" in errors[0], errors


# --- HAL_GPIO_WritePin in both generations, StdPeriph, buttons by EXTI -----------------

GPIO_STEPS = [
    # step, LEDs lit (1..4: PG6, PG8, PI9, PC7), ODR of ports G, I, C
    ("init", set(), (0x0000, 0x0000, 0x0000)),
    ("hal_bsrr_set", {1, 3}, (0x0040, 0x0200, 0x0000)),
    ("hal_bsrr_reset", {3}, (0x0000, 0x0200, 0x0000)),
    ("hal_bsrrl_set", {2, 3, 4}, (0x0100, 0x0200, 0x0080)),
    ("hal_bsrrh_reset", {3, 4}, (0x0000, 0x0200, 0x0080)),
    ("spl_set_bits", {1, 2, 3, 4}, (0x0140, 0x0200, 0x0080)),
    ("spl_reset_bits", set(), (0x0000, 0x0000, 0x0000)),
    ("hal_toggle", {4}, (0x0000, 0x0000, 0x0080)),
    ("spl_toggle", set(), (0x0000, 0x0000, 0x0000)),
]


def test_gpio_write_pin_generations_and_buttons(qemu, baremetal):
    with Guest(qemu, baremetal / "hal_gpio.elf") as g:
        for name, lit, (odr_g, odr_i, odr_c) in GPIO_STEPS:
            line = g.read_until(f"STEP {name} ")
            assert f"G=0x{odr_g:04x} I=0x{odr_i:04x} C=0x{odr_c:04x}" in line, line
            leds = {n for n in range(1, 5) if g.qom_get("/machine", f"led{n}")}
            assert leds == lit, f"{name}: LEDs lit {leds}, expected {lit}"
            g.write("n")
        assert "buttons key=1 wakeup=0" in g.read_until("buttons")
        g.qom_set("/machine", "button-user", True)
        assert "EXTI key level=0 count=1" in g.read_until("EXTI key")
        g.qom_set("/machine", "button-user", False)           # rising edge: not armed
        g.qom_set("/machine", "button-wakeup", True)
        assert "EXTI wakeup level=1 count=1" in g.read_until("EXTI wakeup")
        g.qom_set("/machine", "button-wakeup", False)
        g.qom_set("/machine", "button-user", True)
        assert "EXTI key level=0 count=2" in g.read_until("EXTI key")
        g.write("q")
        g.read_until("DONE")
        assert guest_error_lines(g) == []


# --- HAL_RNG, with the faults RM0090 24.3.2 describes ----------------------------------

def rng_words(out: str) -> list[int]:
    return [int(m, 16) for m in re.findall(r"^rng 0x([0-9a-f]{8})$", out, re.M)]


def test_hal_rng_generate_errors_and_recovery(qemu, baremetal):
    rng = "/machine/soc/rng"
    with Guest(qemu, baremetal / "hal_rng.elf") as g:
        out = g.read_until("STEP seed_fault")
        words = rng_words(out)
        assert len(words) == 8 and len(set(words)) == 8 and 0 not in words, out
        g.qom_set(rng, "seed-error", True)
        g.write("n")
        out = g.read_until("seed_error")
        assert "generate failed" in out
        assert "SECS=1" in out and "SEIS=1" in out
        g.read_until("STEP seed_recover")
        g.qom_set(rng, "seed-error", False)
        g.write("n")
        out = g.read_until("STEP clock_fault")
        assert re.search(r"^recovered DRDY=\d CECS=0 SECS=0 CEIS=0 SEIS=0$", out, re.M), out
        assert len(rng_words(out)) == 4 and "rng error" not in out
        g.qom_set(rng, "clock-error", True)
        g.write("n")
        assert "CECS=1" in (out := g.read_until("clock_error")) and "CEIS=1" in out, out
        g.read_until("STEP clock_recover")
        g.qom_set(rng, "clock-error", False)
        g.write("n")
        out = g.read_until("DONE")
        assert re.search(r"^clock_recovered DRDY=\d CECS=0 SECS=0 CEIS=0 SEIS=0$", out, re.M), out
        assert len(rng_words(out)) == 2 and "rng error" not in out
        assert g.qom_get(rng, "words") == 14


# --- libopencm3's rcc_clock_setup_pll: word accesses, another order ---------------------

def test_libopencm3_clock_setup(qemu, baremetal):
    with Guest(qemu, baremetal / "ocm3_clock.elf") as g:
        report = values(g.read_until("DONE", timeout=60))
        assert report["sysclk"] == "168000000"
        assert g.qom_get("/machine/soc/rcc", "hclk-frequency") == 168_000_000
        assert hexv(report, "rcc_cr") == 0x03030080            # HSI off at the end
        assert hexv(report, "rcc_cfgr") == 0x0000940A
        assert hexv(report, "flash_acr") == 0x605              # ICEN, DCEN, 5 wait states
        # pwr_set_vos_scale with the PWR clock off: the write is lost, as on silicon
        assert hexv(report, "pwr_cr") == 0x4000
        log = g.log()
        assert "pwr clock is off" in log and "write to 0x0 ignored" in log
        assert hexv(report, "cir") == 0x18                     # HSERDYF, PLLRDYF
        assert hexv(report, "cir_cleared") == 0                # CIR |= clear bit, per flag
        assert hexv(report, "gpiog_odr_set") == 0x140
        assert hexv(report, "gpiog_odr_clear") == 0x040
        assert hexv(report, "gpiog_moder_after_reset") == 0    # rcc_periph_reset_pulse
        assert hexv(report, "gpiog_odr_after_reset") == 0


# --- HAL_ETH_Init with the DP83848 ------------------------------------------------------

def test_hal_eth_init_with_dp83848(qemu, baremetal):
    nic = "user,restrict=on,net=192.168.0.0/24,host=192.168.0.1"
    with Guest(qemu, baremetal / "hal_eth.elf", nic=nic) as g:
        out = g.read_until("DONE", timeout=60)
        report = values(out)
        assert "FAIL" not in out, out
        assert hexv(report, "pmc") == 0                        # MII
        assert hexv(report, "dmabmr") == 0x00020100            # reset value, SR cleared
        assert hexv(report, "macmiiar") & 0x1C == 0x10         # CR: HCLK/102
        assert hexv(report, "phy_id1") == 0x2000 and hexv(report, "phy_id2") == 0x5C90
        assert "link up" in out and "autoneg complete" in out
        assert hexv(report, "phy_bsr") & 0x24 == 0x24          # link, AN complete
        assert "speed 100" in out and "duplex full" in out
        assert hexv(report, "maccr") & 0x4E00 == 0x4E00        # FES, DM, IPCO, RD
        assert guest_error_lines(g) == [], g.log()
