"""The Renode Python peripherals of renode/ (CRYP, HASH, FSMC, ILI9325), run outside
Renode through tests/renode_pydev.py: a stand-in for Renode's PythonPeripheral (the
script runs whole on every access in a persistent scope, with Renode 1.16's `request`).

Checked: the NIST/RFC vectors of tests/vectors/ under CPython 3 and Python 2.7 (Renode's
IronPython speaks 2.7), random cases against `cryptography`/hashlib, and the same
register-level jobs on the QEMU models, whose every read must be equal.
"""
import glob
import hashlib
import hmac
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

import renode_pydev as rp
from lab_qtest import QTest

TOP = Path(__file__).resolve().parent.parent


# ---- vectors ------------------------------------------------------------------------

SUITES = rp.suites()
EXPECTED_CASES = 2988       # what the vector files hold, as the drivers count them


@pytest.mark.parametrize("name,script,version,run", SUITES, ids=[s[0] for s in SUITES])
def test_vectors(name, script, version, run):
    dev = rp.PyDev(script, version=version)
    cases, bad = run(dev)
    assert cases > 0
    assert not bad, f"{len(bad)}/{cases} wrong: {bad[:5]}"
    assert not dev.warnings(), dev.warnings()[:3]     # the HAL sequence is no misuse


def python27():
    """A Python 2.7 interpreter: $STM32LAB_PYTHON27, pypy or python2.7 on PATH, pyenv's."""
    candidates = [os.environ.get("STM32LAB_PYTHON27"), shutil.which("pypy"),
                  shutil.which("python2.7")]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(root, "versions", "2.7*", "bin", "python2.7")))
    for c in candidates:
        if not c:
            continue
        try:
            out = subprocess.run([c, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if out.returncode == 0 and out.stdout.strip() == "(2, 7)":
            return c
    return None


def test_vectors_under_python27():
    """The same scripts and vectors on a Python 2.7 interpreter (IronPython's language)."""
    py = python27()
    if py is None:
        pytest.skip("no Python 2.7 interpreter (set STM32LAB_PYTHON27); Debian bookworm "
                    "packages none, pyenv's 2.7 is on the lab's machines")
    out = subprocess.run([py, str(TOP / "tests" / "renode_pydev.py")], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    m = re.search(r"^python 2\.7\.\d+: (\d+) vector cases, 0 wrong$", out.stdout, re.M)
    assert m, out.stdout[-2000:]
    in_process = sum(int(n) for n in re.findall(r"^\S+(?: v\d)?\s+(\d+) cases ok$",
                                                out.stdout, re.M))
    assert int(m[1]) == in_process == EXPECTED_CASES


# ---- random cases against cryptography / hashlib ---------------------------------------

def b(data):
    return bytes(bytearray(data))


def test_random_aes_des_against_cryptography():
    rng = random.Random(1)
    dev = rp.PyDev("stm32f4_cryp.py")
    for _ in range(150):
        algo = rng.choice([rp.AES_ECB, rp.AES_CBC, rp.AES_CTR])
        key, iv = rng.randbytes(rng.choice((16, 24, 32))), rng.randbytes(16)
        if algo == rp.AES_CTR:
            iv = iv[:12] + rng.randrange(0, 1 << 31).to_bytes(4, "big")
        data, dec = rng.randbytes(16 * rng.randint(1, 4)), rng.random() < 0.5
        mode = {rp.AES_ECB: modes.ECB(), rp.AES_CBC: modes.CBC(iv), rp.AES_CTR: modes.CTR(iv)}
        c = Cipher(algorithms.AES(key), mode[algo])
        want = (c.decryptor() if dec else c.encryptor()).update(data)
        got = rp.aes(dev, algo, list(key), None if algo == rp.AES_ECB else list(iv),
                     list(data), dec)
        assert b(got) == want, (algo, key.hex(), dec)
    for _ in range(100):
        algo = rng.choice([rp.DES_ECB, rp.DES_CBC, rp.TDES_ECB, rp.TDES_CBC])
        single = algo in (rp.DES_ECB, rp.DES_CBC)
        keys, iv = rng.randbytes(8 if single else 24), rng.randbytes(8)
        data, dec = rng.randbytes(8 * rng.randint(1, 4)), rng.random() < 0.5
        cbc = algo in (rp.DES_CBC, rp.TDES_CBC)
        c = Cipher(TripleDES(keys * 3 if single else keys), modes.CBC(iv) if cbc else modes.ECB())
        want = (c.decryptor() if dec else c.encryptor()).update(data)
        assert b(rp.des(dev, algo, list(keys), list(iv) if cbc else None, list(data), dec)) \
            == want


def test_random_gcm_ccm_against_cryptography():
    rng = random.Random(2)
    dev = rp.PyDev("stm32f4_cryp.py", version=2)
    for _ in range(60):
        key, nonce = rng.randbytes(rng.choice((16, 24, 32))), rng.randbytes(12)
        aad, data = rng.randbytes(rng.randint(0, 40)), rng.randbytes(16 * rng.randint(0, 3))
        ct_tag = AESGCM(key).encrypt(nonce, data, aad)
        out, tag = rp.gcm(dev, list(key), list(nonce), list(aad), list(data), False)
        assert b(out) + b(tag) == ct_tag
        out, tag = rp.gcm(dev, list(key), list(nonce), list(aad), list(ct_tag[:-16]), True)
        assert (b(out), b(tag)) == (data, ct_tag[-16:])
    for _ in range(60):
        key, nonce = rng.randbytes(rng.choice((16, 24, 32))), rng.randbytes(rng.randint(7, 13))
        tlen = rng.choice((4, 8, 16))
        aad, data = rng.randbytes(rng.randint(0, 40)), rng.randbytes(16 * rng.randint(0, 3))
        ct_tag = AESCCM(key, tag_length=tlen).encrypt(nonce, data, aad)
        out, tag = rp.ccm(dev, list(key), list(nonce), list(aad), list(data), tlen, False)
        assert b(out) + b(tag) == ct_tag


@pytest.mark.parametrize("version,algos", [(1, ["sha1", "md5"]),
                                           (2, ["sha1", "md5", "sha224", "sha256"])])
def test_random_hash_hmac_against_hashlib(version, algos):
    rng = random.Random(version)
    dev = rp.PyDev("stm32f4_hash.py", version=version)
    for algo in algos:
        for n in (0, 1, 3, 55, 56, 63, 64, 65, 127, 128, 129, 200):
            msg = rng.randbytes(n)
            assert b(rp.hash_message(dev, algo, list(msg))) == hashlib.new(algo, msg).digest()
        for klen in (1, 20, 64, 65, 131):
            key, msg = rng.randbytes(klen), rng.randbytes(rng.randint(0, 150))
            assert b(rp.hmac_message(dev, algo, list(key), list(msg))) == \
                hmac.new(key, msg, algo).digest()


# ---- behaviour ------------------------------------------------------------------------------

def test_aes_decryption_needs_the_prepared_key():
    dev = rp.PyDev("stm32f4_cryp.py")
    key, pt = list(range(16)), list(range(0x00, 0x100, 0x11))
    ct = rp.aes(dev, rp.AES_ECB, key, None, pt, False)
    assert rp.aes(dev, rp.AES_ECB, key, None, ct, True, prepare=False) != pt
    assert rp.aes(dev, rp.AES_ECB, key, None, ct, True) == pt
    dev.write(rp.CR, rp.cr_value(rp.AES_KEY) | rp.CRYPEN)
    assert not dev.read(rp.CR) & rp.CRYPEN            # CRYPEN clears after the preparation


def test_fifo_flags_and_write_only_keys():
    dev = rp.PyDev("stm32f4_cryp.py")
    assert dev.read(rp.SR) == 0b0011                   # IFEM, IFNF
    assert dev.read(0x18) == 1                         # RISR: INRIS at reset
    rp.write_key(dev, [0] * 16, 4)
    assert dev.read(rp.K0LR + 16) == 0 and dev.warnings()[-1].endswith("write-only (reads 0)")
    dev.write(rp.CR, rp.cr_value(rp.AES_ECB) | rp.CRYPEN)
    for i in range(3):
        dev.write(rp.DIN, i)
    assert dev.read(rp.SR) == 0b0010                   # a partial block: not empty, not out
    dev.write(rp.DIN, 3)
    assert dev.read(rp.SR) == 0b0111                   # block done: IN empty, OUT not empty
    for _ in range(4):
        dev.read(rp.DOUT)
    dev.read(rp.DOUT)
    assert "OUT FIFO empty" in dev.warnings()[-1]


def test_v1_has_no_gcm_and_no_sha256():
    cryp = rp.PyDev("stm32f4_cryp.py")
    cryp.write(rp.CR, rp.cr_value(rp.AES_GCM, phase=rp.PAYLOAD))
    assert cryp.read(rp.CR) == rp.cr_value(rp.AES_GCM & 7)        # ALGOMODE[3], GCM_CCMPH ignored
    assert any("reserved on STM32F415/417" in w for w in cryp.warnings())
    assert cryp.read(0x50) == 0 and "does not exist" in cryp.warnings()[-1]
    hsh = rp.PyDev("stm32f4_hash.py")
    hsh.write(rp.H_CR, rp.HASH_ALGOS["sha256"] | rp.H_DT8 | rp.H_INIT)
    assert any("reserved on STM32F415/417" in w for w in hsh.warnings())
    assert hsh.read(rp.H_HR_V2) == 0 and "only exists on STM32F437/439" in hsh.warnings()[-1]


def test_version_word_survives_reset_and_bad_words_are_refused():
    dev = rp.PyDev("stm32f4_hash.py")
    assert dev.read(rp.CONFIG_OFFSET) == rp.CONFIG_KEY | 1
    dev.write(rp.CONFIG_OFFSET, rp.CONFIG_KEY | 2)
    dev.reset()                                        # `machine Reset`: init runs again
    assert dev.read(rp.CONFIG_OFFSET) == rp.CONFIG_KEY | 2
    dev.write(rp.CONFIG_OFFSET, 2)                     # no key: a guest write, ignored
    assert dev.read(rp.CONFIG_OFFSET) == rp.CONFIG_KEY | 2
    assert "reserved offset 0x3FC ignored" in dev.warnings()[-1]


def test_reset_clears_the_state():
    dev = rp.PyDev("stm32f4_cryp.py")
    rp.write_iv(dev, list(range(16)))
    dev.write(rp.CR, rp.cr_value(rp.AES_CBC))
    dev.reset()
    assert dev.read(rp.CR) == 0 and dev.read(rp.IV0LR) == 0


def test_older_renode_request_names():
    """Renode releases before the rename call the members isInit, offset, value."""
    dev = rp.PyDev("stm32f4_hash.py", legacy=True)
    assert rp.hash_message(dev, "sha1", list(b"abc")) == \
        list(bytearray(hashlib.sha1(b"abc").digest()))
    dev = rp.PyDev("stm32f4_cryp.py", legacy=True)
    assert rp.aes(dev, rp.AES_ECB, [0] * 16, None, [0] * 16, False) == \
        list(bytearray(Cipher(algorithms.AES(bytes(16)), modes.ECB()).encryptor().update(bytes(16))))


def test_hash_context_swap_interleaves_two_messages():
    dev = rp.PyDev("stm32f4_hash.py", version=2)
    msg_a, msg_b = bytes(range(200)), b"interrupting message " * 5
    dev.write(rp.H_CR, rp.HASH_ALGOS["sha256"] | rp.H_DT8 | rp.H_INIT)
    rp.feed(dev, list(msg_a[:128]))
    assert dev.read(rp.H_SR) & rp.H_DINIS
    ctx = [dev.read(r) for r in (0x20, rp.H_STR, rp.H_CR)] + \
        [dev.read(rp.H_CSR0 + 4 * i) for i in range(38)]
    assert b(rp.hash_message(dev, "md5", list(msg_b))) == hashlib.md5(msg_b).digest()
    dev.write(0x20, ctx[0])
    dev.write(rp.H_STR, ctx[1])
    dev.write(rp.H_CR, ctx[2])
    dev.write(rp.H_CR, ctx[2] | rp.H_INIT)
    for i, v in enumerate(ctx[3:]):
        dev.write(rp.H_CSR0 + 4 * i, v)
    rp.feed(dev, list(msg_a[128:]))
    rp.dcal(dev, len(msg_a) - 128)
    assert b(rp.read_digest(dev, "sha256")) == hashlib.sha256(msg_a).digest()


def test_fsmc_reset_values_and_masks():
    dev = rp.PyDev("stm32f4_fsmc.py", size=0x1000)
    assert dev.read(0x00) == 0x000030DB and dev.read(0x08) == 0x000030D2
    assert dev.read(0x04) == 0x0FFFFFFF and dev.read(0x104) == 0x0FFFFFFF
    dev.write(0x10, 0xFFFFFFFF)
    assert dev.read(0x10) == 0x000FFBFF          # reserved bit 7 keeps its reset 1
    dev.read(0x40)
    assert "reserved offset 0x40" in dev.warnings()[-1]


def test_ili9325_answers_its_driver_code():
    dev = rp.PyDev("ili9325.py", size=0x4000000)
    dev.write(0, 0x00, 2)                              # index R00h
    assert dev.read(2, 2) == 0x9325
    dev.write(0, 0x03, 2)
    dev.write(2, 0x1030, 2)
    assert dev.read(2, 2) == 0x1030
    dev.write(0, 0x22, 2)
    for _ in range(10):
        dev.write(2, 0xF800, 2)
    assert dev.scope["lcd_gram_writes"] == 10


# ---- the same register traffic on QEMU --------------------------------------------------

class Traced:
    """A device whose reads are recorded, to compare two models access by access."""

    def __init__(self, read, write):
        self._read, self.write = read, write
        self.reads = []

    def read(self, offset):
        v = self._read(offset)
        self.reads.append((offset, v))
        return v


BASES = {"stm32f4_cryp.py": 0x50060000, "stm32f4_hash.py": 0x50060400}


def qemu_dev(qts, script):
    base = BASES[script]
    return Traced(lambda off: qts.readl(base + off), lambda off, v: qts.writel(base + off, v))


def py_dev(script, version):
    d = rp.PyDev(script, version=version)
    return Traced(d.read, d.write)


@pytest.mark.parametrize("machine,version", [("stm324xg-eval", 1), ("stm324x9i-eval", 2)])
def test_same_reads_as_the_qemu_models(qemu, machine, version):
    """Random HAL-style jobs through both models: every register read is the same."""
    rng = random.Random(version)
    with QTest(qemu, machine=machine) as qts:
        qts.enable_clock("cryp", "hash")            # as firmware must: off, no response
        q_cryp, p_cryp = qemu_dev(qts, "stm32f4_cryp.py"), py_dev("stm32f4_cryp.py", version)
        # QEMU's CRYP is BUSY for each block's time in virtual time, Renode's finishes at
        # once: let QEMU's clock run before each read (where a driver would poll SR)
        q_cryp._read = (lambda f: (lambda off: (qts.clock_step(10_000), f(off))[1]))(
            q_cryp._read)
        q_hash, p_hash = qemu_dev(qts, "stm32f4_hash.py"), py_dev("stm32f4_hash.py", version)
        for _ in range(12):
            key = list(rng.randbytes(rng.choice((16, 24, 32))))
            iv, data = list(rng.randbytes(16)), list(rng.randbytes(16 * rng.randint(1, 3)))
            algo, dec = rng.choice([rp.AES_ECB, rp.AES_CBC, rp.AES_CTR]), rng.random() < 0.5
            for dev in (q_cryp, p_cryp):
                rp.aes(dev, algo, key, iv, data, dec)
                rp.des(dev, rp.TDES_CBC, key[:16] + key[:8], iv[:8], data, dec)
                for off in (rp.SR, 0x18, rp.IV0LR, rp.IV0LR + 4):
                    dev.read(off)
            if version == 2:
                nonce, aad = list(rng.randbytes(12)), list(rng.randbytes(rng.randint(0, 30)))
                for dev in (q_cryp, p_cryp):
                    rp.gcm(dev, key, nonce, aad, data, dec)
                    rp.ccm(dev, key, nonce[:11], aad, data, 8, dec)
                    for off in range(0x50, 0x90, 4):
                        dev.read(off)
        algos = ["sha1", "md5"] + (["sha224", "sha256"] if version == 2 else [])
        for algo in algos:
            msg = list(rng.randbytes(rng.randint(0, 150)))
            key = list(rng.randbytes(rng.randint(1, 100)))
            for dev in (q_hash, p_hash):
                if dev is q_hash:
                    # QEMU keeps BUSY for the block time in virtual time; Renode's model
                    # finishes at once: let QEMU's clock run before each status read
                    dev._read = (lambda f: (lambda off: (qts.clock_step(10_000), f(off))[1]))(
                        lambda off: qts.readl(0x50060400 + off))
                rp.hash_message(dev, algo, msg)
                rp.hmac_message(dev, algo, key, msg)
                for i in range(0, 54 if version == 2 else 51, 7):
                    dev.read(rp.H_CSR0 + 4 * i)
        assert p_cryp.reads == q_cryp.reads
        assert p_hash.reads == q_hash.reads
        assert len(p_cryp.reads) > 200 and len(p_hash.reads) > 30
