"""board.py's Renode engine (host_tools/renode_engine.py).

Renode cannot be installed here, so the engine is checked against a stand-in `renode`
executable put first on PATH: it records the arguments, the generated script and every
monitor command, opens the console pseudo-terminal the script asks for, and answers the
monitor like Renode's console mode (the lines a command prints, then the next prompt).
What this shows: the engine starts Renode headless from the repository root with the
board's .repl, firmware and config sector, and drives start/pause/reset/LED/link through
the monitor; not that Renode itself then runs the firmware.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from host_tools.board import Board, BoardError

TOP = Path(__file__).resolve().parent.parent
FAKE_RENODE = r'''#!PYTHON
"""Stand-in for renode --console: records, opens the pty, answers the monitor."""
import os, re, sys, json
rec = os.environ["FAKE_RENODE_RECORD"]
script = sys.argv[-1]
text = open(script).read()
log = {"argv": sys.argv[1:], "cwd": os.getcwd(), "script": text, "commands": []}
def save():
    with open(rec, "w") as f:
        json.dump(log, f)
m = re.search(r'CreateUartPtyTerminal "console" "([^"]+)"', text)
master, slave = os.openpty()
os.symlink(os.ttyname(slave), m.group(1))
leds = {"led4": True}
def started():
    os.write(master, b"hello from the stand-in\r\n")
if "\nstart\n" in text:
    started()
save()
print("Renode, version 1.16.1 (stand-in)", flush=True)
for line in sys.stdin:
    line = line.strip()
    log["commands"].append(line)
    save()
    if line == "quit":
        break
    m = re.fullmatch(r"""python "print '(@@[^']+@@)'\"""", line)
    if m:
        print("(%s) %s" % ("machine", line), flush=True)
        print(m.group(1), flush=True)
    elif line.endswith(" State"):
        print(str(leds.get(line.split()[0].split(".")[-1], False)), flush=True)
    elif line == "start":
        started()
    elif line == "version":
        print("Renode, version 1.16.1 (stand-in)", flush=True)
'''


@pytest.fixture
def fake_renode(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "renode"
    exe.write_text(FAKE_RENODE.replace("#!PYTHON", f"#!{sys.executable}"))
    exe.chmod(0o755)
    record = tmp_path / "record.json"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_RENODE_RECORD", str(record))

    def recorded():
        import json
        return json.loads(record.read_text())
    return recorded


def test_without_renode_one_clear_line(tmp_path, hello_elf):
    env = dict(os.environ, PATH=str(tmp_path))         # nothing named renode there
    out = subprocess.run([sys.executable, str(TOP / "host_tools" / "board.py"),
                          "--engine", "renode", "--firmware", str(hello_elf)],
                         capture_output=True, text=True, env=env, cwd=TOP)
    assert out.returncode == 1
    assert out.stderr == "board: Renode not found; the QEMU engine is the default\n"
    with pytest.raises(BoardError, match="^Renode not found; the QEMU engine is the default$"):
        Board(hello_elf, engine="renode")


@pytest.mark.parametrize("machine,repl,usart", [("stm324xg-eval", "stm324xg_eval.repl", 3),
                                                ("stm324x9i-eval", "stm324x9i_eval.repl", 1)])
def test_engine_drives_renodes_monitor(fake_renode, hello_elf, machine, repl, usart):
    board = Board(hello_elf, engine="renode", machine=machine, config_blob=b"role=repl\n")
    board.start(paused=True)
    try:
        rec = fake_renode()
        assert rec["argv"][:3] == ["--console", "--disable-gui", "--plain"]
        assert Path(rec["cwd"]) == TOP             # the .repl's script paths are from there
        script = rec["script"]
        assert f"machine LoadPlatformDescription @{TOP / 'platforms' / repl}" in script
        assert f"connector Connect sysbus.usart{usart} console" in script
        assert f"sysbus LoadELF @{hello_elf.resolve()}" in script
        config = Path(script.split("sysbus LoadBinary @", 1)[1].split()[0])
        assert config.read_bytes() == board.config.config_sector
        assert config.read_bytes().startswith(b"role=repl\n")
        assert "connector Connect sysbus.ethernet switch" in script
        assert "CreateTap" not in script and "\nstart\n" not in script   # held: paused
        console = serial.serial_for_url(board.uart("console"), timeout=5)
        board.resume()
        assert console.readline() == b"hello from the stand-in\r\n"
        console.close()
        assert board.led("led4") is True and board.led("led1") is False
        board.link_down()
        board.reset()
        board.pause()
        commands = fake_renode()["commands"]
        for want in ("start", "sysbus.gpioPortC.led4 State" if usart == 3 else
                     "sysbus.gpioPortG.led4 State",
                     "sysbus.ethernet.phy BasicStatus 0x7849",
                     "sysbus.ethernet.phy VendorSpecific0 0x0000", "machine Reset", "pause"):
            assert want in commands, (want, commands)
        assert not board.link_is_up()
    finally:
        assert board.stop() == 0
    assert fake_renode()["commands"][-1] == "quit"


def test_engine_refuses_what_renode_cannot_do(fake_renode, hello_elf):
    with pytest.raises(BoardError, match="hostfwd, guestfwd: not available with Renode"):
        Board(hello_elf, engine="renode", hostfwd=["0:443"], guestfwd=["443:4433"])
    with pytest.raises(BoardError, match="unknown engine 'bochs'; use one of qemu, renode"):
        Board(hello_elf, engine="bochs")
