"""The whole machine saved and restored mid-work (Board.save_state, Board(restore=...)):
QEMU's migration of every model we wrote, checked by what the firmware computes after the
round trip. The board is stopped at an arbitrary instruction inside a loop that feeds the
HASH and CRYP blocks (hashlib SHA-1/MD5 and cryptolib AES-CBC on the hardware), saved to a
file, that QEMU quits, a new one starts from the file and the loop finishes: its digests and
ciphertext must be the host's. A network peer cannot follow (its socket belonged to the old
QEMU process), so the round trip is checked on the board's own work."""
import hashlib
import re
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lab_firmware import PROMPT, boot

ROUNDS = 30000
KEY, IV = bytes(range(16)), bytes(range(16, 32))

LOOP = f"""
import hashlib, cryptolib
h, m = hashlib.sha1(), hashlib.md5()
aes = cryptolib.aes({KEY!r}, 2, {IV!r})
c = hashlib.sha256()
for i in range({ROUNDS}):
    chunk = bytes([i & 0xFF]) * 64 + b'%05d' % i * 3
    h.update(chunk)
    m.update(chunk[:50])
    c.update(aes.encrypt(chunk[:64]))
    if i == 10:
        print('LOOP RUNNING')
print('SHA1', h.digest().hex())
print('MD5', m.digest().hex())
print('AES', c.digest().hex())
"""


def expected() -> dict:
    h, m, c = hashlib.sha1(), hashlib.md5(), hashlib.sha256()
    enc = Cipher(algorithms.AES(KEY), modes.CBC(IV)).encryptor()
    for i in range(ROUNDS):
        chunk = bytes([i & 0xFF]) * 64 + (b"%05d" % i) * 3
        h.update(chunk)
        m.update(chunk[:50])
        c.update(enc.update(chunk[:64]))
    return {"SHA1": h.hexdigest(), "MD5": m.hexdigest(),
            "AES": c.hexdigest()}


def results(text: str) -> dict:
    return {line.split()[0]: line.split()[1] for line in text.splitlines()
            if line.split()[:1] in (["SHA1"], ["MD5"], ["AES"])}


@pytest.fixture
def started():
    boards = []
    yield boards
    for board, con in boards:
        con.close()
        board.stop()


def test_machine_saved_mid_crypto_resumes_with_the_right_results(firmware_elf, qemu,
                                                                 started, tmp_path):
    board, con = boot(firmware_elf, qemu, config={"role": "repl"})
    started.append((board, con))
    con.expect(PROMPT, 30)
    con.paste_start(LOOP)
    con.expect(b"LOOP RUNNING", 30)
    time.sleep(0.2)                               # somewhere further inside the loop
    state = board.save_state(tmp_path / "board.state")
    assert board.engine.status() != "running"
    con.quiet_for(0.3)
    assert not re.search(rb"\nSHA1 [0-9a-f]{40}", con.seen), "the loop ended before the save"
    board.stop()
    assert state.stat().st_size > 100_000

    board2, con2 = boot(firmware_elf, qemu, config={"role": "repl"}, restore=state)
    started.append((board2, con2))
    out = con2.expect(PROMPT, 60).decode(errors="replace")
    got = results(out)
    assert got == expected(), out
    assert "LOOP RUNNING" not in out              # the second board did not start over
    # and the restored board keeps working: the hardware blocks answer new work
    assert con2.run("hashlib.sha1(b'abc').digest().hex()") == \
        f"'{hashlib.sha1(b'abc').hexdigest()}'\n"


def test_restore_from_a_missing_file_is_one_clear_error(firmware_elf, tmp_path):
    from host_tools.board import Board, BoardError

    with pytest.raises(BoardError, match="no saved machine state .*Board.save_state"):
        Board(firmware_elf, restore=tmp_path / "none.state").start()
