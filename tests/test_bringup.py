"""A CPU really runs: tests/baremetal/hello.elf does the HAL-style clock bring-up with its
polling loops (HSE, PLL M=25 N=336 P=2, flash wait states, switch) on the emulated
STM324xG-EVAL, then reports over the console while SysTick blinks LED4."""
import time

import serial

from host_tools.board import Board


def read_until(port, text: bytes, timeout: float = 20.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, f"{text!r} not seen; console so far: {seen!r}"
        seen += port.read(256)
    return seen


def test_clock_bringup_to_168mhz_completes(qemu, hello_elf):
    with Board(hello_elf, emulator=qemu).start(paused=True) as board:
        with serial.serial_for_url(board.uart(), timeout=0.2) as port:
            board.wait_uart_connected()
            board.resume()
            out = read_until(port, b" Hz from PLL")
            assert b"hello from stm324xg-eval" in out
            assert b"clock: SYSCLK 168000000 Hz from PLL (HSE 25 MHz)" in out, out
            assert b"timeout" not in out
        rcc = board.engine.qmp("qom-get", path="/machine/soc/rcc", property="hclk-frequency")
        assert rcc == 168_000_000
        cfgr = board.engine.qmp("human-monitor-command", **{"command-line": "xp/1wx 0x40023808"})
        assert int(cfgr.split(":")[1], 16) & 0xC == 0x8        # SWS = PLL


def test_systick_at_the_new_clock_blinks_led4(qemu, hello_elf):
    """SysTick is loaded for 1 ms at 168 MHz; LED4 toggles every 200 ticks."""
    with Board(hello_elf, emulator=qemu) as board:
        seen = set()
        deadline = time.monotonic() + 20
        while seen != {True, False}:
            assert time.monotonic() < deadline, f"LED4 states seen: {seen}"
            seen.add(board.led("led4"))
            time.sleep(0.02)
        assert board.led("led1") is False and board.led("led3") is False
