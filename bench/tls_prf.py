#!/usr/bin/env python3
"""Guest instructions in the TLS 1.2 PRF: the PRF calls of one full handshake, and single
HMACs of the PRF's sizes, on the firmware builds given.

The board runs under ``-icount shift=7`` (every guest instruction is 128 ns of virtual
time, so the guest's ticks_us counts instructions). A full TLS 1.2 handshake with the
extended master secret calls the PRF four times (mbedTLS's ssl_tls.c): the master secret
(48 bytes), the key block (40 bytes for AES-128-GCM, 72 for AES-256-GCM), the client's and
the server's Finished (12 bytes each); each call is 1 + 2 x ceil(bytes / hash size) HMACs,
16 per handshake with SHA-256 and 14 with SHA-384. The guest makes the same four calls
through tls.prf (mbedtls_ssl_tls_prf, as the handshake calls it) --reps times and prints
the outputs, which the host checks against its own PRF (RFC 5246 5), so a benchmark of a
wrong result fails loudly. The figures include MicroPython's cost of the calls (the same
in every build). Single HMACs: tls.hmac (mbedtls_md_hmac, the PRF's HMAC) and
stm32crypto.hmac (the HASH driver's hash_hmac alone, where the chip has the hash).

    python3 bench/tls_prf.py                     # the four builds in firmware/build-*
    python3 bench/tls_prf.py --json bench/results/tls_prf.json
    python3 bench/tls_prf.py F439-HW=old.elf F439-HW-new=firmware/build-stm324x9i-eval/firmware.elf
    python3 bench/tls_prf.py --quick             # one repetition: structure only (tests)
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from bench.crypto import (BOARDS, BUILDS, ICOUNT_SHIFT, attach, firmware_path,  # noqa: E402
                          qemu_path)
from host_tools.board import Board  # noqa: E402

NS_PER_INSN = 2 ** ICOUNT_SHIFT
# The handshake's PRF calls: label, secret, seed, bytes (seed and secret lengths of an
# ECDHE P-256 handshake; the seed of the key block is the two randoms).
SHAPES = {"sha256": 32, "sha384": 48}
KEY_BLOCK = {"sha256": 256, "sha384": 256}     # ssl_tls.c's keyblk[256]
HMAC_MSGS = (32, 79, 109)       # A(i); A(i) + "client finished" + hash; + key expansion

GUEST = r"""
import time, tls
try:
    import stm32crypto
except ImportError:
    stm32crypto = None
PMS = bytes(range(32))
MS = bytes(range(100, 148))
R = bytes(range(64))
def handshake_prf(md, n):
    h = bytes(range(200, 200 + {shapes}[md]))
    k = {key_block}[md]
    t = time.ticks_us()
    for _ in range(n):
        a = tls.prf(md, PMS, 'extended master secret', h, 48)
        b = tls.prf(md, MS, 'key expansion', R, k)
        c = tls.prf(md, MS, 'client finished', h, 12)
        d = tls.prf(md, MS, 'server finished', h, 12)
    t = time.ticks_diff(time.ticks_us(), t)
    print('PRF', md, n, t, (a + b + c + d).hex())
def one_hmac(fn, md, mlen, n):
    m = bytes(range(mlen))
    t = time.ticks_us()
    for _ in range(n):
        mac = fn(md, MS, m)
    t = time.ticks_diff(time.ticks_us(), t)
    print('HMAC', md, mlen, n, t, mac.hex())
def hw_hmac(md, k, m):
    return stm32crypto.hmac(k, m, md)
def counts():
    print('COUNTS', tls.hmac_counts() if hasattr(tls, 'hmac_counts') else None)
"""


def host_prf(md: str, secret: bytes, label: bytes, seed: bytes, n: int) -> bytes:
    seed = label + seed
    a, out = seed, b""
    while len(out) < n:
        a = hmac.new(secret, a, md).digest()
        out += hmac.new(secret, a + seed, md).digest()
    return out[:n]


def expected_prf(md: str) -> str:
    pms, ms, r = bytes(range(32)), bytes(range(100, 148)), bytes(range(64))
    h = bytes(range(200, 200 + SHAPES[md]))
    return (host_prf(md, pms, b"extended master secret", h, 48)
            + host_prf(md, ms, b"key expansion", r, KEY_BLOCK[md])
            + host_prf(md, ms, b"client finished", h, 12)
            + host_prf(md, ms, b"server finished", h, 12)).hex()


def run(elf: Path, qemu: str, machine: str, reps: int) -> dict:
    board = Board(elf, emulator=qemu, machine=machine, deterministic=True,
                  icount_shift=ICOUNT_SHIFT)
    board.start(paused=True)
    res = {"prf": {}, "hmac": {}}
    try:
        con = attach(board)
        con.paste(GUEST.format(shapes=SHAPES, key_block=KEY_BLOCK)
                  + "print('BENCH' + '-END')", 60)

        def guest(code: str) -> str:
            _, lines = con.paste(code + "\nprint('BENCH' + '-END')", 600)
            text = "\n".join(lines)
            if "Traceback" in text:
                raise RuntimeError(f"{elf}: the guest program failed:\n{text}")
            return text

        c0 = guest("counts()")
        for md in SHAPES:
            m = re.search(r"^PRF (\S+) (\d+) (\d+) ([0-9a-f]+)$",
                          guest(f"handshake_prf('{md}', {reps})"), re.M)
            if m.group(4) != expected_prf(md):
                raise RuntimeError(f"{elf}: wrong PRF output for {md}")
            res["prf"][md] = int(m.group(3)) * 1000 / NS_PER_INSN / reps
        c1 = guest("counts()")
        res["hmac_counts"] = [re.search(r"^COUNTS (.*)$", c, re.M).group(1) for c in (c0, c1)]
        # hash_hmac alone: HMAC-SHA-256 on the F439's HASH (stm32crypto in HW builds)
        hw = ("stm32crypto" in guest("print(stm32crypto and 'stm32crypto')")
              and machine == "stm324x9i-eval")
        for fn, mds in (("tls.hmac", SHAPES), ("hw_hmac", ("sha256",) if hw else ())):
            for md in mds:
                for mlen in HMAC_MSGS:
                    text = guest(f"one_hmac({fn}, '{md}', {mlen}, {reps * 4})")
                    m = re.search(r"^HMAC \S+ \d+ (\d+) (\d+) ([0-9a-f]+)$", text, re.M)
                    want = hmac.new(bytes(range(100, 148)), bytes(range(mlen)), md).hexdigest()
                    if m.group(3) != want:
                        raise RuntimeError(f"{elf}: wrong HMAC {fn} {md} {mlen}")
                    res["hmac"][f"{fn} {md} {mlen}"] = (int(m.group(2)) * 1000 / NS_PER_INSN
                                                        / int(m.group(1)))
        con.close()
    finally:
        board.stop()
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs="*", metavar="NAME=ELF",
                    help="firmware to measure; NAME starts with F417 or F439 (the machine); "
                         "default: F417-HW, F417-SW, F439-HW, F439-SW from firmware/build-*")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="one repetition")
    ap.add_argument("--qemu", default=None)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    qemu = args.qemu or qemu_path()
    reps = 1 if args.quick else args.reps
    specs = args.builds or [f"{b}-{v}={firmware_path(TOP / 'firmware', b, v)}"
                            for b in BOARDS for v in BUILDS]
    results = {}
    for spec in specs:
        name, elf = spec.split("=", 1)
        machine = BOARDS["F439"] if name.startswith("F439") else BOARDS["F417"]
        results[name] = r = run(Path(elf), qemu, machine, reps)
        print(f"{name}: hmac_counts before/after the PRF runs: {r['hmac_counts']}")
        for md, insns in r["prf"].items():
            print(f"{name}: handshake PRF {md}: {insns:,.0f} instructions")
        for key, insns in r["hmac"].items():
            print(f"{name}: HMAC {key} bytes: {insns:,.0f} instructions")
    if args.json:
        args.json.write_text(json.dumps({"icount_shift": ICOUNT_SHIFT, "reps": reps,
                                         "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
