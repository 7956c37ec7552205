"""The launcher's per-machine tables (host_tools/lab.py) against the QEMU machines, and
stopping boards that do not answer or are starved of CPU.

The UART, LED and config tables are checked against what QEMU itself reports (QOM), so a
table that drifts from the machine fails here; no firmware runs for those checks (the CPU is
held). The stop tests run the bare-metal hello firmware.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools import lab
from host_tools.board import Board, BoardError
from lab_qtest import QTest


def pid_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


@pytest.fixture
def held_board(qemu, hello_elf):
    """A board of a given machine with every UART exposed, CPU held (nothing runs)."""
    boards = []

    def start(machine: str, **options) -> Board:
        spec = lab.machine(machine)
        b = Board(hello_elf, emulator=qemu, machine=machine,
                  extra_uarts=spec.uarts[1:], **options)
        boards.append(b.start(paused=True))
        return b

    yield start
    for b in boards:
        b.stop()


@pytest.mark.parametrize("machine", sorted(lab.MACHINES))
def test_every_uart_name_reaches_that_usart(held_board, machine):
    """board.uart("usart2") is the socket of USART2 itself, on every machine: QEMU's SoC
    gives the first -serial to the console USART and the others in order after it."""
    b = held_board(machine)
    spec = lab.machine(machine)
    assert set(b.uarts()) == {"console", *spec.uarts[1:]}
    for uart in spec.uarts:
        chardev = b.engine.qmp("qom-get", path=f"/machine/soc/{uart}", property="chardev")
        assert chardev == spec.uart_label(uart), (machine, uart, chardev)


def test_console_of_the_f439_is_usart1(held_board):
    b = held_board("F439")
    assert b.machine.console == "usart1" and b.uart("usart1") == b.uart("console")
    with pytest.raises(BoardError, match="no UART 'usart4' on stm324x9i-eval"):
        b.uart("usart4")


RCC_AHB1ENR = 0x40023830
GPIO_BASE, GPIO_STRIDE, MODER, ODR = 0x40020000, 0x400, 0x00, 0x14


@pytest.mark.parametrize("machine", sorted(lab.MACHINES))
def test_led_table_matches_the_machine(qemu, machine):
    """Each LED of the table lights when the firmware drives its pin to the table's active
    level, and only then (pin and polarity checked through the GPIO model, qtest)."""
    spec = lab.machine(machine)
    with QTest(qemu, machine=machine) as qts:
        for led in spec.leds:
            port, pin = ord(led.pin[1]) - ord("A"), int(led.pin[2:])
            base = GPIO_BASE + port * GPIO_STRIDE
            qts.writel(RCC_AHB1ENR, qts.readl(RCC_AHB1ENR) | 1 << port)
            moder = qts.readl(base + MODER) & ~(3 << 2 * pin)
            qts.writel(base + MODER, moder | 1 << 2 * pin)        # general-purpose output
            for level in (1, 0, 1):
                odr = qts.readl(base + ODR) & ~(1 << pin)
                qts.writel(base + ODR, odr | level << pin)
                lit = qts.qom_get("/machine", led.name)
                assert lit == (level == (0 if led.active_low else 1)), (machine, led, level)


def test_tables_are_complete():
    for spec in lab.MACHINES.values():
        assert spec.console in spec.uarts and len(set(spec.uarts)) == len(spec.uarts)
        assert lab.machine(spec.short) is spec and lab.machine(spec.name.upper()) is spec
        assert all(b.pin[0] == "P" and b.prop == f"button-{b.name}" for b in spec.buttons)
    for short in ("F417", "F439"):
        evalboard = lab.machine(short)
        assert evalboard.button("wakeup").pin == "PA0" and not evalboard.button("wakeup").active_low
        assert evalboard.button("tamper").pin == "PC13" and evalboard.button("tamper").active_low
    nucleo = lab.machine("F411")
    assert nucleo.button("pc13").name == "user" and nucleo.button("user").active_low
    assert nucleo.console == "usart2" and not nucleo.ethernet
    assert lab.machine("F417").button("user").prop == "button-user"
    assert lab.machine("F417").button("pg15").name == "user"
    with pytest.raises(BoardError, match="no button 'user' on stm324x9i-eval"):
        lab.machine("F439").button("user")
    with pytest.raises(BoardError, match="unknown machine 'F401'"):
        lab.machine("F401")


def test_f439_leds_are_read_through_the_table(held_board):
    b = held_board("stm324x9i-eval")
    assert b.leds() == {"led1": False, "led2": False, "led3": False, "led4": False}
    assert b.led("PG12") is False and b.led("blue") is False


# --- stopping never hangs ------------------------------------------------------------------

def test_stop_ends_a_qemu_that_cannot_answer(qemu, hello_elf):
    """A QEMU that is stopped (SIGSTOP) answers no QMP 'quit': stop() goes on to SIGTERM
    (with SIGCONT) and SIGKILL instead of waiting for it."""
    b = Board(hello_elf, emulator=qemu).start()
    pid = b.pid
    os.kill(pid, signal.SIGSTOP)
    rc = b.stop(timeout=1)
    assert rc is not None and pid_gone(pid) and not b.is_running()


@pytest.fixture
def cpu_burners():
    """Four processes that keep both cores busy for as long as the test runs."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(4)]
    yield burners
    for p in burners:
        p.kill()
        p.wait()


@pytest.mark.timeout(240)
def test_boards_stop_while_the_machine_is_loaded(qemu, hello_elf, cpu_burners):
    boards = [Board(hello_elf, emulator=qemu).start() for _ in range(3)]
    pids = [b.pid for b in boards]
    for b in boards:                    # each runs the firmware under the load
        deadline = time.monotonic() + 120
        while b"hello from" not in b.console_log.read_bytes():
            assert time.monotonic() < deadline, "the firmware printed nothing"
            time.sleep(0.05)
    assert all(p.poll() is None for p in cpu_burners)
    for b in boards:
        assert b.stop() is not None
    assert all(pid_gone(pid) for pid in pids)
