"""The HASH's busy time on the emulated CPU (tests/baremetal/hash_timing.c).

In a normal run the HASH model finishes within the register access that starts the work:
no timer, BUSY never seen, DCIS there on the first read after DCAL (the emulator would
otherwise spend far more host time on the timer than on the hash). Under -icount
(--deterministic) it holds BUSY for RM0090's cycle counts in virtual time, and what the
guest sees is the same on every run. The qtests (test_hash.py) cover the timed behaviour
register by register under qtest's clock."""
import hashlib
import re

import pytest

from host_tools.board import Board
from lab_firmware import wait_console

DCIS, BUSY = 2, 8


@pytest.fixture(scope="module")
def program(baremetal):
    return baremetal / "hash_timing.elf"


def run(qemu, program, **options) -> dict:
    with Board(program, emulator=qemu, **options) as board:
        out = wait_console(board, "\ndone")
    fields = {
        "busy_feed": int(re.search(r"hash busy during feed: (\d+)", out).group(1)),
        "sr": int(re.search(r"hash sr after dcal: 0x([0-9a-f]+)", out).group(1), 16),
        "polls": int(re.search(r"hash polls until dcis: (\d+)", out).group(1)),
        "digest": "".join(re.search(r"sha1:((?: [0-9a-f]{8}){5})", out).group(1).split()),
    }
    assert fields["digest"] == hashlib.sha1(b"a" * 256).hexdigest(), out
    return fields


def test_hash_takes_no_time_in_a_normal_run(qemu, program):
    r = run(qemu, program)
    assert r["busy_feed"] == 0
    assert r["sr"] & (DCIS | BUSY) == DCIS, hex(r["sr"])
    assert r["polls"] == 0


def test_hash_busy_time_is_charged_and_reproducible_under_icount(qemu, program):
    first = run(qemu, program, deterministic=True)
    assert first["sr"] & (DCIS | BUSY) == BUSY, hex(first["sr"])   # still computing
    assert 0 < first["polls"] < 100          # 2 blocks of 82 cycles at 168 MHz: ~1 us
    assert run(qemu, program, deterministic=True) == first
