#!/usr/bin/env python3
"""What an idle board costs the host: QEMU's CPU time and the firmware's wake-ups, with the
1 ms tick and with tickless idle (firmware/systick.c), side by side in one run.

The same firmware runs both ways (``machine.tickless(False)`` gives the 1 ms tick back), in
three idle states:

* ``repl``: the REPL waiting for a line on the console;
* ``server``: the HTTPS server application waiting for a client (role server, no client);
* ``client``: the SSL client application waiting for its next attempt (role client, no CA
  configured: it says so and waits ``period`` seconds).

For each, after the state has settled, the host reads QEMU's utime+stime from
/proc/<pid>/stat over --seconds of wall time (CPU % of one host core), and the guest counts
SysTick interrupts and wake-ups of its idle wait (``machine.idle_stats()``) over the same
window, divided by the guest's own elapsed ms. Normal (real-time) runs: under ``-icount``
an idle guest's clock jumps ahead and the CPU figure would mean nothing.

    python3 bench/idle.py                         # F417, 10 s per figure, print the table
    python3 bench/idle.py --json bench/results/idle.json
    python3 bench/idle.py --quick                 # 1 s per figure (tests/test_bench.py)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from bench.crypto import BOARDS, PROMPT, Console, attach, firmware_path, qemu_path  # noqa: E402
from host_tools import certs  # noqa: E402
from host_tools.board import Board  # noqa: E402

STATES = ("repl", "server", "client")
MODES = {"1 ms tick": False, "tickless": True}
SETTLE_S = 2

SETUP = """
import machine, time
machine.tickless({tickless})
def idle_mark(tag):
    s = machine.idle_stats()
    print(tag, time.ticks_ms(), s[0], s[1])
"""

# The applications run in the foreground (demo.run until Ctrl-C); a task of their event loop
# marks the window.
APP = """
import asyncio, demo
async def idle_window():
    await asyncio.sleep_ms({settle_ms})
    idle_mark('IDLE-START')
    await asyncio.sleep_ms({window_ms})
    idle_mark('IDLE-END')
asyncio.create_task(idle_window())
demo.run({role!r}{settings})
"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mark(line: str) -> tuple:
    _, ms, irqs, wakeups = line.split()
    return int(ms), int(irqs), int(wakeups)


def cpu_percent(pid: int, cpu0: float, t0: float) -> float:
    return round(100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0), 2)


def rates(start: tuple, end: tuple) -> dict:
    """Per second of the guest's time between two idle_mark lines."""
    ms = end[0] - start[0]
    return {"guest_ms": ms,
            "systick_per_s": round(1000 * (end[1] - start[1]) / ms, 1),
            "wakeups_per_s": round(1000 * (end[2] - start[2]) / ms, 1)}


def wait_mark(con: Console, tag: str, timeout: float) -> tuple:
    """The (ms, SysTick interrupts, wake-ups) of the guest's idle_mark(tag) line (not the
    echo of the code that prints it)."""
    line = con.expect(re.compile(tag.encode() + rb" \d+ \d+ \d+\r\n"), timeout)
    return mark(line.decode().rsplit(tag, 1)[1].strip().join([tag + " ", ""]))


def measure_state(elf: Path, qemu: str, machine: str, pki: Path, state: str, tickless: bool,
                  seconds: float) -> dict:
    config = {"role": "repl", "cert": pki / "board-rsa.pem", "key": pki / "board-rsa.key.pem"}
    board = Board(elf, emulator=qemu, machine=machine, config=config)
    board.start(paused=True)
    try:
        con = attach(board, 60)
        con.paste(SETUP.format(tickless=tickless) + "print('BENCH' + '-END')", 30)
        if state == "repl":
            _, lines = con.paste("idle_mark('IDLE-START')\nprint('BENCH' + '-END')", 30)
            start = mark(lines[-2])
            time.sleep(SETTLE_S / 2)
            cpu0, t0 = cpu_seconds(board.pid), time.monotonic()
            time.sleep(seconds)
            cpu = cpu_percent(board.pid, cpu0, t0)
            _, lines = con.paste("idle_mark('IDLE-END')\nprint('BENCH' + '-END')", 30)
            # the guest's counts cover the REPL's whole wait, the CPU the middle of it
            result = dict(cpu_percent=cpu, **rates(start, mark(lines[-2])))
        else:
            settings = ", period=3600" if state == "client" else ""
            con.port.write(b"\x05")
            con.expect(b"=== ", 10)
            code = APP.format(settle_ms=SETTLE_S * 1000, window_ms=int(seconds * 1000),
                              role=state, settings=settings)
            con.port.write(code.strip("\n").replace("\n", "\r").encode() + b"\r\x04")
            start = wait_mark(con, "IDLE-START", 120)
            cpu0, t0 = cpu_seconds(board.pid), time.monotonic()
            end = wait_mark(con, "IDLE-END", seconds * 3 + 60)
            result = dict(cpu_percent=cpu_percent(board.pid, cpu0, t0), **rates(start, end))
            con.port.write(b"\x03")
            con.expect(PROMPT, 30)
        con.close()
        return result
    finally:
        board.stop()


def measure(fw_dir: Path, qemu: str, boards: list, seconds: float) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pki = Path(tmp)
        certs.make_pki(pki, report=lambda line: None)
        for board in boards:
            elf = firmware_path(fw_dir, board, "HW")
            for state in STATES:
                for mode, tickless in MODES.items():
                    r = measure_state(elf, qemu, BOARDS[board], pki, state, tickless, seconds)
                    rows.append(dict(board=board, state=state, mode=mode, **r))
                    print(f"  {board} {state:7} {mode:10} {r['cpu_percent']:6.2f} % CPU  "
                          f"{r['systick_per_s']:7.1f} SysTick/s  {r['wakeups_per_s']:7.1f} "
                          f"wake-ups/s", flush=True)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                       f"load average {os.getloadavg()[0]:.1f}",
            "seconds": seconds, "rows": rows}


def table(result: dict) -> str:
    out = [f"{'board':5} {'state':7} {'mode':10} {'CPU %':>7} {'SysTick/s':>10} "
           f"{'wake-ups/s':>11}"]
    for r in result["rows"]:
        out.append(f"{r['board']:5} {r['state']:7} {r['mode']:10} {r['cpu_percent']:7.2f} "
                   f"{r['systick_per_s']:10.1f} {r['wakeups_per_s']:11.1f}")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware-dir", type=Path, default=TOP / "firmware",
                    help="where the build-<board> directories are")
    ap.add_argument("--qemu", help="qemu-system-arm (default: scripts/build-qemu.sh --print)")
    ap.add_argument("--boards", default="F417", help="F417, F439 or both (comma-separated)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each window")
    ap.add_argument("--quick", action="store_true", help="1 s windows (tests)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    result = measure(args.firmware_dir, args.qemu or qemu_path(), args.boards.split(","),
                     1.0 if args.quick else args.seconds)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
