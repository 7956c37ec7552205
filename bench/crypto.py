#!/usr/bin/env python3
"""Crypto throughput of the emulated boards: hardware (HW_CRYPTO=1) and software
(HW_CRYPTO=0) firmware builds, STM32F417 and STM32F439, side by side in one run.

For every board and build the firmware boots twice:

* a normal run: each operation repeats for --wall-ms between two console lines whose
  arrival the host times: KiB/s of wall time (the guest's own clock is no good for this:
  it loses SysTick interrupts when the host is loaded);
* a run under ``--deterministic`` (``-icount shift=7``: every guest instruction is 128 ns
  of virtual time, so ticks_us counts instructions): guest instructions per KiB. This
  figure does not depend on the host's load.

Hashes go through hashlib, AES-CBC through cryptolib and DES/TDES-CBC through descbc:
all three are mbedTLS, which is the CRYP/HASH in a hardware build and software in a
software build.

Every operation prints its result (digest, last cipher block), which the host checks
with hashlib / cryptography, so a benchmark of a wrong result fails loudly.

    python3 bench/crypto.py                      # 64 KiB per operation, print the table
    python3 bench/crypto.py --json out.json --png out.png
    python3 bench/crypto.py --quick              # 2 KiB, 20 ms per figure (tests)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES  # noqa: E402
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

from host_tools.board import Board  # noqa: E402

BOARDS = {"F417": "stm324xg-eval", "F439": "stm324x9i-eval"}
BUILDS = {"HW": "", "SW": "-swcrypto"}
ICOUNT_SHIFT = 7                     # 128 ns of virtual time per guest instruction
PROMPT = b">>> "
BANNER = re.compile(rb"MicroPython v[^\r\n]*; STM32\w+-EVAL with STM32F4\w+\r\n")

# What the guest runs. CHUNK bytes at a time (the heap of an F417 has no room for two
# 64 KiB buffers), TOTAL bytes per operation. SETUP is pasted once; then pastes of
# bench(name, n): the operation once, timed by the guest, and n more times (see
# run_guest for what is timed how).
SETUP = r"""
import time, hashlib, cryptolib
try:
    import descbc
except ImportError:             # firmware before descbc: the CRYP in every build
    descbc = None
CHUNK = {chunk}
N = {total} // CHUNK
buf = bytearray((i * 7 + 3) & 0xff for i in range(CHUNK))
out = bytearray(CHUNK)
key = bytes(range(16)); iv = bytes(range(16, 32)); key24 = bytes(range(24)); iv8 = bytes(8)
def hashrun(name):
    h = getattr(hashlib, name)()
    for _ in range(N):
        h.update(buf)
    return h.digest()
def aesrun():
    a = cryptolib.aes(key, 2, iv)
    for _ in range(N):
        a.encrypt(buf, out)
    return bytes(out[-16:])
def desrun(k):
    if descbc is None:
        import stm32crypto
        d = stm32crypto.DES(k, stm32crypto.MODE_CBC, iv8)
        for _ in range(N):
            r = d.encrypt(buf)
        return r[-8:]
    d = descbc.DES(k, iv8)
    for _ in range(N):
        d.encrypt(buf, out)
    return bytes(out[-8:])
RUN = {{'sha1': lambda: hashrun('sha1'), 'sha256': lambda: hashrun('sha256'),
       'md5': lambda: hashrun('md5'), 'aes-128-cbc': aesrun,
       'des-cbc': lambda: desrun(key24[:8]), 'tdes-cbc': lambda: desrun(key24)}}
def bench(name, n):
    fn = RUN[name]
    t = time.ticks_us()
    res = fn()
    dt = time.ticks_diff(time.ticks_us(), t)
    for _ in range(n):
        fn()
    print('BENCH', name, n + 1, dt, res.hex())
print('BENCH' + '-END')
"""

HASHES = ("sha1", "sha256", "md5")
ALGOS = ("sha1", "sha256", "md5", "aes-128-cbc", "des-cbc", "tdes-cbc")


def expected(chunk: int, total: int) -> dict:
    """What each operation must print (hex), computed on the host."""
    buf = bytes((i * 7 + 3) & 0xFF for i in range(chunk))
    n = total // chunk
    exp = {}
    for name in HASHES:
        h = hashlib.new(name)
        for _ in range(n):
            h.update(buf)
        exp[name] = h.hexdigest()
    enc = Cipher(algorithms.AES(bytes(range(16))), modes.CBC(bytes(range(16, 32)))).encryptor()
    ct = b"".join(enc.update(buf) for _ in range(n))
    exp["aes-128-cbc"] = ct[-16:].hex()
    key24 = bytes(range(24))
    for name, key in (("des-cbc", key24[:8] * 3), ("tdes-cbc", key24)):
        enc = Cipher(TripleDES(key), modes.CBC(bytes(8))).encryptor()
        ct = b"".join(enc.update(buf) for _ in range(n))
        exp[name] = ct[-8:].hex()
    return exp


class Console:
    """Just enough of a console: paste a program, read up to the prompt."""

    def __init__(self, url: str):
        import serial
        self.port = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
        self.buf = b""

    def expect(self, pattern, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.buf) if hasattr(pattern, "search") else None
            end = m.end() if m else (self.buf.find(pattern) + len(pattern)
                                     if not hasattr(pattern, "search") and pattern in self.buf
                                     else -1)
            if end >= 0:
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            if time.monotonic() > deadline:
                raise RuntimeError(f"expected {pattern!r}; got {self.buf[-400:]!r}")
            self.buf += self.port.read(4096)

    def paste(self, code: str, timeout: float) -> tuple:
        """Run code up to its BENCH-END line; (seconds from the paste's end to that line,
        the output lines)."""
        self.port.write(b"\x05")
        self.expect(b"=== ", 10)
        self.buf = b""
        self.port.write(code.strip("\n").replace("\n", "\r").encode() + b"\r")
        t0 = time.monotonic()
        self.port.write(b"\x04")
        lines, deadline = [], time.monotonic() + timeout
        while True:
            while b"\r\n" in self.buf:
                line, self.buf = self.buf.split(b"\r\n", 1)
                lines.append(line.decode(errors="replace"))
                if lines[-1] == "BENCH-END":
                    elapsed = time.monotonic() - t0
                    self.expect(PROMPT, 10)
                    return elapsed, lines
            if time.monotonic() > deadline:
                raise RuntimeError(f"no BENCH-END; got {lines[-5:]!r} {self.buf[-200:]!r}")
            # returns as soon as a byte is there (no busy polling: the host has few cores)
            self.buf += self.port.read(1)

    def close(self):
        self.port.close()


def attach(board: Board, timeout: float = 30) -> Console:
    """The console of a board started paused, attached before it runs; it is then resumed
    and run to the REPL's prompt."""
    con = Console(board.uart("console"))
    if not board.wait_uart_connected(timeout=10):
        raise RuntimeError("console client did not attach")
    board.resume()
    con.expect(BANNER, timeout)
    con.expect(PROMPT, timeout)
    return con


def qemu_path() -> str:
    return subprocess.run(["bash", str(TOP / "scripts/build-qemu.sh"), "--print"],
                          capture_output=True, text=True, check=True).stdout.strip()


def firmware_path(fw_dir: Path, board: str, build: str) -> Path:
    return fw_dir / f"build-{BOARDS[board]}{BUILDS[build]}" / "firmware.elf"


def run_guest(elf: Path, qemu: str, machine: str, deterministic: bool, chunk: int,
              total: int, wall_ms: int) -> dict:
    """Boot, run the guest program; {algo: (seconds per operation, result hex)}."""
    board = Board(elf, emulator=qemu, machine=machine, deterministic=deterministic,
                  icount_shift=ICOUNT_SHIFT)
    board.start(paused=True)
    try:
        con = attach(board)
        setup = SETUP.format(chunk=chunk, total=total)
        con.paste(setup, timeout=60)
        base = min(con.paste("print('BENCH' + '-END')", 30)[0] for _ in range(3))
        res = {}
        for algo in ALGOS:
            n = 0
            while True:
                # under -icount one run, timed by the guest (its microseconds count
                # instructions); else repetitions doubled until the host's clock has
                # seen wall_ms of them (the guest's clock loses SysTick interrupts when
                # the host is loaded)
                elapsed, lines = con.paste(f"bench('{algo}', {n})\nprint('BENCH' + '-END')", 600)
                text = "\n".join(lines)
                if "Traceback" in text:
                    raise RuntimeError(f"{elf}: the guest program failed:\n{text}")
                m = re.search(r"^BENCH (\S+) (\d+) (\d+) ([0-9a-f]+)$", text, re.M)
                runs, us, digest = int(m.group(2)), int(m.group(3)), m.group(4)
                if deterministic:
                    res[algo] = (us / 1e6, digest)
                    break
                if elapsed - base >= wall_ms / 1000:
                    res[algo] = ((elapsed - base) / runs, digest)
                    break
                n = 2 * n + 1
        con.close()
    finally:
        board.stop()
    return res


def measure(fw_dir: Path, qemu: str, boards, builds, chunk: int, total: int,
            wall_ms: int) -> dict:
    exp = expected(chunk, total)
    kib = total / 1024
    rows = []
    for board in boards:
        for build in builds:
            elf = firmware_path(fw_dir, board, build)
            if not elf.exists():
                raise SystemExit(f"bench: {elf} missing; build it with 'make -C firmware "
                                 f"BOARD={BOARDS[board]} HW_CRYPTO={int(build == 'HW')}'")
            icnt = run_guest(elf, qemu, BOARDS[board], True, chunk, total, 0)
            wall = (run_guest(elf, qemu, BOARDS[board], False, chunk, total, wall_ms)
                    if wall_ms > 0 else {a: (0, r) for a, (_, r) in icnt.items()})
            for algo in ALGOS:
                secs, res = wall[algo]
                isecs, ires = icnt[algo]
                instr = isecs * 1e9 / (1 << ICOUNT_SHIFT)
                rows.append({
                    "board": board, "build": build, "algo": algo, "bytes": total,
                    "kib_per_s": round(kib / secs, 1) if secs > 0 else None,
                    "instr_per_kib": round(instr / kib),
                    "ok": res == exp[algo] and ires == exp[algo],
                    "result": res, "expected": exp[algo],
                })
    return {"rows": rows, "bytes": total, "chunk": chunk, "wall_ms": wall_ms,
            "icount_shift": ICOUNT_SHIFT, "machine": machine_facts()}


def machine_facts() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release(),
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def side_by_side(result: dict, key: str, names, width: int, kib_width: int = 10,
                 digits: int = 1) -> str:
    """HW and SW builds side by side per board and result[key] (in the order of names):
    wall KiB/s, instructions per KiB, and the ratios; WRONG where a result was."""
    rows = {(r["board"], r["build"], r[key]): r for r in result["rows"]}
    boards = sorted({r["board"] for r in result["rows"]})
    lines = [f"{'board':5} {key:{width}} {'HW KiB/s':>{kib_width}} {'SW KiB/s':>{kib_width}} "
             f"{'HW/SW wall':>10} {'HW instr/KiB':>13} {'SW instr/KiB':>13} {'SW/HW instr':>11} ok"]
    for board in boards:
        for name in names:
            hw, sw = rows.get((board, "HW", name)), rows.get((board, "SW", name))
            if not hw and not sw:
                continue

            def f(r, k):
                return f"{r[k]:.0f}" if r and r[k] is not None else "-"
            ratio_w = (f"{hw['kib_per_s'] / sw['kib_per_s']:.2f}x"
                       if hw and sw and hw["kib_per_s"] and sw["kib_per_s"] else "-")
            ratio_i = (f"{sw['instr_per_kib'] / hw['instr_per_kib']:.{digits}f}x"
                       if hw and sw and hw["instr_per_kib"] else "-")
            ok = all(r["ok"] for r in (hw, sw) if r)
            lines.append(f"{board:5} {name:{width}} {f(hw, 'kib_per_s'):>{kib_width}} "
                         f"{f(sw, 'kib_per_s'):>{kib_width}} {ratio_w:>10} "
                         f"{f(hw, 'instr_per_kib'):>13} {f(sw, 'instr_per_kib'):>13} "
                         f"{ratio_i:>11} {'ok' if ok else 'WRONG'}")
    return "\n".join(lines)


def table(result: dict) -> str:
    """HW and SW side by side: wall KiB/s, instructions per KiB, and the ratios."""
    return side_by_side(result, "algo", ALGOS, 12)


def plot_side_by_side(result: dict, path: Path, key: str, names, titles, suptitle: str,
                      log: bool = True, width: float = 14) -> None:
    """Two bar charts (wall KiB/s, instructions per KiB), HW and SW bars per board and
    result[key] (in the order of names)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    rows = {(r["board"], r["build"], r[key]): r for r in result["rows"]}
    labels = [(b, n) for b in sorted({r["board"] for r in result["rows"]}) for n in names
              if (b, "HW", n) in rows or (b, "SW", n) in rows]
    fig, axes = plt.subplots(1, 2, figsize=(width, 6))
    for ax, figure, title in zip(axes, ("kib_per_s", "instr_per_kib"), titles):
        for i, build in enumerate(("HW", "SW")):
            vals = [(rows.get((b, build, n)) or {}).get(figure) or 0 for b, n in labels]
            ax.barh([y + 0.4 * i for y in range(len(labels))], vals, height=0.4, label=build)
        ax.set_yticks([y + 0.2 for y in range(len(labels))], [f"{b} {n}" for b, n in labels])
        if log:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
        ax.set_title(title)
        ax.legend()
    fig.suptitle(suptitle)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot(result: dict, path: Path) -> None:
    plot_side_by_side(result, path, "algo", ALGOS,
                      ("wall KiB/s (higher is better)",
                       "guest instructions per KiB (lower is better)"),
                      f"crypto over {result['bytes'] // 1024} KiB, HW vs SW firmware builds")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware-dir", type=Path, default=TOP / "firmware",
                    help="where the build-<board>[-swcrypto] directories are")
    ap.add_argument("--qemu", help="qemu-system-arm (default: scripts/build-qemu.sh --print)")
    ap.add_argument("--boards", default="F417,F439")
    ap.add_argument("--builds", default="HW,SW")
    ap.add_argument("--kib", type=int, default=64, help="KiB per operation")
    ap.add_argument("--wall-ms", type=int, default=300,
                    help="repeat each operation for at least this long for the wall figure "
                         "(0: instruction counts only)")
    ap.add_argument("--quick", action="store_true", help="2 KiB, 20 ms of repetitions")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--png", type=Path, help="plot the figures here")
    args = ap.parse_args(argv)
    total, wall_ms = (2048, 20) if args.quick else (args.kib * 1024, args.wall_ms)
    chunk = min(total, 16384)
    result = measure(args.firmware_dir, args.qemu or qemu_path(), args.boards.split(","),
                     args.builds.split(","), chunk, total, wall_ms)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.png:
        args.png.parent.mkdir(parents=True, exist_ok=True)
        plot(result, args.png)
    return 0 if all(r["ok"] for r in result["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
