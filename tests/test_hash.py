"""HASH processor (RM0090 section 25) through qtest, against hashlib/hmac and CAVP/RFC vectors.

stm324xg-eval carries the STM32F417 block (SHA-1, MD5, HMAC); stm324x9i-eval the STM32F439
block (adds SHA-224/256, HASH_HR0..7 at 0x310, HASH_CSR0..53). The guest side here follows
the manual's procedures (and ST's HAL): INIT, words to DIN, NBLW then DCAL, wait for DCIS.
"""
import hashlib
import hmac
import random
import re
import struct
from pathlib import Path

import pytest

from lab_qtest import QTest, QTestError

HASH = 0x50060400
CR, DIN, STR, IMR, SR = HASH, HASH + 0x04, HASH + 0x08, HASH + 0x20, HASH + 0x24
HR = HASH + 0x0C                      # HR0..HR4, both blocks
HR_V2 = HASH + 0x310                  # HASH_HR0..7, STM32F437/439 only
CSR0 = HASH + 0xF8

INIT, DMAE, MODE, ALGO0, LKEY, ALGO1 = 1 << 2, 1 << 3, 1 << 6, 1 << 7, 1 << 16, 1 << 18
DT32, DT16, DT8, DT1 = 0 << 4, 1 << 4, 2 << 4, 3 << 4
NBW_SHIFT, DINNE = 8, 1 << 12
DCAL = 1 << 8
DINIE, DCIE = 1, 2
DINIS, DCIS, DMAS, BUSY = 1, 2, 4, 8
HASH_RNG_IRQ = 80
STEP_NS = 5_000                       # longer than any computation (3 blocks, 1.5 us)

ALGOS = {"sha1": 0, "md5": ALGO0, "sha224": ALGO1, "sha256": ALGO1 | ALGO0}
DIGEST_WORDS = {"sha1": 5, "md5": 4, "sha224": 7, "sha256": 8}
V1, V2 = "stm324xg-eval", "stm324x9i-eval"
BOARDS = [V1, V2]
BOARD_ALGOS = {V1: ["sha1", "md5"], V2: ["sha1", "md5", "sha224", "sha256"]}
CSR_COUNT = {V1: 51, V2: 54}
VECTORS = Path(__file__).parent / "vectors" / "hash"


# --- fixtures ---------------------------------------------------------------------------
_boards = {}


@pytest.fixture(scope="module")
def boards(qemu):
    """One QEMU per board for the whole module (many vectors, about 0.15 ms per access)."""
    def get(name):
        if name not in _boards:
            _boards[name] = QTest(qemu, machine=name)
            _boards[name].enable_clock("hash")
        return _boards[name]

    yield get
    for q in _boards.values():
        alive = q.alive()
        q.close()
        assert alive, "QEMU died"
    _boards.clear()


@pytest.fixture(params=BOARDS)
def board(request, boards):
    return request.param, boards(request.param)


@pytest.fixture
def v1(boards):
    return boards(V1)


@pytest.fixture
def v2(boards):
    return boards(V2)


@pytest.fixture
def fresh(qemu, request):
    """A board of its own, for tests that watch the log or the IRQ line."""
    made = []

    def make(machine):
        q = QTest(qemu, machine=machine)
        q.enable_clock("hash")
        made.append(q)
        return q
    yield make
    for q in made:
        alive = q.alive()
        q.close()
        assert alive, "QEMU died"


# --- guest-side driver ------------------------------------------------------------------
def batch(qts, lines):
    """Send qtest commands back to back and collect the replies (a DIN burst)."""
    for start in range(0, len(lines), 256):
        chunk = lines[start:start + 256]
        qts.q.sock.sendall(("\n".join(chunk) + "\n").encode())
        for line in chunk:
            while True:
                reply = qts.q.readline(qts.timeout)
                if reply.startswith("IRQ "):
                    _, what, num = reply.split()
                    qts.irq_levels[int(num)] = what == "raise"
                    qts.irq_events.append((int(num), what == "raise"))
                    continue
                if not reply.startswith("OK"):
                    raise QTestError(f"{line!r} -> {reply!r}")
                break


def write_din(qts, words):
    batch(qts, [f"writel 0x{DIN:x} 0x{w & 0xFFFFFFFF:x}" for w in words])


def le_words(data: bytes):
    """Bytes as the CPU writes them with DATATYPE=8-bit: little-endian words."""
    data = data + bytes(-len(data) % 4)
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


def nblw(data: bytes) -> int:
    return (len(data) % 4) * 8


def feed(qts, data: bytes):
    write_din(qts, le_words(data))


def dcal(qts, data_len_bits: int):
    qts.writel(STR, data_len_bits)
    qts.writel(STR, data_len_bits | DCAL)


def wait_idle(qts):
    qts.clock_step(STEP_NS)
    sr = qts.readl(SR)
    assert not sr & BUSY, f"still BUSY, SR={sr:#x}"
    return sr


def read_digest(qts, algo):
    n = DIGEST_WORDS[algo]
    base = HR_V2 if n > 5 else HR
    return b"".join(struct.pack(">I", qts.readl(base + 4 * i)) for i in range(n))


def hash_on_board(qts, algo, msg, cr_extra=0):
    qts.writel(CR, ALGOS[algo] | DT8 | cr_extra | INIT)
    feed(qts, msg)
    dcal(qts, nblw(msg))
    sr = wait_idle(qts)
    assert sr & DCIS, f"no DCIS after DCAL, SR={sr:#x}"
    return read_digest(qts, algo)


def hmac_on_board(qts, algo, key, msg):
    lkey = LKEY if len(key) > 64 else 0
    qts.writel(CR, ALGOS[algo] | DT8 | MODE | lkey | INIT)
    feed(qts, key)                                 # inner key phase
    dcal(qts, nblw(key))
    assert not wait_idle(qts) & DCIS               # no digest yet
    feed(qts, msg)                                 # message phase
    dcal(qts, nblw(msg))
    assert not wait_idle(qts) & DCIS
    feed(qts, key)                                 # outer key phase
    dcal(qts, nblw(key))
    assert wait_idle(qts) & DCIS
    return read_digest(qts, algo)


def new_log(qts, before: int) -> str:
    return qts.log()[before:]


# --- vector files -----------------------------------------------------------------------
def read_vectors(name):
    entries, cur = [], {}
    for line in (VECTORS / name).read_text().splitlines():
        m = re.match(r"^(Len|Msg|MD|Key) = ([0-9a-fA-F]*)$", line.strip())
        if m:
            cur[m[1]] = m[2]
            if m[1] == "MD":
                length = int(cur["Len"]) // 8 if "Len" in cur and "Key" not in cur else None
                msg = bytes.fromhex(cur["Msg"])
                if length is not None:
                    msg = msg[:length]
                entries.append((bytes.fromhex(cur.get("Key", "")), msg,
                                bytes.fromhex(cur["MD"])))
                cur = {}
    assert entries, name
    return entries


HASH_FILES = [
    ("sha1", "SHA1ShortMsg.rsp"), ("sha1", "SHA1LongMsg-first8.rsp"),
    ("md5", "rfc-1321.txt"),
    ("sha224", "SHA224ShortMsg.rsp"), ("sha224", "SHA224LongMsg-first8.rsp"),
    ("sha256", "SHA256ShortMsg.rsp"), ("sha256", "SHA256LongMsg-first8.rsp"),
]
HMAC_FILES = [
    ("sha1", "rfc-2202-sha1.txt"), ("md5", "rfc-2202-md5.txt"),
    ("sha224", "rfc-4231-sha224.txt"), ("sha256", "rfc-4231-sha256.txt"),
]


def board_cases(files):
    return [pytest.param(b, algo, f, id=f"{b}-{f}")
            for b in BOARDS for algo, f in files if algo in BOARD_ALGOS[b]]


# --- known answers ----------------------------------------------------------------------
@pytest.mark.parametrize("machine,algo,name", board_cases(HASH_FILES))
def test_nist_and_rfc_hash_vectors(boards, machine, algo, name):
    qts = boards(machine)
    entries = read_vectors(name)
    lengths = {len(m) % 4 for _, m, _ in entries}
    if "Short" in name:
        assert lengths == {0, 1, 2, 3}          # every NBLW value is exercised
    bad = [(len(m), d.hex()) for _, m, d in entries if hash_on_board(qts, algo, m) != d]
    assert not bad, f"{len(bad)}/{len(entries)} wrong: {bad[:3]}"


@pytest.mark.parametrize("machine,algo,name", board_cases(HMAC_FILES))
def test_rfc_hmac_vectors(boards, machine, algo, name):
    qts = boards(machine)
    entries = read_vectors(name)
    assert any(len(k) > 64 for k, _, _ in entries)   # LKEY cases are in the file
    bad = [(len(k), len(m)) for k, m, d in entries if hmac_on_board(qts, algo, k, m) != d]
    assert not bad, f"wrong for (key, msg) lengths {bad}"


# --- random messages against hashlib / hmac -------------------------------------------------
@pytest.mark.parametrize("machine,algo", [(b, a) for b in BOARDS for a in BOARD_ALGOS[b]])
def test_random_messages_match_hashlib(boards, machine, algo):
    qts = boards(machine)
    rng = random.Random(f"hash-{machine}-{algo}")
    for _ in range(200):
        msg = rng.randbytes(rng.randint(0, 300))
        assert hash_on_board(qts, algo, msg) == hashlib.new(algo, msg).digest(), len(msg)


@pytest.mark.parametrize("machine,algo", [(b, a) for b in BOARDS for a in BOARD_ALGOS[b]])
def test_random_hmac_match_python_hmac(boards, machine, algo):
    qts = boards(machine)
    rng = random.Random(f"hmac-{machine}-{algo}")
    for _ in range(150):
        key = rng.randbytes(rng.randint(1, 150))
        msg = rng.randbytes(rng.randint(0, 300))
        expected = hmac.new(key, msg, algo).digest()
        assert hmac_on_board(qts, algo, key, msg) == expected, (len(key), len(msg))


def test_message_lengths_around_block_boundaries(board):
    """55/56/63/64/65 bytes: padding in one or two blocks, a full block held for DCAL."""
    machine, qts = board
    for algo in BOARD_ALGOS[machine]:
        for n in (55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129):
            msg = bytes(range(n))
            assert hash_on_board(qts, algo, msg) == hashlib.new(algo, msg).digest(), (algo, n)


def test_hmac_key_lengths_around_the_block_size(board):
    """A 64-byte key is used as is (LKEY=0); 65 bytes and more are hashed first (LKEY=1)."""
    machine, qts = board
    for algo in BOARD_ALGOS[machine]:
        for n in (1, 3, 4, 63, 64, 65, 68, 129):
            key = bytes((n + i) & 0xFF for i in range(n))
            assert hmac_on_board(qts, algo, key, b"m" * n) == \
                hmac.new(key, b"m" * n, algo).digest(), (algo, n)


# --- context swap (RM0090 25.3.6) ---------------------------------------------------------
def save_context(qts, machine, hmac_mode):
    sr = wait_idle(qts)
    assert sr & DINIS, "the manual saves only once DINIS=1"
    n = CSR_COUNT[machine] if hmac_mode else 38
    return (qts.readl(IMR), qts.readl(STR), qts.readl(CR),
            [qts.readl(CSR0 + 4 * i) for i in range(n)])


def restore_context(qts, ctx):
    imr, str_, cr, csrs = ctx
    qts.writel(IMR, imr)
    qts.writel(STR, str_)
    qts.writel(CR, cr)
    qts.writel(CR, cr | INIT)
    batch(qts, [f"writel 0x{CSR0 + 4 * i:x} 0x{v:x}" for i, v in enumerate(csrs)])


SWAP_CASES = [(V1, "sha1", "md5"), (V1, "md5", "sha1"), (V2, "sha1", "sha256"),
              (V2, "sha256", "md5"), (V2, "sha224", "sha256"), (V2, "md5", "sha224")]


@pytest.mark.parametrize("machine,algo_a,algo_b", SWAP_CASES)
def test_context_swap_interleaves_two_messages(boards, machine, algo_a, algo_b):
    qts = boards(machine)
    msg_a = bytes((7 * i) & 0xFF for i in range(64 * 3 + 13))
    msg_b = b"interrupting message " * 9
    for blocks_before_save in (1, 2):
        head, tail = msg_a[:64 * blocks_before_save], msg_a[64 * blocks_before_save:]
        qts.writel(CR, ALGOS[algo_a] | DT8 | INIT)
        feed(qts, head)
        ctx = save_context(qts, machine, False)
        assert hash_on_board(qts, algo_b, msg_b) == hashlib.new(algo_b, msg_b).digest()
        restore_context(qts, ctx)
        feed(qts, tail)
        dcal(qts, nblw(tail))
        assert wait_idle(qts) & DCIS
        assert read_digest(qts, algo_a) == hashlib.new(algo_a, msg_a).digest()


@pytest.mark.parametrize("machine,algo", [(V1, "sha1"), (V1, "md5"), (V2, "sha256"),
                                          (V2, "sha224")])
@pytest.mark.parametrize("where", ["message", "outer-key"])
def test_context_swap_in_hmac(boards, machine, algo, where):
    qts = boards(machine)
    key_a = bytes(range(100, 100 + 20))
    key_b = bytes(range(1, 90))                     # long key: LKEY
    msg_a = b"first HMAC message, interrupted " * 4 + b"xyz"
    msg_b = b"second one, run to the end"
    qts.writel(CR, ALGOS[algo] | DT8 | MODE | INIT)
    feed(qts, key_a)
    dcal(qts, nblw(key_a))
    wait_idle(qts)
    if where == "message":
        feed(qts, msg_a[:64])
        rest = msg_a[64:]
    else:
        feed(qts, msg_a)
        dcal(qts, nblw(msg_a))
        wait_idle(qts)
    ctx = save_context(qts, machine, True)
    assert len(ctx[3]) == CSR_COUNT[machine]
    assert hmac_on_board(qts, algo, key_b, msg_b) == hmac.new(key_b, msg_b, algo).digest()
    restore_context(qts, ctx)
    if where == "message":
        feed(qts, rest)
        dcal(qts, nblw(rest))
        wait_idle(qts)
    feed(qts, key_a)
    dcal(qts, nblw(key_a))
    assert wait_idle(qts) & DCIS
    assert read_digest(qts, algo) == hmac.new(key_a, msg_a, algo).digest()


# --- data types (RM0090 25.3.2) -----------------------------------------------------------
def swap_ref(word, datatype):
    if datatype == DT16:
        return ((word << 16) | (word >> 16)) & 0xFFFFFFFF
    if datatype == DT8:
        return int.from_bytes(word.to_bytes(4, "little"), "big")
    if datatype == DT1:
        return int(f"{word:032b}"[::-1], 2)
    return word


@pytest.mark.parametrize("datatype", [DT32, DT16, DT8, DT1], ids=["32", "16", "8", "1"])
def test_datatype_swapping(board, datatype):
    machine, qts = board
    rng = random.Random(datatype)
    for algo in BOARD_ALGOS[machine]:
        for nwords in (1, 5, 16, 17, 40):
            words = [rng.getrandbits(32) for _ in range(nwords)]
            core_bytes = b"".join(struct.pack(">I", swap_ref(w, datatype)) for w in words)
            qts.writel(CR, ALGOS[algo] | datatype | INIT)
            write_din(qts, words)
            dcal(qts, 0)
            assert wait_idle(qts) & DCIS
            assert read_digest(qts, algo) == hashlib.new(algo, core_bytes).digest(), \
                (algo, nwords)


def test_nblw_counts_bits_of_the_last_word_as_the_core_sees_it(v1):
    """With 32-bit data, NBLW=8 keeps bits 31:24 of the last word: one message byte."""
    v1.writel(CR, DT32 | INIT)
    write_din(v1, [0x61626364, 0x65AABBCC])
    dcal(v1, 8)
    wait_idle(v1)
    assert read_digest(v1, "sha1") == hashlib.sha1(b"abcde").digest()


# --- flags, counters and the interrupt ----------------------------------------------------
@pytest.mark.parametrize("machine", BOARDS)
def test_reset_values(fresh, machine):
    q = fresh(machine)
    assert q.readl(CR) == 0
    assert q.readl(SR) == DINIS
    assert (q.readl(IMR), q.readl(STR)) == (0, 0)


def test_flags_follow_the_fifo_and_the_core(board):
    machine, qts = board
    qts.writel(SR, 0)
    qts.writel(CR, DT8 | INIT)
    assert qts.readl(SR) == DINIS                       # empty FIFO after INIT
    assert qts.readl(CR) & (0xF << NBW_SHIFT | DINNE) == 0
    qts.writel(DIN, 1)
    cr, sr = qts.readl(CR), qts.readl(SR)
    assert (cr >> NBW_SHIFT) & 0xF == 1 and cr & DINNE
    assert not sr & DINIS                               # cleared by the DIN write
    write_din(qts, range(2, 15))
    assert (qts.readl(CR) >> NBW_SHIFT) & 0xF == 14
    write_din(qts, [15, 16])
    assert qts.readl(SR) & (DINIS | BUSY) == DINIS      # a full block waits in the core
    assert qts.readl(CR) & DINNE
    qts.writel(DIN, 17)                                 # the 17th word starts the block
    sr = qts.readl(SR)
    assert sr & BUSY and not sr & DINIS
    assert (qts.readl(CR) >> NBW_SHIFT) & 0xF == 1
    assert not wait_idle(qts) & DCIS
    dcal(qts, 0)
    assert qts.readl(SR) & (BUSY | DCIS) == BUSY        # the final computation takes time
    assert not qts.readl(CR) & DINNE                    # DCAL empties DIN
    assert wait_idle(qts) & DCIS
    expected = hashlib.sha1(b"".join(struct.pack("<I", w) for w in range(1, 18))).digest()
    assert read_digest(qts, "sha1") == expected
    qts.writel(SR, ~DCIS & 0xFFFFFFFF)                  # rc_w0: writing 1 keeps a flag
    assert qts.readl(SR) & (DCIS | DINIS) == DINIS
    qts.writel(CR, DT8 | INIT)
    assert qts.readl(SR) == DINIS
    assert qts.readl(SR) & DMAS == 0


def test_init_clears_dcis(v2):
    hash_on_board(v2, "sha256", b"abc")
    assert v2.readl(SR) & DCIS
    v2.writel(CR, ALGOS["sha256"] | DT8 | INIT)
    assert not v2.readl(SR) & DCIS


@pytest.mark.parametrize("machine", BOARDS)
def test_irq_on_dcis_and_dinis_through_imr(fresh, machine):
    qts = fresh(machine)
    qts.irq_intercept_in("/machine/soc/armv7m")
    qts.writel(CR, DT8 | INIT)
    assert not qts.irq_level(HASH_RNG_IRQ)              # DINIS=1 but masked
    qts.writel(IMR, DCIE)
    feed(qts, b"abc")
    dcal(qts, 24)
    assert not qts.irq_level(HASH_RNG_IRQ)              # still BUSY
    qts.clock_step(STEP_NS)
    assert qts.irq_level(HASH_RNG_IRQ)                  # DCIS with DCIE
    assert read_digest(qts, "sha1") == hashlib.sha1(b"abc").digest()
    qts.writel(SR, qts.readl(SR) & ~DCIS)               # the manual: write DCIS to 0
    assert not qts.irq_level(HASH_RNG_IRQ)
    qts.writel(IMR, DINIE)                              # DINIS is still 1
    assert qts.irq_level(HASH_RNG_IRQ)
    qts.writel(CR, DT8 | INIT)
    qts.writel(DIN, 0x12345678)                         # a DIN write clears DINIS
    assert not qts.irq_level(HASH_RNG_IRQ)
    write_din(qts, range(15))
    assert qts.irq_level(HASH_RNG_IRQ)                  # 16 words: the FIFO is free again
    qts.writel(IMR, 0)
    assert not qts.irq_level(HASH_RNG_IRQ)


# --- what only v2 has -------------------------------------------------------------------
def test_v1_refuses_sha224_and_sha256(fresh):
    qts = fresh(V1)
    # SHA-256 selection (ALGO = 11): bit 18 is reserved, bit 7 alone selects MD5
    digest = hash_on_board(qts, "md5", b"abc", cr_extra=ALGO1)
    assert digest == hashlib.md5(b"abc").digest()
    assert not qts.readl(CR) & ALGO1
    assert "reserved on STM32F415/417" in qts.log()
    # SHA-224 selection (ALGO = 10) computes SHA-1
    qts.writel(CR, ALGO1 | DT8 | INIT)
    feed(qts, b"abc")
    dcal(qts, 24)
    wait_idle(qts)
    assert read_digest(qts, "sha1") == hashlib.sha1(b"abc").digest()
    assert all(qts.readl(HR_V2 + 4 * i) == 0 for i in range(8))
    assert "only exists on STM32F437/439" in qts.log()
    before = len(qts.log())
    qts.readl(CSR0 + 4 * 51)                            # HASH_CSR51 is v2 only
    assert "no HASH_CSR51" in new_log(qts, before)
    assert qts.alive()


def test_v2_digest_registers_and_mirror(v2):
    digest = hash_on_board(v2, "sha256", b"abc")
    assert digest == hashlib.sha256(b"abc").digest()
    words = struct.unpack(">8I", digest)
    assert [v2.readl(HR + 4 * i) for i in range(5)] == list(words[:5])
    hash_on_board(v2, "sha224", b"abc")
    assert v2.readl(HR_V2 + 28) == 0                    # SHA-224 has 7 words


# --- misuse ---------------------------------------------------------------------------------
@pytest.mark.parametrize("machine", BOARDS)
def test_garbage_in_every_register_then_a_correct_hash(fresh, machine):
    qts = fresh(machine)
    rng = random.Random(machine)
    for offset in range(0, 0x400, 4):
        qts.writel(HASH + offset, rng.getrandbits(32))
        qts.readl(HASH + offset)
    for offset in (CR, STR, IMR, SR):                  # reserved bits everywhere
        qts.writel(offset, 0xFFFFFFFF)
    assert qts.alive()
    log = qts.log()
    for what in ("CR: reserved bits", "STR: reserved bits", "IMR: reserved bits",
                 "is read-only", "bad offset", "is not a saved context"):
        assert what in log, what
    qts.writel(IMR, 0)
    qts.writel(SR, 0)
    for algo in BOARD_ALGOS[machine]:
        assert hash_on_board(qts, algo, b"after garbage") == \
            hashlib.new(algo, b"after garbage").digest()
    key = b"k" * 70
    assert hmac_on_board(qts, "sha1", key, b"m") == hmac.new(key, b"m", "sha1").digest()


def test_digest_read_before_completion_is_an_error(fresh):
    qts = fresh(V1)
    qts.writel(CR, DT8 | INIT)
    feed(qts, b"abc")
    before = len(qts.log())
    qts.readl(HR)
    assert "read before the digest is ready" in new_log(qts, before)
    dcal(qts, 24)
    before = len(qts.log())
    assert qts.readl(HR) == 0                           # BUSY: not there yet
    assert "read before the digest is ready" in new_log(qts, before)
    wait_idle(qts)
    before = len(qts.log())
    assert read_digest(qts, "sha1") == hashlib.sha1(b"abc").digest()
    qts.writel(SR, 0)                                   # clearing DCIS keeps the digest
    assert read_digest(qts, "sha1") == hashlib.sha1(b"abc").digest()
    assert new_log(qts, before) == ""


def test_din_while_busy_or_after_the_digest(fresh):
    qts = fresh(V2)
    qts.writel(CR, ALGOS["sha256"] | DT8 | INIT)
    feed(qts, b"abc")
    dcal(qts, 24)
    before = len(qts.log())
    qts.writel(DIN, 0xDEADBEEF)                         # BUSY with the final digest
    qts.writel(STR, DCAL)
    log = new_log(qts, before)
    assert "while the digest is being computed" in log
    wait_idle(qts)
    assert read_digest(qts, "sha256") == hashlib.sha256(b"abc").digest()
    before = len(qts.log())
    qts.writel(DIN, 1)                                  # a new message needs INIT
    assert "without CR.INIT" in new_log(qts, before)
    assert read_digest(qts, "sha256") == hashlib.sha256(b"abc").digest()
    assert hash_on_board(qts, "sha256", b"next") == hashlib.sha256(b"next").digest()
    assert qts.alive()


def test_din_into_a_full_fifo_waits_for_the_core(v1):
    """Back-to-back DIN writes (no polling) are what the HAL does: no word may be lost."""
    msg = bytes(range(256)) * 3
    v1.writel(CR, DT8 | INIT)
    feed(v1, msg)                                       # no clock step between blocks
    dcal(v1, nblw(msg))
    wait_idle(v1)
    assert read_digest(v1, "sha1") == hashlib.sha1(msg).digest()


def test_dmae_without_a_dma_stream_leaves_cpu_access(fresh):
    """DMAE raises HASH_IN towards DMA2 stream 7 (tests/test_dma.py): DMAS reads 1
    while the DMA interface is on; with no stream enabled the CPU still hashes."""
    qts = fresh(V1)
    qts.writel(CR, DMAE | DT8 | INIT)
    assert qts.readl(CR) & DMAE
    assert qts.readl(SR) & DMAS
    assert "not modelled" not in qts.log()
    assert hash_on_board(qts, "sha1", b"cpu") == hashlib.sha1(b"cpu").digest()
