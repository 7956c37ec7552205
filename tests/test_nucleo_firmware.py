"""The MicroPython firmware's Nucleo-F411RE board (firmware/boards/nucleo-f411re) on the
emulated NUCLEO-F411RE: boot to the REPL on USART2 (the ST-LINK virtual COM port) at 96 MHz
from the 8 MHz HSE bypass, LD2 and B1 through machine.LED/machine.Pin, and what the chip
lacks (Ethernet MAC, crypto blocks, RNG) absent rather than half there: TLS is mbedTLS in
software with a provisioned seed. The network is in test_nucleo_network.py."""

import pytest

from lab_firmware import BANNER, PROMPT, boot, build_firmware, wait_for

MACHINE = "nucleo-f411re"


@pytest.fixture(scope="module")
def nucleo_elf():
    return build_firmware(MACHINE, hw=0)


@pytest.fixture
def board(nucleo_elf, qemu):
    board, console = boot(nucleo_elf, qemu, machine=MACHINE)
    board.console = console
    board.banner = console.expect(BANNER, timeout=30)
    console.expect(PROMPT)
    yield board
    console.close()
    board.stop()


def test_banner_clock_and_memory(board):
    m = BANNER.search(board.banner)
    assert (m.group(1), m.group(2)) == (b"NUCLEO-F411RE", b"STM32F411RE"), board.banner
    assert b"clock:" not in board.console.seen, board.console.seen   # no HSI fall-back
    assert board.console.run("import machine; print(machine.freq())") == "96000000\n"
    # the heap is SRAM below the stack: 128 KiB of SRAM, no CCM
    free = int(board.console.run("import gc; gc.collect(); print(gc.mem_free())"))
    assert 90 * 1024 < free < 112 * 1024, free


def test_ld2_and_b1(board):
    con = board.console
    con.run("from machine import LED, Pin; ld2 = LED('LD2'); b1 = Pin('PC13', Pin.IN)")
    assert not board.led("led2")
    con.run("ld2.on()")
    assert wait_for(lambda: board.led("led2")), "LD2 not lit after LED('LD2').on()"
    con.run("ld2.off()")
    assert wait_for(lambda: not board.led("led2")), "LD2 still lit after off()"
    assert con.run("print(b1.value())") == "1\n"          # released: pulled up
    board.press_button("user")
    assert con.run("print(b1.value())") == "0\n"          # pressed: active low
    board.release_button("user")
    assert con.run("print(b1.value())") == "1\n"


@pytest.mark.parametrize("module", ["network", "stm32crypto"])
def test_what_the_chip_lacks_is_not_there(board, module):
    out = board.console.run(f"import {module}")
    assert f"ImportError: no module named '{module}'" in out, out


def test_socket_is_the_w5100s_once_attached(board):
    out = board.console.run("import socket; socket.socket()")
    assert "OSError" in out and "no network chip; call socket.attach(nic) first" in out, out


def test_no_rng_means_no_urandom_and_tls_waits_for_a_seed(board):
    out = board.console.run("import os; print(hasattr(os, 'urandom'))")
    assert out == "False\n"
    # TLS is there, in software; its entropy is the seed given from outside
    assert board.console.run("import tls; print(tls.HW_CRYPTO, hasattr(tls, 'seed'))") \
        == "0 True\n"
    out = board.console.run("tls.seed(b'short')")
    assert "ValueError: tls.seed: give 32 to 64 bytes" in out, out
