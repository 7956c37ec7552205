#!/usr/bin/env python3
"""Boot times and the emulated CPU's speed, both EVAL boards side by side in one run.

* **boot to REPL**: host seconds from ``Board.start()`` (QEMU's process spawned, the
  console attached) to the REPL's prompt. The launcher's own Python start-up, when it is
  run as a command, comes on top (``python3 host_tools/board.py --help`` takes
  0.20-0.27 s on the lab machine);
* **boot to first handshake**: the same board started as ST's SSL client demo (config
  ``role=client``) with a PC SSL server (host_tools/ssl_server.py) on 127.0.0.1: host
  seconds from ``Board.start()`` to the console line that reports the handshake ``ok``;
* **pystone**: MicroPython's own pystone (``tests/perf_bench/misc_pystone.py`` of the
  MicroPython tree the firmware is built from), ``--loops`` loops, and a tight bytecode
  loop (``while i < n: i += 1``). Each runs twice: under ``--deterministic`` (``-icount
  shift=7``: one guest instruction is 128 ns of virtual time, so the guest's
  ``ticks_us()`` counts instructions), and in a normal run timed on the host's clock (a
  paste, less an empty paste's round trip). Emulated MIPS = instructions / wall seconds;
  against a 168 MHz Cortex-M4 at one instruction per cycle (168 MIPS), the
  ``x 168 MHz`` column. Pystones/s are the wall figure.

Medians of --reps runs.

    python3 bench/speed.py                        # print the table
    python3 bench/speed.py --json bench/results/speed.json
    python3 bench/speed.py --quick                # structure only (tests/test_bench.py)
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from bench.crypto import BOARDS, Console, attach, machine_facts, qemu_path  # noqa: E402
from host_tools import certs  # noqa: E402
from host_tools.board import Board  # noqa: E402
from host_tools.ssl_server import SslServer  # noqa: E402

ICOUNT_SHIFT = 7
MHZ = 168                           # the STM32F417/439's top CPU clock
PROMPT = b">>> "
HANDSHAKE_OK = re.compile(rb"  \. Performing the SSL/TLS handshake\.\.\. ok")

# Pasted after misc_pystone.py: each prints one line of guest-timed microseconds.
RUNNER = """
import time
def pystone(n):
    Setup()
    t = time.ticks_us()
    Proc0(n)
    print('BENCH pystone', time.ticks_diff(time.ticks_us(), t))
def loop(n):
    i = 0
    t = time.ticks_us()
    while i < n:
        i += 1
    print('BENCH loop', time.ticks_diff(time.ticks_us(), t))
print('BENCH' + '-END')
"""


def micropython_dir() -> Path:
    """The MicroPython tree the firmware is built from (scripts/fetch-firmware-sources.sh)."""
    out = subprocess.run(["bash", str(TOP / "scripts/fetch-firmware-sources.sh"), "--print"],
                         capture_output=True, text=True, check=True).stdout
    return Path(dict(line.split("=", 1) for line in out.split())["MICROPY_DIR"])


def pystone_source() -> str:
    path = micropython_dir() / "tests" / "perf_bench" / "misc_pystone.py"
    text = path.read_text()
    # the benchmark interface (bm_params, bm_setup) is for MicroPython's own runner
    return text[:text.index("# Benchmark interface")] if "# Benchmark interface" in text \
        else text


def boot_to_repl(elf: Path, qemu: str, machine: str) -> float:
    board = Board(elf, emulator=qemu, machine=machine)
    t0 = time.monotonic()
    board.start(paused=True)
    try:
        con = attach(board)
        seconds = time.monotonic() - t0
        con.close()
    finally:
        board.stop()
    return seconds


def boot_to_handshake(elf: Path, qemu: str, machine: str, pki: Path) -> float:
    with SslServer(port=0, echo=False, cert=pki / "server-rsa.pem",
                   key=pki / "server-rsa.key.pem") as server:
        board = Board(elf, emulator=qemu, machine=machine,
                      guestfwd=[f"443:{server.port}"],
                      config={"role": "client", "ca": pki / "ca.pem", "period": 3600})
        t0 = time.monotonic()
        board.start(paused=True)
        try:
            con = Console(board.uart("console"))
            if not board.wait_uart_connected(timeout=10):
                raise RuntimeError("console client did not attach")
            board.resume()
            con.expect(HANDSHAKE_OK, 60)
            seconds = time.monotonic() - t0
            con.close()
        finally:
            board.stop()
    return seconds


def run_speed(elf: Path, qemu: str, machine: str, deterministic: bool, loops: int,
              turns: int, reps: int, source: str) -> dict:
    """{figure: guest microseconds (deterministic) or host seconds (normal), median}."""
    board = Board(elf, emulator=qemu, machine=machine, deterministic=deterministic,
                  icount_shift=ICOUNT_SHIFT)
    board.start(paused=True)
    try:
        con = attach(board)
        _, lines = con.paste(source + RUNNER, 120)
        if any("Traceback" in line for line in lines):
            raise RuntimeError(f"{elf}: the pystone source failed:\n" + "\n".join(lines))
        base = min(con.paste("print('BENCH' + '-END')", 30)[0] for _ in range(3))
        out = {}
        for name, n in (("pystone", loops), ("loop", turns)):
            samples = []
            for _ in range(1 if deterministic else reps):
                elapsed, lines = con.paste(f"{name}({n})\nprint('BENCH' + '-END')", 600)
                m = re.search(rf"^BENCH {name} (\d+)$", "\n".join(lines), re.M)
                if not m:
                    raise RuntimeError(f"{elf}: {name}({n}) failed:\n" + "\n".join(lines))
                samples.append(int(m.group(1)) if deterministic else max(elapsed - base, 1e-6))
            out[name] = statistics.median(samples)
        con.close()
    finally:
        board.stop()
    return out


def measure(fw_dir: Path, qemu: str, boards, loops: int, turns: int, reps: int) -> dict:
    pki = certs.default_out()
    certs.make_pki(pki, report=lambda line: None)
    source = pystone_source()
    rows = []
    for name in boards:
        machine = BOARDS[name]
        elf = fw_dir / f"build-{machine}" / "firmware.elf"
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        repl = statistics.median(boot_to_repl(elf, qemu, machine) for _ in range(reps))
        hs = statistics.median(boot_to_handshake(elf, qemu, machine, pki) for _ in range(reps))
        counted = run_speed(elf, qemu, machine, True, loops, turns, reps, source)
        wall = run_speed(elf, qemu, machine, False, loops, turns, reps, source)
        row = {"board": name, "boot_repl_s": round(repl, 3), "boot_handshake_s": round(hs, 3),
               "pystone_loops": loops, "loop_turns": turns}
        for figure in ("pystone", "loop"):
            instructions = counted[figure] * 1000 / (1 << ICOUNT_SHIFT)
            mips = instructions / wall[figure] / 1e6
            row[f"{figure}_instructions"] = round(instructions)
            row[f"{figure}_wall_s"] = round(wall[figure], 4)
            row[f"{figure}_mips"] = round(mips, 1)
            row[f"{figure}_x_168mhz"] = round(mips / MHZ, 2)
        row["pystones_per_s"] = round(loops / wall["pystone"])
        rows.append(row)
    return {"rows": rows, "reps": reps, "icount_shift": ICOUNT_SHIFT, "mhz": MHZ,
            "machine": machine_facts()}


def table(result: dict) -> str:
    lines = [f"{'board':5} {'boot REPL s':>11} {'1st handshake s':>15} {'pystones/s':>10} "
             f"{'pystone MIPS':>12} {'x 168 MHz':>9} {'loop MIPS':>9} {'x 168 MHz':>9}"]
    for r in result["rows"]:
        lines.append(f"{r['board']:5} {r['boot_repl_s']:>11.3f} {r['boot_handshake_s']:>15.3f} "
                     f"{r['pystones_per_s']:>10} {r['pystone_mips']:>12.1f} "
                     f"{r['pystone_x_168mhz']:>9.2f} {r['loop_mips']:>9.1f} "
                     f"{r['loop_x_168mhz']:>9.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware-dir", type=Path, default=TOP / "firmware",
                    help="where build-<board>/firmware.elf are (default: firmware/, the "
                         "hardware-crypto builds)")
    ap.add_argument("--qemu", help="qemu-system-arm (default: scripts/build-qemu.sh --print)")
    ap.add_argument("--boards", default="F417,F439")
    ap.add_argument("--loops", type=int, default=5000, help="pystone loops (default 5000)")
    ap.add_argument("--turns", type=int, default=200000, help="tight-loop turns")
    ap.add_argument("--reps", type=int, default=3, help="runs per wall figure (median)")
    ap.add_argument("--quick", action="store_true", help="tiny runs: structure only (tests)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    boards = [b.strip() for b in args.boards.split(",") if b.strip()]
    for b in boards:
        if b not in BOARDS:
            raise SystemExit(f"bench: unknown board '{b}' (F417 or F439)")
        elf = args.firmware_dir / f"build-{BOARDS[b]}" / "firmware.elf"
        if not elf.exists():
            raise SystemExit(f"bench: {elf} missing; build it with "
                             f"'make -C firmware BOARD={BOARDS[b]}'")
    loops, turns, reps = (50, 2000, 1) if args.quick else (args.loops, args.turns, args.reps)
    result = measure(args.firmware_dir, args.qemu or qemu_path(), boards, loops, turns, reps)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
