"""The stm32crypto module (firmware/hwcrypto/) on both boards: every algorithm the chip's
CRYP and HASH have, checked against the host's `cryptography`, `hashlib` and `hmac` on
random inputs; interleaved hash contexts; the exceptions; and, through the models' QOM
"blocks" counters, proof that the peripherals did the work.

Each board boots once per module; the cases of an algorithm run as one pasted program that
draws its inputs from a host-seeded PRNG and prints inputs and results for the host to check.
"""

import contextlib
import hashlib
import hmac
import random
import warnings

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

from lab_qtest import QTest, QTestError
from lab_firmware import BANNER, PROMPT, boot, build_firmware

F417, F439 = "stm324xg-eval", "stm324x9i-eval"
CRYP_BASE = 0x50060000
HASH_BASE = 0x50060400

# Inputs come from MicroPython's random module seeded by the host, not from the RNG: the
# RNG is tested on its own, and every input is printed for the host to check anyway.
PRELUDE = """import random, stm32crypto as c
random.seed({seed})
def h(b): return b.hex() if b else ''
def rnd(n): return random.getrandbits(16) % n
def rb(n): return bytes(random.getrandbits(8) for _ in range(n))
"""


@pytest.fixture(scope="session")
def firmware_elves():
    """Both boards' firmware, built once; a build failure fails the tests."""
    return {board: build_firmware(board) for board in (F417, F439)}


class Device:
    def __init__(self, board, console, machine):
        self.board, self.console, self.machine = board, console, machine

    def run(self, code: str, timeout: float = 60.0) -> list[str]:
        """Run a program (after PRELUDE); its output lines. A traceback fails the test."""
        seed = random.getrandbits(30)
        out = self.console.paste(PRELUDE.format(seed=seed) + code, timeout=timeout)
        assert "Traceback" not in out, out
        return out.splitlines()

    def blocks(self, device: str) -> int:
        return self.board.engine.qmp("qom-get", path=f"/machine/soc/{device}",
                                     property="blocks")


@contextlib.contextmanager
def booted(firmware_elves, qemu, machine):
    """The firmware booted to its REPL prompt on machine; stopped afterwards."""
    board, console = boot(firmware_elves[machine], qemu, machine=machine)
    try:
        console.expect(BANNER)
        console.expect(PROMPT)
        yield Device(board, console, machine)
    finally:
        console.close()
        board.stop()


@pytest.fixture(scope="module", params=[F417, F439])
def dev(request, firmware_elves, qemu):
    with booted(firmware_elves, qemu, request.param) as device:
        yield device


@pytest.fixture(scope="module")
def f439(firmware_elves, qemu):
    with booted(firmware_elves, qemu, F439) as device:
        yield device


@pytest.fixture(scope="module")
def f417(firmware_elves, qemu):
    with booted(firmware_elves, qemu, F417) as device:
        yield device


def fields(line: str, tag: str) -> list[str]:
    parts = line.split(" ")
    assert parts[0] == tag, line
    return parts[1:]


def bx(s: str) -> bytes:
    return bytes.fromhex(s)


# ---- AES ECB/CBC/CTR ------------------------------------------------------------------------

AES_PROGRAM = """
for ks in (16, 24, 32):
    for mode in (c.MODE_ECB, c.MODE_CBC, c.MODE_CTR):
        for i in range(4):
            k = rb(ks)
            iv = None if mode == c.MODE_ECB else rb(16)
            n = rnd(8) * 16 + (rnd(16) if mode == c.MODE_CTR else 0)
            d = rb(n)
            ct = c.AES(k, mode, iv).encrypt(d)
            pt = c.AES(k, mode, iv).decrypt(ct)
            # the same data in two calls on one object: CBC chains, CTR streams
            cut = rnd(n + 1) if mode == c.MODE_CTR else rnd(n // 16 + 1) * 16
            a = c.AES(k, mode, iv)
            ct2 = a.encrypt(d[:cut]) + a.encrypt(d[cut:])
            print('AES', mode, h(k), h(iv), h(d), h(ct), pt == d, ct2 == ct)
# CTR across the 32-bit counter wrap (the CRYP increments the low word only)
k = rb(16)
iv = rb(12) + b'\\xff\\xff\\xff\\xfe'
d = rb(75)
print('AES', c.MODE_CTR, h(k), h(iv), h(d), h(c.AES(k, c.MODE_CTR, iv).encrypt(d)), True, True)
"""


def host_aes(mode: int, key: bytes, iv: bytes, data: bytes) -> bytes:
    m = {1: lambda: modes.ECB(), 2: lambda: modes.CBC(iv), 6: lambda: modes.CTR(iv)}[mode]()
    enc = Cipher(algorithms.AES(key), m).encryptor()
    return enc.update(data) + enc.finalize()


def test_aes_ecb_cbc_ctr_match_host_cryptography(dev):
    lines = dev.run(AES_PROGRAM)
    assert len(lines) == 3 * 3 * 4 + 1, lines
    for line in lines:
        mode, key, iv, data, ct, round_trip, split = fields(line, "AES")
        assert ct == host_aes(int(mode), bx(key), bx(iv), bx(data)).hex(), line
        assert round_trip == "True" and split == "True", line


# ---- DES / TDES -----------------------------------------------------------------------------

DES_PROGRAM = """
for ks in (8, 16, 24):
    for mode in (c.MODE_ECB, c.MODE_CBC):
        for i in range(4):
            k = rb(ks)
            iv = None if mode == c.MODE_ECB else rb(8)
            d = rb(rnd(9) * 8)
            ct = c.DES(k, mode, iv).encrypt(d)
            pt = c.DES(k, mode, iv).decrypt(ct)
            print('DES', mode, h(k), h(iv), h(d), h(ct), pt == d)
"""


def host_tdes(mode: int, key: bytes, iv: bytes, data: bytes) -> bytes:
    key = {8: key * 3, 16: key + key[:8], 24: key}[len(key)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = modes.ECB() if mode == 1 else modes.CBC(iv)
        enc = Cipher(TripleDES(key), m).encryptor()
    return enc.update(data) + enc.finalize()


def test_des_and_tdes_ecb_cbc_match_host_cryptography(dev):
    lines = dev.run(DES_PROGRAM)
    assert len(lines) == 3 * 2 * 4, lines
    for line in lines:
        mode, key, iv, data, ct, round_trip = fields(line, "DES")
        assert ct == host_tdes(int(mode), bx(key), bx(iv), bx(data)).hex(), line
        assert round_trip == "True", line


# ---- hashes and HMAC ------------------------------------------------------------------------

def hash_algos(machine: str) -> list[str]:
    return ["sha1", "md5"] + (["sha224", "sha256"] if machine == F439 else [])


HASH_PROGRAM = """
for name in {algos}:
    for i in range(12):
        d = rb(rnd(4) * 64 + rnd(70))
        obj = getattr(c, name)()
        pos = 0
        while pos < len(d):          # random chunks: partial blocks kept across updates
            step = rnd(90) + 1
            obj.update(d[pos:pos + step])
            pos += step
        print('HASH', name, h(d), h(getattr(c, name)(d).digest()), h(obj.digest()))
"""


def test_hashes_match_hashlib(dev):
    algos = hash_algos(dev.machine)
    lines = dev.run(HASH_PROGRAM.format(algos=algos))
    assert len(lines) == 12 * len(algos), lines
    for line in lines:
        name, data, one_shot, chunked = fields(line, "HASH")
        expected = hashlib.new(name, bx(data)).hexdigest()
        assert one_shot == expected and chunked == expected, line


HMAC_PROGRAM = """
for name in {algos}:
    for n in (0, 1, 20, 63, 64, 65, 100, 131):   # keys longer than a block are hashed (LKEY)
        k = rb(n)
        m = rb(rnd(200))
        print('HMAC', name, h(k), h(m), h(c.hmac(k, m, name)))
"""


def test_hmac_matches_host_hmac(dev):
    algos = hash_algos(dev.machine)
    lines = dev.run(HMAC_PROGRAM.format(algos=algos))
    assert len(lines) == 8 * len(algos), lines
    for line in lines:
        name, key, msg, mac = fields(line, "HMAC")
        assert mac == hmac.new(bx(key), bx(msg), name).hexdigest(), line


INTERLEAVE_PROGRAM = """
a, b = c.sha1(), c.sha1()
da, db = b'', b''
for i in range(40):
    x, y = rb(rnd(150)), rb(rnd(150))
    a.update(x); da += x
    b.update(y); db += y
    if i == 20:
        fork = a.copy(); dfork = da
        m = c.md5(da)          # another algorithm on the HASH in between
    if i == 30:
        kx, my = x, y
        mac = c.hmac(kx, my, 'md5')   # and an HMAC, which uses every context register
print('IL', h(da), h(a.digest()))
print('IL', h(db), h(b.digest()))
fork.update(b'tail'); dfork += b'tail'
print('IL', h(dfork), h(fork.digest()))
print('IL', h(da), h(a.digest()))        # digest() does not end the object
a.update(b'more'); da += b'more'
print('IL', h(da), h(a.digest()))
print('MD5', h(m.digest()))
print('HMAC', h(kx), h(my), h(mac))
"""


def test_interleaved_hash_contexts_and_copy(dev):
    lines = dev.run(INTERLEAVE_PROGRAM)
    assert len(lines) == 7, lines
    data = []
    for line in lines[:5]:
        msg, digest = fields(line, "IL")
        assert digest == hashlib.sha1(bx(msg)).hexdigest(), line
        data.append(bx(msg))
    # the md5 object hashed a's data at the fork, which is the fork's data without b'tail'
    assert fields(lines[5], "MD5")[0] == hashlib.md5(data[2][:-4]).hexdigest()
    key, msg, mac = fields(lines[6], "HMAC")
    assert mac == hmac.new(bx(key), bx(msg), "md5").hexdigest()


# ---- GCM / CCM (STM32F439) ------------------------------------------------------------------

GCM_PROGRAM = """
for i in range(24):
    k = rb((16, 24, 32)[i % 3])
    iv = rb(12)
    aad = rb(rnd(3) * 16 + rnd(20)) if i % 4 else b''
    d = rb(rnd(5) * 16 + rnd(17))
    ct, tag = c.aes_gcm_encrypt(k, iv, d, aad)
    ok = c.aes_gcm_decrypt(k, iv, ct, tag, aad) == d
    bad = bytes([tag[0] ^ 1]) + tag[1:]
    try:
        c.aes_gcm_decrypt(k, iv, ct, bad, aad)
        rejected = False
    except ValueError:
        rejected = True
    print('GCM', h(k), h(iv), h(aad), h(d), h(ct), h(tag), ok, rejected)
"""


def test_aes_gcm_matches_host_and_rejects_a_tampered_tag(f439):
    lines = f439.run(GCM_PROGRAM)
    assert len(lines) == 24, lines
    for line in lines:
        key, iv, aad, data, ct, tag, ok, rejected = fields(line, "GCM")
        expected = AESGCM(bx(key)).encrypt(bx(iv), bx(data), bx(aad) or None)
        assert ct + tag == expected.hex(), line
        assert ok == "True" and rejected == "True", line


# ---- GCM through mbedTLS's API (MBEDTLS_GCM_ALT: the F439's GCM engine, the F417's AES-CTR) --

# Inputs from a pattern both sides compute (4 KiB of hex per case would be a slow paste);
# the board prints each result's SHA-256 and the tag.
MBEDTLS_GCM_PROGRAM = """
import tls, hashlib
def pat(n, s): return bytes((s + 31 * i + (i >> 8)) & 255 for i in range(n))
BIG = pat(4101, 5)
def hx(b): return hashlib.sha256(b).digest().hex()
before = tls.gcm_counts()
ops = 0
for ks in (16, 24, 32):
    k = pat(ks, ks)
    for alen in (0, 13, 17, 33):
        aad = pat(alen, 100 + alen)
        for n in (0, 1, 15, 16, 17, 100, 4101):
            d = BIG[:n]
            for tlen in (16, 12):
                iv = pat(12, n + tlen + ks)
                ct, tag = tls.gcm(k, iv, d, aad, tag_len=tlen)
                pt = tls.gcm(k, iv, ct, aad, tag=tag)
                # in place, as TLS records: the same buffer in and out
                ict, itag = tls.gcm(k, iv, d, aad, tag_len=tlen, in_place=True)
                ipt = tls.gcm(k, iv, ct, aad, tag=tag, in_place=True)
                ops += 4
                bad = []
                for t_ct, t_tag in ((ct, bytes([tag[0] ^ 1]) + tag[1:]),
                                    (ct[:-1] + bytes([ct[-1] ^ 0x80]) if n else ct, tag[:-1] + bytes([tag[-1] ^ 2]))):
                    for inp in (False, True):
                        try:
                            tls.gcm(k, iv, t_ct, aad, tag=t_tag, in_place=inp)
                            bad.append('accepted')
                        except ValueError:
                            bad.append('rejected')
                        ops += 1
                # the streaming calls in odd pieces give the same
                sct, stag = tls.gcm(k, iv, d, aad, tag_len=tlen, chunk=7)
                spt = tls.gcm(k, iv, ct, aad, tag=tag, chunk=5)
                print('GCM', ks, alen, n, tlen, hx(ct), tag.hex(), pt == d, sct == ct and stag == tag,
                      spt == d, ict == ct and itag == tag and ipt == d, *bad)
after = tls.gcm_counts()
print('COUNTS', after[0] - before[0], after[1] - before[1], ops)
"""


def _pattern(n: int, s: int) -> bytes:
    return bytes((s + 31 * i + (i >> 8)) & 255 for i in range(n))


def test_mbedtls_gcm_runs_on_the_cryp_and_matches_host(dev):
    """mbedtls_gcm_* (what TLS records use) on both hardware builds: AES-128/192/256,
    AAD and payload lengths around the block size, full and truncated tags, both directions,
    in place and out of place, tampered tags and ciphertext refused (both ways), the
    streaming calls in odd pieces agreeing; every one-shot operation with a 96-bit IV ran
    on the CRYP (the F439's GCM engine; the F417's AES-CTR with mbedTLS's GHASH), none in
    software."""
    lines = dev.run(MBEDTLS_GCM_PROGRAM, timeout=600)
    assert len(lines) == 3 * 4 * 7 * 2 + 1, lines[-5:]
    big = _pattern(4101, 5)
    for line in lines[:-1]:
        ks, alen, n, tlen, ct_hash, tag, ok, stream_enc, stream_dec, in_place, *bad = \
            fields(line, "GCM")
        ks, alen, n, tlen = int(ks), int(alen), int(n), int(tlen)
        iv = _pattern(12, n + tlen + ks)
        sealed = AESGCM(_pattern(ks, ks)).encrypt(iv, big[:n],
                                                  _pattern(alen, 100 + alen) or None)
        assert ct_hash == hashlib.sha256(sealed[:-16]).hexdigest(), line
        assert tag == sealed[-16:][:tlen].hex(), line
        assert (ok, stream_enc, stream_dec, in_place) == ("True",) * 4, line
        assert bad == ["rejected"] * 4, line
    hw, sw, ops = map(int, fields(lines[-1], "COUNTS"))
    assert (hw, sw) == (ops, 0), lines[-1]


MBEDTLS_GCM_SOFTWARE_PROGRAM = """
import tls
before = tls.gcm_counts()
for ivlen in (8, 16, 60):
    k, iv, d, aad = rb(16), rb(ivlen), rb(rnd(70)), rb(rnd(40))
    ct, tag = tls.gcm(k, iv, d, aad, tag_len=13)
    ok = tls.gcm(k, iv, ct, aad, tag=tag) == d
    print('GCM', h(k), h(iv), h(aad), h(d), h(ct), h(tag), ok)
after = tls.gcm_counts()
print('COUNTS', after[0] - before[0], after[1] - before[1])
for bad in ("tls.gcm(bytes(20), bytes(12), b'x')", "tls.gcm(bytes(16), b'', b'x')",
            "tls.gcm(bytes(16), bytes(12), b'x', tag_len=3)"):
    try:
        eval(bad)
        print('ACCEPTED', bad)
    except ValueError as e:
        print('REFUSED', e)
"""


def test_mbedtls_gcm_other_iv_lengths_go_to_software(dev):
    """IVs other than 96 bits are mbedTLS's software GCM (the CRYP takes J0 = IV || 1 only),
    still correct; bad keys, empty IVs and tags under 4 bytes are refused by mbedTLS."""
    lines = dev.run(MBEDTLS_GCM_SOFTWARE_PROGRAM)
    for line in lines[:3]:
        key, iv, aad, data, ct, tag, ok = fields(line, "GCM")
        sealed = AESGCM(bx(key)).encrypt(bx(iv), bx(data), bx(aad) or None)
        assert ct == sealed[:-16].hex() and tag == sealed[-16:][:13].hex(), line
        assert ok == "True", line
    assert fields(lines[3], "COUNTS") == ["0", "6"], lines[3]
    assert len(lines) == 7 and all(line.startswith("REFUSED gcm: mbedTLS error") for line in lines[4:]), lines


# RCC registers: holding a block in reset makes the model refuse its registers
GCM_FALLBACK_PROGRAM = """
import tls, machine
AHB1RSTR, AHB2RSTR = 0x40023810, 0x40023814
k, iv, aad, d = rb(32), rb(12), rb(20), rb(300)
ct, tag = tls.gcm(k, iv, d, aad)
before = tls.gcm_counts()
machine.mem32[AHB1RSTR] |= 1 << 22      # DMA2 in reset: the CRYP's payload run by DMA fails
try:
    r = tls.gcm(k, iv, d, aad)
    pt = tls.gcm(k, iv, ct, aad, tag=tag)
finally:
    machine.mem32[AHB1RSTR] &= 0xFFBFFFFF
after = tls.gcm_counts()
print('FALLBACK', h(k), h(iv), h(aad), h(d), h(ct), h(tag), r == (ct, tag), pt == d,
      after[0] - before[0], after[1] - before[1])
machine.mem32[AHB2RSTR] |= 1 << 4       # the CRYP in reset: neither path can give a result
try:
    print('NO-ERROR', tls.gcm(k, iv, d, aad))
except ValueError as e:
    print('ERROR', e)
finally:
    machine.mem32[AHB2RSTR] &= 0xFFFFFFEF
print('AGAIN', tls.gcm(k, iv, d, aad) == (ct, tag))
"""


def test_mbedtls_gcm_falls_back_to_software_or_fails_never_wrong(dev):
    """A failed CRYP operation (its DMA held in reset) is redone by mbedTLS's software GCM
    with the right result; with the CRYP itself in reset the call fails with
    MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED instead of returning anything; afterwards the
    CRYP works again."""
    lines = dev.run(GCM_FALLBACK_PROGRAM)
    key, iv, aad, data, ct, tag, same, ok, hw, sw = fields(lines[0], "FALLBACK")
    assert AESGCM(bx(key)).encrypt(bx(iv), bx(data), bx(aad)).hex() == ct + tag, lines[0]
    assert (same, ok, hw, sw) == ("True", "True", "0", "2"), lines[0]
    assert lines[1] == "ERROR gcm: mbedTLS error -0x0070", lines
    assert lines[2] == "AGAIN True", lines


# ---- mbedTLS's HMAC and the TLS 1.2 PRF (MBEDTLS_MD_HMAC_ALT: the HASH's HMAC mode) -------

MD_NAMES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
MD_SIZES = {"sha256": 32, "sha384": 48}

# tls.hmac is mbedtls_md_hmac(), the PRF's HMAC; tls.prf is mbedtls_ssl_tls_prf()
MD_HMAC_PROGRAM = """
import tls
c0 = tls.hmac_counts()
for name in {names}:
    for n in (0, 1, 32, 64, 65, 131):        # keys longer than a block: LKEY
        k = rb(n)
        m = rb((0, 1, 32, 79, 109, 200)[rnd(6)])
        print('MDHMAC', name, h(k), h(m), h(tls.hmac(name, k, m)))
c1 = tls.hmac_counts()
for name in ('sha256', 'sha384'):
    for n in (1, 32, 48, 64, 65, 100):
        s, seed, out = rb(n), rb(1 + rnd(100)), rnd(150)
        print('PRF', name, h(s), h(seed), out, h(tls.prf(name, s, 'a label', seed, out)))
c2 = tls.hmac_counts()
print('COUNTS', c1[0] - c0[0], c1[1] - c0[1], c2[0] - c1[0], c2[1] - c1[1])
"""


def host_prf(md: str, secret: bytes, label: bytes, seed: bytes, n: int) -> bytes:
    """The TLS 1.2 PRF, RFC 5246 5: P_hash(secret, label + seed)."""
    seed = label + seed
    a, out = seed, b""
    while len(out) < n:
        a = hmac.new(secret, a, md).digest()
        out += hmac.new(secret, a + seed, md).digest()
    return out[:n]


def test_mbedtls_hmac_and_tls12_prf_match_host_on_the_hash_where_it_can(dev):
    """mbedtls_md_hmac() and the TLS 1.2 PRF give the host's results for every hash, key
    and message length; tls.hmac_counts() shows that exactly the HMACs the chip's HASH has
    (SHA-1 and MD5, and SHA-224/256 on the F439) with a key and a message went through its
    HMAC mode, and the rest (SHA-384/512, empty key or message) to software."""
    lines = dev.run(MD_HMAC_PROGRAM.format(names=MD_NAMES))
    on_chip = set(hash_algos(dev.machine))
    want = [0, 0, 0, 0]
    for line in lines[:-1]:
        if line.startswith("MDHMAC"):
            name, key, msg, mac = fields(line, "MDHMAC")
            assert mac == hmac.new(bx(key), bx(msg), name).hexdigest(), line
            want[0 if name in on_chip and key and msg else 1] += 1
        else:
            name, secret, seed, n, out = fields(line, "PRF")
            assert out == host_prf(name, bx(secret), b"a label", bx(seed), int(n)).hex(), line
            # on the chip: every HMAC (1 + 2 x ceil(n / hash size)) in one call; else
            # the PRF asks once and keeps its own software context
            want[2 if name in on_chip else 3] += (1 + 2 * -(-int(n) // MD_SIZES[name])
                                                  if name in on_chip else 1)
    assert len(lines) == 6 * len(MD_NAMES) + 12 + 1, lines
    assert fields(lines[-1], "COUNTS") == [str(v) for v in want], (lines[-1], want)
    if dev.machine == F439:
        assert want[2] > 0       # the SHA-256 PRF on the HASH, SHA-384 in software


# The HASH held in reset (AHB2RSTR.HASHRST): its HMAC mode times out; mbedTLS's software
# HMAC then runs on the same HASH (the SHA-1/SHA-256 ALT contexts) and fails too, so the
# call fails instead of returning a MAC; SHA-384 (software) is unaffected.
MD_HMAC_FAILURE_PROGRAM = """
import tls, machine
AHB2RSTR = 0x40023814
name = {name!r}
k, m = rb(32), rb(79)
good = tls.hmac(name, k, m)
c0 = tls.hmac_counts()
machine.mem32[AHB2RSTR] |= 1 << 5
try:
    try:
        print('NO-ERROR', h(tls.hmac(name, k, m)))
    except ValueError as e:
        print('ERROR', e)
    print('SHA384', h(k), h(m), h(tls.hmac('sha384', k, m)))
finally:
    machine.mem32[AHB2RSTR] &= 0xFFFFFFDF
c1 = tls.hmac_counts()
print('AGAIN', tls.hmac(name, k, m) == good, c1[0] - c0[0], c1[1] - c0[1])
"""


def test_mbedtls_hmac_fails_never_wrong_when_the_hash_fails(dev):
    name = "sha256" if dev.machine == F439 else "sha1"
    lines = dev.run(MD_HMAC_FAILURE_PROGRAM.format(name=name), timeout=120)
    assert lines[0] == "ERROR hmac: mbedTLS error -0x0070", lines
    key, msg, mac = fields(lines[1], "SHA384")
    assert mac == hmac.new(bx(key), bx(msg), "sha384").hexdigest(), lines
    assert lines[2] == "AGAIN True 0 2", lines


CCM_PROGRAM = """
for i in range(24):
    k = rb((16, 24, 32)[i % 3])
    nonce = rb(7 + i % 7)
    tlen = 4 + 2 * (i % 7)
    aad = rb(rnd(3) * 16 + rnd(20)) if i % 4 else b''
    d = rb(rnd(5) * 16 + rnd(17))
    ct, tag = c.aes_ccm_encrypt(k, nonce, d, aad, tlen)
    ok = c.aes_ccm_decrypt(k, nonce, ct, tag, aad) == d
    bad = bytes([tag[0] ^ 1]) + tag[1:]
    try:
        c.aes_ccm_decrypt(k, nonce, ct, bad, aad)
        rejected = False
    except ValueError:
        rejected = True
    print('CCM', h(k), h(nonce), tlen, h(aad), h(d), h(ct), h(tag), ok, rejected)
"""


def test_aes_ccm_matches_host_and_rejects_tampering(f439):
    lines = f439.run(CCM_PROGRAM)
    assert len(lines) == 24, lines
    for line in lines:
        key, nonce, tlen, aad, data, ct, tag, ok, rejected = fields(line, "CCM")
        expected = AESCCM(bx(key), tag_length=int(tlen)).encrypt(bx(nonce), bx(data),
                                                                  bx(aad) or None)
        assert ct + tag == expected.hex(), line
        assert ok == "True" and rejected == "True", line



# ---- CCM through mbedTLS's API (MBEDTLS_CCM_ALT: the F439's CCM engine) ----------------------

# As MBEDTLS_GCM_PROGRAM: inputs from a pattern both sides compute, the board prints each
# ciphertext's SHA-256 and the tag. Nonce and tag lengths turn with the case number, so the
# payload and AAD lengths meet each of them; CCM_SIZES_PROGRAM then takes every nonce length
# with every tag length. On the F417 (no CCM engine) tls.ccm_counts does not exist and the
# program prints zeros for it.
MBEDTLS_CCM_PROGRAM = """
import tls, hashlib
def pat(n, s): return bytes((s + 31 * i + (i >> 8)) & 255 for i in range(n))
BIG = pat(4101, 5)
def hx(b): return hashlib.sha256(b).digest().hex()
def counts(): return tls.ccm_counts() if hasattr(tls, 'ccm_counts') else (0, 0)
before = counts()
ops = 0
case = 0
for ks in (16, 24, 32):
    k = pat(ks, ks)
    for alen in (0, 13, 33):
        aad = pat(alen, 100 + alen)
        for n in (0, 1, 15, 16, 17, 129, 4101):
            d = BIG[:n]
            nlen, tlen = 7 + case % 7, 4 + 2 * ((case * 3) % 7)
            case += 1
            nonce = pat(nlen, n + tlen + ks)
            ct, tag = tls.ccm(k, nonce, d, aad, tag_len=tlen)
            pt = tls.ccm(k, nonce, ct, aad, tag=tag)
            # in place, as TLS records: the same buffer in and out
            ict, itag = tls.ccm(k, nonce, d, aad, tag_len=tlen, in_place=True)
            ipt = tls.ccm(k, nonce, ct, aad, tag=tag, in_place=True)
            # CCM* with a tag is CCM
            sct, stag = tls.ccm(k, nonce, d, aad, tag_len=tlen, star=True)
            spt = tls.ccm(k, nonce, ct, aad, tag=tag, star=True)
            ops += 6
            bad = []
            for t_ct, t_tag in ((ct, bytes([tag[0] ^ 1]) + tag[1:]),
                                (ct[:-1] + bytes([ct[-1] ^ 0x80]) if n else ct, tag[:-1] + bytes([tag[-1] ^ 2]))):
                for inp in (False, True):
                    try:
                        r = tls.ccm(k, nonce, t_ct, aad, tag=t_tag, in_place=inp)
                        bad.append('accepted')
                    except ValueError as e:
                        bad.append('rejected' if str(e) == 'CCM tag mismatch' else str(e))
                    ops += 1
            # the streaming calls (software) in odd pieces give the same
            cct, ctag = tls.ccm(k, nonce, d, aad, tag_len=tlen, chunk=7)
            cpt = tls.ccm(k, nonce, ct, aad, tag=tag, chunk=5)
            print('CCM', ks, alen, n, nlen, tlen, hx(ct), tag.hex(), pt == d,
                  cct == ct and ctag == tag and cpt == d,
                  ict == ct and itag == tag and ipt == d,
                  sct == ct and stag == tag and spt == d, *bad)
after = counts()
print('COUNTS', after[0] - before[0], after[1] - before[1], ops)
"""


def test_mbedtls_ccm_runs_on_the_cryp_and_matches_host(dev):
    """mbedtls_ccm_* (what TLS records use) on both hardware builds against the host's
    AESCCM: AES-128/192/256, AAD and payload lengths around the block size and past the
    DMA threshold, nonces of 7..13 bytes, tags of 4..16 bytes, both directions, in place and
    out of place, the CCM* calls with a tag, tampered tags and ciphertext refused (both
    ways), the streaming calls in odd pieces agreeing. On the F439 every one-shot operation
    ran on the CRYP's CCM engine (tls.ccm_counts), none in software; on the F417 (no CCM
    engine) it is mbedTLS's CCM on the CRYP's AES."""
    cryp_before = dev.blocks("cryp")
    lines = dev.run(MBEDTLS_CCM_PROGRAM, timeout=600)
    assert len(lines) == 3 * 3 * 7 + 1, lines[-5:]
    big = _pattern(4101, 5)
    for line in lines[:-1]:
        ks, alen, n, nlen, tlen, ct_hash, tag, ok, stream, in_place, star, *bad = \
            fields(line, "CCM")
        ks, alen, n, nlen, tlen = int(ks), int(alen), int(n), int(nlen), int(tlen)
        nonce = _pattern(nlen, n + tlen + ks)
        sealed = AESCCM(_pattern(ks, ks), tag_length=tlen).encrypt(
            nonce, big[:n], _pattern(alen, 100 + alen) or None)
        assert ct_hash == hashlib.sha256(sealed[:-tlen]).hexdigest(), line
        assert tag == sealed[-tlen:].hex(), line
        assert (ok, stream, in_place, star) == ("True",) * 4, line
        assert bad == ["rejected"] * 4, line
    hw, sw, ops = map(int, fields(lines[-1], "COUNTS"))
    if dev.machine == F439:
        assert (hw, sw) == (ops, 0), lines[-1]
    else:
        assert (hw, sw) == (0, 0), lines[-1]
    assert dev.blocks("cryp") > cryp_before


CCM_SIZES_PROGRAM = """
import tls
def counts(): return tls.ccm_counts() if hasattr(tls, 'ccm_counts') else (0, 0)
before = counts()
for nlen in range(7, 14):
    for tlen in range(4, 17, 2):
        k, nonce, d, aad = rb(16), rb(nlen), rb(rnd(40)), rb(rnd(24))
        ct, tag = tls.ccm(k, nonce, d, aad, tag_len=tlen)
        ok = tls.ccm(k, nonce, ct, aad, tag=tag, in_place=True) == d
        print('CCM', h(k), h(nonce), h(aad), h(d), h(ct), h(tag), ok)
after = counts()
print('COUNTS', after[0] - before[0], after[1] - before[1])
"""


def test_mbedtls_ccm_every_nonce_and_tag_length(dev):
    """Every nonce length (7..13 bytes) with every tag length (4..16 bytes) against the
    host, random short payloads and AAD; all on the CCM engine on the F439."""
    lines = dev.run(CCM_SIZES_PROGRAM)
    assert len(lines) == 7 * 7 + 1, lines[-3:]
    for line in lines[:-1]:
        key, nonce, aad, data, ct, tag, ok = fields(line, "CCM")
        sealed = AESCCM(bx(key), tag_length=len(bx(tag))).encrypt(bx(nonce), bx(data),
                                                                   bx(aad) or None)
        assert ct + tag == sealed.hex() and ok == "True", line
    expected = ["98", "0"] if dev.machine == F439 else ["0", "0"]
    assert fields(lines[-1], "COUNTS") == expected, lines[-1]


MBEDTLS_CCM_SOFTWARE_PROGRAM = """
import tls
def counts(): return tls.ccm_counts() if hasattr(tls, 'ccm_counts') else (0, 0)
before = counts()
# CCM* without a tag: plain CTR (mbedTLS's software); the CRYP takes tags of 4..16 bytes
k, nonce, d, aad = rb(16), rb(13), rb(rnd(70) + 1), rb(rnd(40))
ct, tag = tls.ccm(k, nonce, d, aad, tag_len=0, star=True)
print('STAR0', h(k), h(nonce), h(d), h(ct), tag == b'', tls.ccm(k, nonce, ct, aad, tag=b'', star=True) == d)
after = counts()
print('COUNTS', after[0] - before[0], after[1] - before[1])
for bad in ("tls.ccm(bytes(20), bytes(12), b'x')", "tls.ccm(bytes(16), bytes(6), b'x')",
            "tls.ccm(bytes(16), bytes(14), b'x')", "tls.ccm(bytes(16), bytes(12), b'x', tag_len=5)",
            "tls.ccm(bytes(16), bytes(12), b'x', tag_len=2)", "tls.ccm(bytes(16), bytes(12), b'x', tag_len=0)"):
    try:
        eval(bad)
        print('ACCEPTED', bad)
    except ValueError as e:
        print('REFUSED', e)
after = counts()
print('COUNTS', after[0] - before[0], after[1] - before[1])
"""


def test_mbedtls_ccm_what_the_engine_does_not_take_is_mbedtls_own(dev):
    """CCM* without a tag (plain CTR) is mbedTLS's software CCM, still right; what mbedTLS
    refuses is refused on both builds with mbedTLS's own error (bad keys, nonces outside
    7..13 bytes, odd, too short or missing tags), the F439 never taking it to the CRYP.
    (AAD of 0xFF00 bytes, which mbedTLS refuses and the CRYP would take, is not tried: the
    board's heap has no 64 KiB block to spare.)"""
    lines = dev.run(MBEDTLS_CCM_SOFTWARE_PROGRAM, timeout=120)
    key, nonce, data, ct, empty, ok = fields(lines[0], "STAR0")
    stream = Cipher(algorithms.AES(bx(key)),
                    modes.CTR(bytes([1]) + bx(nonce) + bytes([0, 1]))).encryptor()
    assert ct == stream.update(bx(data)).hex() and (empty, ok) == ("True", "True"), lines[0]
    expected = ["0", "2"] if dev.machine == F439 else ["0", "0"]
    assert fields(lines[1], "COUNTS") == expected, lines[1]
    refused = lines[2:-1]
    assert len(refused) == 6, lines
    assert refused == ["REFUSED ccm: mbedTLS error -0x000d"] * 6, refused
    expected = ["0", "7"] if dev.machine == F439 else ["0", "0"]
    assert fields(lines[-1], "COUNTS") == expected, lines[-1]


# RCC registers: holding a block in reset makes the model refuse its registers
CCM_FALLBACK_PROGRAM = """
import tls, machine
AHB1RSTR, AHB2RSTR = 0x40023810, 0x40023814
k, nonce, aad, d = rb(32), rb(12), rb(13), rb(300)
ct, tag = tls.ccm(k, nonce, d, aad)
before = tls.ccm_counts()
machine.mem32[AHB1RSTR] |= 1 << 22      # DMA2 in reset: the CRYP's payload run by DMA fails
try:
    r = tls.ccm(k, nonce, d, aad)
    pt = tls.ccm(k, nonce, ct, aad, tag=tag)
    try:
        print('NO-ERROR', tls.ccm(k, nonce, d, aad, in_place=True))
    except ValueError as e:
        print('IN-PLACE', e)
finally:
    machine.mem32[AHB1RSTR] &= 0xFFBFFFFF
after = tls.ccm_counts()
print('FALLBACK', h(k), h(nonce), h(aad), h(d), h(ct), h(tag), r == (ct, tag), pt == d,
      after[0] - before[0], after[1] - before[1])
machine.mem32[AHB2RSTR] |= 1 << 4       # the CRYP in reset: neither path can give a result
try:
    print('NO-ERROR', tls.ccm(k, nonce, d, aad))
except ValueError as e:
    print('ERROR', e)
finally:
    machine.mem32[AHB2RSTR] &= 0xFFFFFFEF
print('AGAIN', tls.ccm(k, nonce, d, aad) == (ct, tag), tls.ccm(k, nonce, ct, aad, tag=tag, in_place=True) == d)
"""


def test_mbedtls_ccm_falls_back_to_software_or_fails_never_wrong(f439):
    """A failed CRYP CCM operation out of place (its DMA held in reset) is redone by
    mbedTLS's software CCM with the right result; in place (the input may be overwritten)
    it fails with MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED; with the CRYP itself in reset the
    software path fails too (its AES is the CRYP) instead of returning anything; afterwards
    the CRYP works again."""
    lines = f439.run(CCM_FALLBACK_PROGRAM)
    assert lines[0] == "IN-PLACE ccm: mbedTLS error -0x0070", lines
    key, nonce, aad, data, ct, tag, same, ok, hw, sw = fields(lines[1], "FALLBACK")
    assert AESCCM(bx(key)).encrypt(bx(nonce), bx(data), bx(aad)).hex() == ct + tag, lines[1]
    assert (same, ok, hw, sw) == ("True", "True", "0", "2"), lines[1]
    assert lines[2] == "ERROR ccm: mbedTLS error -0x0070", lines
    assert lines[3] == "AGAIN True True", lines


# ---- features and exceptions ----------------------------------------------------------------

def test_features_tell_what_the_chip_has(dev):
    v2 = dev.machine == F439
    out = dev.run("f = c.features\nprint(sorted(k for k in f if f[k]))")
    have = ["aes", "des", "hmac", "md5", "rng", "sha1", "tdes"]
    if v2:
        have += ["aes_ccm", "aes_gcm", "sha224", "sha256"]
    assert out == [repr(sorted(have))]


ERRORS = [
    ("c.AES(bytes(15), c.MODE_ECB)", "ValueError", "AES key must be 16, 24 or 32 bytes"),
    ("c.AES(bytes(16), c.MODE_CBC, bytes(8))", "ValueError", "AES IV must be 16 bytes"),
    ("c.AES(bytes(16), c.MODE_CBC)", "ValueError", "AES CBC and CTR need a 16-byte IV"),
    ("c.AES(bytes(16), 3)", "ValueError", "AES mode must be MODE_ECB, MODE_CBC or MODE_CTR"),
    ("c.AES(bytes(16), c.MODE_ECB).encrypt(bytes(17))", "ValueError",
     "data length must be a multiple of 16 bytes for AES ECB/CBC"),
    ("c.AES(bytes(32), c.MODE_CBC, bytes(16)).decrypt(bytes(8))", "ValueError",
     "data length must be a multiple of 16 bytes for AES ECB/CBC"),
    ("c.DES(bytes(12), c.MODE_ECB)", "ValueError",
     "DES key must be 8 bytes (DES) or 16 or 24 bytes (TDES)"),
    ("c.DES(bytes(8), c.MODE_CBC, bytes(16))", "ValueError", "DES IV must be 8 bytes"),
    ("c.DES(bytes(24), c.MODE_ECB).encrypt(bytes(9))", "ValueError",
     "data length must be a multiple of 8 bytes for DES/TDES"),
    ("c.hmac(b'k', b'm', 'sha512')", "ValueError",
     "HMAC algo must be 'sha1', 'md5', 'sha224' or 'sha256'"),
    ("c.AES(1234, c.MODE_ECB)", "TypeError", None),
]

ERRORS_F417 = [
    ("c.sha256()", "NotImplementedError",
     "SHA-256 is not available on the STM32F415/417 HASH; use hashlib.sha256 (software)"),
    ("c.sha224(b'x')", "NotImplementedError",
     "SHA-224 is not available on the STM32F415/417 HASH; use software (hashlib)"),
    ("c.hmac(b'k', b'm', 'sha256')", "NotImplementedError",
     "HMAC-SHA-224/256 is not available on the STM32F415/417 HASH; use software (hashlib)"),
    ("c.aes_gcm_encrypt(bytes(16), bytes(12), b'x')", "NotImplementedError",
     "AES-GCM/CCM are not available on the STM32F415/417 CRYP (STM32F437/439 only)"),
    ("c.aes_ccm_decrypt(bytes(16), bytes(12), b'x', bytes(16))", "NotImplementedError",
     "AES-GCM/CCM are not available on the STM32F415/417 CRYP (STM32F437/439 only)"),
]

ERRORS_F439 = [
    ("c.aes_gcm_encrypt(bytes(16), bytes(16), b'x')", "ValueError",
     "GCM IV must be 12 bytes (96 bits)"),
    ("c.aes_gcm_encrypt(bytes(20), bytes(12), b'x')", "ValueError",
     "AES key must be 16, 24 or 32 bytes"),
    ("c.aes_gcm_decrypt(bytes(16), bytes(12), b'x', bytes(3))", "ValueError",
     "GCM tag must be 4 to 16 bytes"),
    ("c.aes_ccm_encrypt(bytes(16), bytes(6), b'x')", "ValueError",
     "CCM nonce must be 7 to 13 bytes"),
    ("c.aes_ccm_encrypt(bytes(16), bytes(12), b'x', None, 5)", "ValueError",
     "CCM tag must be 4, 6, 8, 10, 12, 14 or 16 bytes"),
    ("c.aes_gcm_decrypt(bytes(16), bytes(12), b'abc', bytes(16))", "ValueError",
     "authentication tag does not match: data not authentic"),
]


def test_bad_arguments_raise_clear_exceptions(dev):
    cases = ERRORS + (ERRORS_F439 if dev.machine == F439 else ERRORS_F417)
    program = "".join(
        f"try:\n    {stmt}\n    print('no exception')\n"
        f"except Exception as e:\n    print(type(e).__name__ + ': ' + str(e))\n"
        for stmt, _, _ in cases)
    lines = dev.run(program)
    assert len(lines) == len(cases), lines
    for (stmt, exc, msg), line in zip(cases, lines):
        assert line.split(":")[0] == exc, (stmt, line)
        if msg is not None:
            assert line == f"{exc}: {msg}", (stmt, line)


def test_random_comes_from_the_rng(dev):
    before = dev.board.engine.qmp("qom-get", path="/machine/soc/rng", property="words")
    lines = dev.run("a, b = c.random(33), c.random(33)\nprint(len(a), len(b), a != b, "
                    "len(set(a)) > 8, c.random(0))")
    assert lines == ["33 33 True True b''"], lines
    after = dev.board.engine.qmp("qom-get", path="/machine/soc/rng", property="words")
    assert after - before >= 18


# ---- proof of hardware use: the models' block counters --------------------------------------

def counted(dev: Device, device: str, stmt: str) -> int:
    """Blocks the peripheral processed while stmt ran (setup is done before)."""
    before = dev.blocks(device)
    # an assignment: paste mode would print an expression's value
    assert dev.run(f"r = {stmt}\nprint('done')") == ["done"]
    return dev.blocks(device) - before


def test_cryp_block_counter_grows_by_the_blocks_of_each_operation(dev):
    dev.run("k = bytes(range(32)); iv = bytes(16); d = bytes(200)")
    assert counted(dev, "cryp", "c.AES(k[:16], c.MODE_CBC, iv).encrypt(d[:64])") == 4
    # decryption: key preparation runs no data block
    assert counted(dev, "cryp", "c.AES(k, c.MODE_ECB).decrypt(d[:32])") == 2
    # CTR on 40 bytes: 2 blocks, then the keystream block for the tail
    assert counted(dev, "cryp", "c.AES(k[:24], c.MODE_CTR, iv).encrypt(d[:40])") == 3
    assert counted(dev, "cryp", "c.DES(k[:8], c.MODE_CBC, iv[:8]).encrypt(d[:24])") == 3
    assert counted(dev, "cryp", "c.DES(k[:24], c.MODE_ECB).decrypt(d[:80])") == 10


def test_cryp_block_counter_for_gcm_and_ccm(f439):
    f439.run("import tls; k = bytes(range(16)); d = bytes(200)")
    # 2 AAD blocks, 2 payload blocks, the partial block (CTR pass + its GHASH), lengths
    assert counted(f439, "cryp", "c.aes_gcm_encrypt(k, d[:12], d[:40], d[:20])") == 7
    # 1 AAD block, 3 payload blocks, lengths
    assert counted(f439, "cryp", "c.aes_gcm_encrypt(k, d[:12], d[:48], d[:16])") == 5
    # decryption authenticates the padded ciphertext directly: no extra pass
    f439.run("ct, t = c.aes_gcm_encrypt(k, d[:12], d[:40], d[:20])")
    assert counted(f439, "cryp", "c.aes_gcm_decrypt(k, d[:12], ct, t, d[:20])") == 6
    # CCM: B0, the AAD with its length prefix (2 blocks for 20 bytes), 2 payload, CTR0
    assert counted(f439, "cryp", "c.aes_ccm_encrypt(k, d[:11], d[:32], d[:20])") == 6
    # mbedTLS's CCM (what TLS records use) runs the same blocks on the CCM engine
    assert counted(f439, "cryp", "tls.ccm(k, d[:11], d[:32], d[:20])") == 6


def test_hash_block_counter_grows_by_the_blocks_of_each_operation(dev):
    dev.run("d = bytes(1000)")
    # 1000 bytes + padding: 16 blocks, in one call or in pieces
    assert counted(dev, "hash", "c.sha1(d).digest()") == 16
    # in 7-byte updates: the core compresses a block when the next one starts, so 14 of the
    # 15 whole blocks during the updates, the 15th and the padded tail in digest()
    dev.run("o = c.md5()")
    assert counted(dev, "hash", "[o.update(d[i:i + 7]) for i in range(0, 1000, 7)]") == 14
    assert counted(dev, "hash", "o.digest()") == 2
    # HMAC-SHA-1, 10-byte key, 100-byte message: inner 64 + 100 bytes (3 blocks),
    # outer 64 + 20 bytes (2 blocks)
    assert counted(dev, "hash", "c.hmac(d[:10], d[:100], 'sha1')") == 5
    if dev.machine == F439:
        # 120 bytes + 9 of padding and length: 3 blocks
        assert counted(dev, "hash", "c.sha256(d[:120]).digest()") == 3


def test_block_counters_are_read_only_qom_properties(qemu):
    """The counters themselves, on the bare models through qtest: a block through each."""
    with QTest(qemu, machine=F439) as qts:
        qts.enable_clock("cryp", "hash")
        assert qts.qom_get("/machine/soc/cryp", "blocks") == 0
        assert qts.qom_get("/machine/soc/hash", "blocks") == 0
        qts.writel(CRYP_BASE + 0x00, (4 << 3) | (1 << 15))      # AES-128 ECB, CRYPEN
        for _ in range(8):
            qts.writel(CRYP_BASE + 0x08, 0)                     # two blocks to DIN
        assert qts.qom_get("/machine/soc/cryp", "blocks") == 1      # one waits: BUSY
        qts.clock_step(1000)
        assert qts.qom_get("/machine/soc/cryp", "blocks") == 2
        qts.writel(HASH_BASE + 0x00, 1 << 2)                    # SHA-1, INIT
        qts.writel(HASH_BASE + 0x08, 1 << 8)                    # DCAL: empty message
        assert qts.qom_get("/machine/soc/hash", "blocks") == 1
        with pytest.raises(QTestError):
            qts.qom_set("/machine/soc/cryp", "blocks", 5)


# ---- under -icount: the CRYP's busy time in virtual time ----------------------------------

# The firmware's drivers poll SR (OFNE, BUSY) and CR (CRYPEN after an init phase) and move
# bulk data by DMA; under -icount the CRYP holds BUSY for RM0090's time per block
# (test_cryp_timing.py). shift=7 is the benches' setting (bench/crypto.py,
# bench/tls_records.py; 128 ns an instruction, longer than most blocks), shift=1 makes every
# wait several polls long.
ICOUNT_PROGRAM = """
import tls, hashlib
def pat(n, s): return bytes((s + 31 * i + (i >> 8)) & 255 for i in range(n))
def hx(b): return hashlib.sha256(b).digest().hex()
iv = pat(16, 3)
for ks in (16, 32):
    k = pat(ks, ks)
    for n in (48, 4096):
        d = pat(n, n & 255)
        ct = c.AES(k, c.MODE_CBC, iv).encrypt(d)
        print('CBC', ks, n, hx(ct), c.AES(k, c.MODE_CBC, iv).decrypt(ct) == d)
d = pat(64, 9)
ct = c.DES(pat(24, 4), c.MODE_CBC, iv[:8]).encrypt(d)
print('TDES', hx(ct), c.DES(pat(24, 4), c.MODE_CBC, iv[:8]).decrypt(ct) == d)
k = pat(16, 16)
for n in (100, 4101):
    d = pat(n, 7)
    ct, tag = tls.gcm(k, iv[:12], d, pat(13, 8), tag_len=16)
    print('GCM', n, hx(ct), tag.hex(), tls.gcm(k, iv[:12], ct, pat(13, 8), tag=tag) == d)
"""


@pytest.mark.parametrize("shift", [7, 1])
@pytest.mark.parametrize("machine", [F417, F439])
def test_crypto_runs_under_icount_with_the_cryp_busy_time(firmware_elves, qemu, machine,
                                                          shift, tmp_path):
    log = tmp_path / "guest_errors.log"
    board, console = boot(firmware_elves[machine], qemu, machine=machine, deterministic=True,
                          icount_shift=shift, guest_errors=log)
    try:
        console.expect(BANNER)
        console.expect(PROMPT)
        dev = Device(board, console, machine)
        before = dev.blocks("cryp")
        lines = dev.run(ICOUNT_PROGRAM, timeout=300)
        blocks = dev.blocks("cryp") - before
    finally:
        console.close()
        board.stop()
    assert len(lines) == 4 + 1 + 2, lines
    iv = _pattern(16, 3)
    for line in lines[:4]:
        ks, n, ct_hash, ok = fields(line, "CBC")
        d = _pattern(int(n), int(n) & 255)
        enc = Cipher(algorithms.AES(_pattern(int(ks), int(ks))), modes.CBC(iv)).encryptor()
        assert ct_hash == hashlib.sha256(enc.update(d)).hexdigest() and ok == "True", line
    ct_hash, ok = fields(lines[4], "TDES")
    enc = Cipher(TripleDES(_pattern(24, 4)), modes.CBC(iv[:8])).encryptor()
    assert ct_hash == hashlib.sha256(enc.update(_pattern(64, 9))).hexdigest(), lines[4]
    assert ok == "True", lines[4]
    for line in lines[5:]:
        n, ct_hash, tag, ok = fields(line, "GCM")
        sealed = AESGCM(_pattern(16, 16)).encrypt(iv[:12], _pattern(int(n), 7), _pattern(13, 8))
        assert ct_hash == hashlib.sha256(sealed[:-16]).hexdigest(), line
        assert tag == sealed[-16:].hex() and ok == "True", line
    # CBC both ways (2 x 2 x (3 + 256) blocks), TDES (2 x 8), GCM (2 x (7 + 257) + phases)
    assert blocks >= 2 * 2 * (3 + 256) + 16 + 2 * (7 + 257), blocks
    # the drivers wait for the core: no access the model had to complete early or refuse
    assert not [ln for ln in log.read_text().splitlines() if "cryp" in ln], log.read_text()
