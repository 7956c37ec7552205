"""The boards' push-buttons from the host: the launcher's API, its --attach console
command and the machine table, against the bare-metal hal_gpio program, which reads the
pins and counts EXTI interrupts the way ST's HAL/BSP button code does."""

from __future__ import annotations

import pytest

from host_tools.board import Board, BoardError, _button_command
from host_tools.console import Console
from lab_robot import run_robot


# hal_gpio.elf's GPIO steps, each answered with "n" before it reports the buttons
GPIO_STEPS = 9


@pytest.fixture
def gpio_board(qemu, baremetal):
    b = Board(baremetal / "hal_gpio.elf", emulator=qemu)
    b.start(paused=True)
    con = Console(b.uart("console"), timeout=20)
    b.wait_uart_connected("console")
    b.resume()
    for _ in range(GPIO_STEPS):
        con.read_until("STEP ")
        con.write("n")
    yield b, con
    con.close()
    b.stop()


def test_press_release_click_reach_the_pins_and_exti(gpio_board):
    b, con = gpio_board
    # Idle levels as the BSP reads them: Key/User (PG15, active low) reads 1, Wakeup 0
    con.wait_for_line("buttons key=1 wakeup=0")
    assert b.buttons() == {"wakeup": False, "tamper": False, "user": False}
    b.press_button("user")
    assert b.button_pressed("user") and b.button_pressed("PG15")
    con.wait_for_line("EXTI key level=0 count=1")
    b.release_button("user")
    assert not b.button_pressed("user")
    b.click_button("wakeup", hold=0.05)
    con.wait_for_line("EXTI wakeup level=1 count=1")
    assert not b.button_pressed("wakeup")
    b.press_button("user")
    con.wait_for_line("EXTI key level=0 count=2")


def test_unknown_button_is_one_clear_error(gpio_board):
    b, _ = gpio_board
    with pytest.raises(BoardError, match="no button 'reset' on stm324xg-eval; use one of "
                                         "wakeup, tamper, user"):
        b.press_button("reset")


def test_attach_console_command(gpio_board, capsys):
    b, con = gpio_board
    con.read_until("buttons")
    _button_command(b, "!press user\n")
    assert "[button user: press]" in capsys.readouterr().out
    con.wait_for_line("EXTI key level=0 count=1")
    _button_command(b, "!release user\n")
    assert not b.button_pressed("user")
    _button_command(b, "!push user\n")
    assert "commands: !press NAME" in capsys.readouterr().out
    _button_command(b, "!press nothing\n")
    assert "no button 'nothing'" in capsys.readouterr().out


def test_robot_button_keywords(qemu, baremetal, tmp_path):
    run_robot(tmp_path, "buttons", f"""\
Buttons Reach The Firmware
    Create Board    firmware={baremetal / 'hal_gpio.elf'}
    Create Terminal Tester    console    timeout=20
    Start Emulation
    FOR    ${{i}}    IN RANGE    {GPIO_STEPS}
        Wait For Line On Uart    STEP
        Write To Uart    n
    END
    Wait For Line On Uart    buttons key=1 wakeup=0
    Press Button    user
    Wait For Line On Uart    EXTI key level=0 count=1
    Release Button    user
    Click Button    wakeup
    Wait For Line On Uart    EXTI wakeup level=1 count=1
""")


def test_screenshot_without_an_lcd_is_one_clear_error(baremetal, qemu, tmp_path):
    """The STM324x9I-EVAL's LCD is not modelled: Board.screenshot says so, saves nothing."""
    b = Board(baremetal / "hal_gpio.elf", emulator=qemu, machine="stm324x9i-eval")
    with pytest.raises(BoardError, match="stm324x9i-eval has no LCD in this lab; "
                                         "screenshots are for stm324xg-eval"):
        b.screenshot(tmp_path / "lcd.png")
    assert not (tmp_path / "lcd.png").exists()
