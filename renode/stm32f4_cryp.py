# STM32F4 cryptographic processor (CRYP), RM0090 rev 19 section 23, as a
# Renode Python peripheral (IronPython 2.7; also runs on CPython 2.7 and 3).
#
# The same register semantics as the lab's QEMU model (qemu/hw/misc/
# stm32f4xx_cryp.c), for polled use: a Python peripheral raises no interrupt
# and serves no DMA request, so IMSCR/RISR/MISR are registers only and
# DMACR is stored.
#
#   cryp: Python.PythonPeripheral @ sysbus 0x50060000
#       size: 0x400
#       initable: true
#       filename: "renode/stm32f4_cryp.py"
#
# Two generations: 1 (STM32F415/417: AES ECB/CBC/CTR, key preparation, DES
# and TDES ECB/CBC) and 2 (STM32F437/439: adds AES-GCM/CCM, GCM_CCMPH and
# the context swap registers). Version 1 is the default; writing
# 0x5EC00000 | version to offset 0x3FC (reserved in RM0090) selects one and
# survives a machine reset (the .repl's `init:` does this for the F439).
#
# Renode runs this whole file on every access, in a scope that persists; the
# request's members are IsInit/IsRead/IsWrite/Offset/Value (Renode >= 1.14)
# or isInit/isRead/isWrite/offset/value (older releases); both are accepted.
# The primitives (AES, DES, GHASH) are written here in plain Python on ints:
# the model needs the AES key schedule itself (key preparation), .NET's DES
# refuses the weak and degenerate keys that NIST's TDES vectors use, and
# IronPython inside Renode guarantees no hashlib or third-party package.
#
# SPDX-License-Identifier: GPL-2.0-or-later

# ---- AES (FIPS-197) on lists of 16 byte values ------------------------------

AES_SBOX = (
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
)


def _xtime(b):
    b <<= 1
    return (b ^ 0x11b) if b & 0x100 else b


def _gmul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = _xtime(a)
        b >>= 1
    return p


def _rot(w, n):
    return ((w >> n) | (w << (32 - n))) & 0xFFFFFFFF


def _aes_tables():
    """Inverse S-box and the four rotations of the encryption and decryption
    round tables, built once per scope (Renode keeps the scope alive)."""
    inv = [0] * 256
    for i in range(256):
        inv[AES_SBOX[i]] = i
    te0, td0 = [], []
    for i in range(256):
        s = AES_SBOX[i]
        te0.append((_gmul(s, 2) << 24) | (s << 16) | (s << 8) | _gmul(s, 3))
        v = inv[i]
        td0.append((_gmul(v, 14) << 24) | (_gmul(v, 9) << 16) |
                   (_gmul(v, 13) << 8) | _gmul(v, 11))
    te = tuple(tuple(_rot(x, 8 * n) for x in te0) for n in range(4))
    td = tuple(tuple(_rot(x, 8 * n) for x in td0) for n in range(4))
    return tuple(inv), te, td


try:
    _AES_TABLES
except NameError:
    _AES_TABLES = _aes_tables()


def _sub_word(w):
    return ((AES_SBOX[w >> 24] << 24) | (AES_SBOX[(w >> 16) & 0xff] << 16) |
            (AES_SBOX[(w >> 8) & 0xff] << 8) | AES_SBOX[w & 0xff])


def _schedule_term(prev, i, nk):
    """FIPS-197 5.2: what w[i - Nk] is xored with to give w[i]."""
    if i % nk == 0:
        rcon = 1
        for _ in range(1, i // nk):
            rcon = _xtime(rcon)
        rot = ((prev << 8) | (prev >> 24)) & 0xFFFFFFFF
        return _sub_word(rot) ^ (rcon << 24)
    if nk > 6 and i % nk == 4:
        return _sub_word(prev)
    return prev


def aes_expand(key_words):
    """Round key words w[0..4(Nr+1)) from the Nk key words."""
    nk = len(key_words)
    w = list(key_words)
    for i in range(nk, 4 * (nk + 7)):
        w.append(w[i - nk] ^ _schedule_term(w[i - 1], i, nk))
    return w


def aes_prepared_key(key_words):
    """Key preparation (ALGOMODE=111): the last Nk words of the schedule."""
    nk = len(key_words)
    return aes_expand(key_words)[-nk:]


def aes_unprepare(last_words):
    """The cipher key from the prepared key: the schedule run backwards."""
    nk = len(last_words)
    nw = 4 * (nk + 7)
    w = [0] * (nw - nk) + list(last_words)
    for i in range(nw - 1, nk - 1, -1):
        w[i - nk] = w[i] ^ _schedule_term(w[i - 1], i, nk)
    return w[:nk]


def aes_decryption_schedule(w):
    """Round keys of the equivalent inverse cipher (FIPS-197 5.3.5), in use order."""
    _, _, td = _AES_TABLES
    sb = AES_SBOX
    nr = len(w) // 4 - 1
    dk = list(w[4 * nr:4 * nr + 4])
    for r in range(nr - 1, 0, -1):
        for x in w[4 * r:4 * r + 4]:
            dk.append(td[0][sb[x >> 24]] ^ td[1][sb[(x >> 16) & 0xff]] ^
                      td[2][sb[(x >> 8) & 0xff]] ^ td[3][sb[x & 0xff]])
    return dk + list(w[0:4])


def _words(block):
    return [(block[i] << 24) | (block[i + 1] << 16) | (block[i + 2] << 8) | block[i + 3]
            for i in range(0, 16, 4)]


def _bytes(words):
    out = []
    for w in words:
        out += [(w >> 24) & 0xff, (w >> 16) & 0xff, (w >> 8) & 0xff, w & 0xff]
    return out


def aes_encrypt_block(w, block):
    """w: expanded key words; block: 16 byte values. Returns 16 byte values."""
    t0, t1, t2, t3 = _AES_TABLES[1]
    nr = len(w) // 4 - 1
    s0, s1, s2, s3 = [x ^ k for x, k in zip(_words(block), w[0:4])]
    for k in range(4, 4 * nr, 4):
        s0, s1, s2, s3 = (
            t0[s0 >> 24] ^ t1[(s1 >> 16) & 0xff] ^ t2[(s2 >> 8) & 0xff] ^ t3[s3 & 0xff] ^ w[k],
            t0[s1 >> 24] ^ t1[(s2 >> 16) & 0xff] ^ t2[(s3 >> 8) & 0xff] ^ t3[s0 & 0xff] ^ w[k + 1],
            t0[s2 >> 24] ^ t1[(s3 >> 16) & 0xff] ^ t2[(s0 >> 8) & 0xff] ^ t3[s1 & 0xff] ^ w[k + 2],
            t0[s3 >> 24] ^ t1[(s0 >> 16) & 0xff] ^ t2[(s1 >> 8) & 0xff] ^ t3[s2 & 0xff] ^ w[k + 3])
    sb = AES_SBOX
    k = 4 * nr
    out = []
    for a, b, c, d, kw in ((s0, s1, s2, s3, w[k]), (s1, s2, s3, s0, w[k + 1]),
                           (s2, s3, s0, s1, w[k + 2]), (s3, s0, s1, s2, w[k + 3])):
        out.append(((sb[a >> 24] << 24) | (sb[(b >> 16) & 0xff] << 16) |
                    (sb[(c >> 8) & 0xff] << 8) | sb[d & 0xff]) ^ kw)
    return _bytes(out)


def aes_decrypt_block(dk, block):
    """Equivalent inverse cipher with the schedule from aes_decryption_schedule."""
    inv, _, (t0, t1, t2, t3) = _AES_TABLES
    nr = len(dk) // 4 - 1
    s0, s1, s2, s3 = [x ^ k for x, k in zip(_words(block), dk[0:4])]
    for k in range(4, 4 * nr, 4):
        s0, s1, s2, s3 = (
            t0[s0 >> 24] ^ t1[(s3 >> 16) & 0xff] ^ t2[(s2 >> 8) & 0xff] ^ t3[s1 & 0xff] ^ dk[k],
            t0[s1 >> 24] ^ t1[(s0 >> 16) & 0xff] ^ t2[(s3 >> 8) & 0xff] ^ t3[s2 & 0xff] ^ dk[k + 1],
            t0[s2 >> 24] ^ t1[(s1 >> 16) & 0xff] ^ t2[(s0 >> 8) & 0xff] ^ t3[s3 & 0xff] ^ dk[k + 2],
            t0[s3 >> 24] ^ t1[(s2 >> 16) & 0xff] ^ t2[(s1 >> 8) & 0xff] ^ t3[s0 & 0xff] ^ dk[k + 3])
    k = 4 * nr
    out = []
    for a, b, c, d, kw in ((s0, s3, s2, s1, dk[k]), (s1, s0, s3, s2, dk[k + 1]),
                           (s2, s1, s0, s3, dk[k + 2]), (s3, s2, s1, s0, dk[k + 3])):
        out.append(((inv[a >> 24] << 24) | (inv[(b >> 16) & 0xff] << 16) |
                    (inv[(c >> 8) & 0xff] << 8) | inv[d & 0xff]) ^ kw)
    return _bytes(out)


# ---- DES (FIPS 46-3) on 64-bit ints ------------------------------------------

DES_IP = (58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
          62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
          57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
          61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7)
DES_FP = (40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
          38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
          36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
          34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25)
DES_E = (32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
         16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29,
         30, 31, 32, 1)
DES_P = (16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
         2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25)
DES_PC1 = (57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
           10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
           63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
           14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4)
DES_PC2 = (14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4,
           26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30, 40,
           51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32)
DES_SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)
DES_SBOX = (
    (14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
     0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
     15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13),
    (15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
     3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
     13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9),
    (10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
     13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
     1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12),
    (7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
     13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
     3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14),
    (2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
     14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
     11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3),
    (12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
     10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
     4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13),
    (4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
     13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
     6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12),
    (13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
     1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
     2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11),
)


def _permute(x, in_bits, table):
    """Bit n of a table counts from 1 at the input's most significant bit."""
    out = 0
    for pos in table:
        out = (out << 1) | ((x >> (in_bits - pos)) & 1)
    return out


def _des_sp_tables():
    """S-box output already through P, per box and 6-bit input."""
    sp = []
    for box in range(8):
        row = []
        for six in range(64):
            v = DES_SBOX[box][(((six >> 4) & 2) | (six & 1)) * 16 + ((six >> 1) & 0xf)]
            row.append(_permute(v << (28 - 4 * box), 32, DES_P))
        sp.append(tuple(row))
    return tuple(sp)


try:
    _DES_SP
except NameError:
    _DES_SP = _des_sp_tables()
    _DES_KEYS = {}


def des_subkeys(key):
    ks = _DES_KEYS.get(key)
    if ks is None:
        cd = _permute(key, 64, DES_PC1)
        c, d = cd >> 28, cd & 0xfffffff
        ks = []
        for shift in DES_SHIFTS:
            for _ in range(shift):
                c = ((c << 1) | (c >> 27)) & 0xfffffff
                d = ((d << 1) | (d >> 27)) & 0xfffffff
            ks.append(_permute((c << 28) | d, 56, DES_PC2))
        if len(_DES_KEYS) > 64:
            _DES_KEYS.clear()
        _DES_KEYS[key] = ks
    return ks


def des_crypt(block, key, decrypt):
    """One DES block (64-bit int) with a 64-bit key (parity bits ignored)."""
    sp = _DES_SP
    subkeys = des_subkeys(key)
    if decrypt:
        subkeys = subkeys[::-1]
    lr = _permute(block, 64, DES_IP)
    l, r = lr >> 32, lr & 0xFFFFFFFF
    for k in subkeys:
        x = _permute(r, 32, DES_E) ^ k
        f = (sp[0][(x >> 42) & 63] | sp[1][(x >> 36) & 63] | sp[2][(x >> 30) & 63] |
             sp[3][(x >> 24) & 63] | sp[4][(x >> 18) & 63] | sp[5][(x >> 12) & 63] |
             sp[6][(x >> 6) & 63] | sp[7][x & 63])
        l, r = r, l ^ f
    return _permute((r << 32) | l, 64, DES_FP)


# ---- GHASH (SP 800-38D 6.3) on 128-bit ints ---------------------------------

def gf128_mul(x, h):
    z = 0
    v = h
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        if v & 1:
            v = (v >> 1) ^ (0xE1 << 120)
        else:
            v >>= 1
    return z


# ---- the CRYP block --------------------------------------------------------------

CR, SR, DIN, DOUT, DMACR, IMSCR, RISR, MISR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C
K0LR, K3RR, IV0LR, IV1RR = 0x20, 0x3C, 0x40, 0x4C
CSGCMCCM0R, CSGCMCCM7R, CSGCM0R, CSGCM7R = 0x50, 0x6C, 0x70, 0x8C
CONFIG = 0x3FC
CONFIG_KEY = 0x5EC00000

CR_ALGODIR = 1 << 2
CR_ALGOMODE = 7 << 3
CR_DATATYPE = 3 << 6
CR_KEYSIZE = 3 << 8
CR_FFLUSH = 1 << 14
CR_CRYPEN = 1 << 15
CR_GCM_CCMPH = 3 << 16
CR_ALGOMODE3 = 1 << 19
CR_V1_MASK = CR_ALGODIR | CR_ALGOMODE | CR_DATATYPE | CR_KEYSIZE | CR_CRYPEN
CR_V2_ONLY = CR_GCM_CCMPH | CR_ALGOMODE3
CR_CONFIG_MASK = CR_ALGODIR | CR_ALGOMODE | CR_DATATYPE | CR_KEYSIZE | CR_V2_ONLY

FIFO_WORDS = 8
IN_SERVICE_LEVEL = 4

TDES_ECB, TDES_CBC, DES_ECB, DES_CBC = 0, 1, 2, 3
AES_ECB, AES_CBC, AES_CTR, AES_KEY, AES_GCM, AES_CCM = 4, 5, 6, 7, 8, 9
PH_INIT, PH_HEADER, PH_PAYLOAD, PH_FINAL = 0, 1, 2, 3


def _rbit32(w):
    return int('{0:032b}'.format(w)[::-1], 2)


def cryp_swap(w, datatype):
    """RM0090 23.3.3: the same swap on the way in and on the way out."""
    if datatype == 1:
        return ((w >> 16) | (w << 16)) & 0xFFFFFFFF
    if datatype == 2:
        return (((w & 0xff) << 24) | ((w & 0xff00) << 8) |
                ((w >> 8) & 0xff00) | (w >> 24))
    if datatype == 3:
        return _rbit32(w)
    return w


def _wint(words):
    """Big-endian words to one int."""
    x = 0
    for w in words:
        x = (x << 32) | w
    return x


def _intw(x, n):
    return [(x >> (32 * (n - 1 - i))) & 0xFFFFFFFF for i in range(n)]


class Cryp(object):
    def __init__(self, version=1, log=None):
        self.version = version
        self.log = log or (lambda msg: None)
        self.blocks = 0
        self.reset()

    def reset(self):
        self.cr = 0
        self.dmacr = 0
        self.imscr = 0
        self.key = [0] * 8
        self.iv = [0] * 4
        self.csgcmccm = [0] * 8
        self.csgcm = [0] * 8
        self.dec_key = [0] * 8
        self.in_fifo = []
        self.out_fifo = []
        self._ek = None             # (key words, encryption schedule)
        self._dk = None             # (prepared key, decryption schedule)

    # -- helpers
    def algo(self):
        return ((self.cr & CR_ALGOMODE) >> 3) | (((self.cr & CR_ALGOMODE3) >> 19) << 3)

    def enabled(self):
        return bool(self.cr & CR_CRYPEN)

    def block_words(self):
        return 2 if self.algo() <= DES_CBC else 4

    def key_words(self):
        ks = (self.cr & CR_KEYSIZE) >> 8
        return 6 if ks == 1 else 8 if ks == 2 else 4

    def aes_key(self):
        return self.key[8 - self.key_words():]

    def expanded(self):
        k = tuple(self.aes_key())
        if self._ek is None or self._ek[0] != k:
            self._ek = (k, aes_expand(list(k)))
        return self._ek[1]

    def aes_enc(self, block):
        return aes_encrypt_block(self.expanded(), block)

    def aes_dec(self, block):
        """Decryption starts from the prepared key, as the silicon's datapath does:
        without a preparation for the current key the result is wrong."""
        prepared = tuple(self.dec_key[8 - self.key_words():])
        if self._dk is None or self._dk[0] != prepared:
            key = aes_unprepare(list(prepared))
            self._dk = (prepared, aes_decryption_schedule(aes_expand(key)))
        return aes_decrypt_block(self._dk[1], block)

    def mid_block(self):
        return self.enabled() and len(self.in_fifo) % self.block_words() != 0

    def risr(self):
        return (1 if len(self.in_fifo) < IN_SERVICE_LEVEL else 0) | (2 if self.out_fifo else 0)

    def misr(self):
        misr = self.risr() & self.imscr
        if not self.enabled():
            misr &= ~1          # RM0090 23.5: INMIS needs CRYPEN, OUTMIS does not
        return misr

    def disable_self(self):
        self.cr &= ~CR_CRYPEN

    # -- block processing
    def des_block(self, algo, x):
        decrypt = bool(self.cr & CR_ALGODIR)
        cbc = algo in (DES_CBC, TDES_CBC)
        tdes = algo in (TDES_ECB, TDES_CBC)
        k1 = (self.key[2] << 32) | self.key[3]
        k2 = (self.key[4] << 32) | self.key[5]
        k3 = (self.key[6] << 32) | self.key[7]
        iv = (self.iv[0] << 32) | self.iv[1]
        if not decrypt:
            if cbc:
                x ^= iv
            if tdes:
                y = des_crypt(des_crypt(des_crypt(x, k1, False), k2, True), k3, False)
            else:
                y = des_crypt(x, k1, False)
            iv = y
        else:
            if tdes:
                y = des_crypt(des_crypt(des_crypt(x, k3, True), k2, False), k1, True)
            else:
                y = des_crypt(x, k1, True)
            if cbc:
                y ^= iv
            iv = x
        if cbc:
            self.iv[0], self.iv[1] = iv >> 32, iv & 0xFFFFFFFF
        return y

    def aes_block(self, algo, blk):
        decrypt = bool(self.cr & CR_ALGODIR)
        if algo == AES_ECB:
            return self.aes_dec(blk) if decrypt else self.aes_enc(blk)
        if algo == AES_CBC:
            iv = _bytes(self.iv)
            if decrypt:
                out = [a ^ b for a, b in zip(self.aes_dec(blk), iv)]
                self.iv = _words(blk)
            else:
                out = self.aes_enc([a ^ b for a, b in zip(blk, iv)])
                self.iv = _words(out)
            return out
        # CTR: the low 32 bits count
        t = self.aes_enc(_bytes(self.iv))
        self.iv[3] = (self.iv[3] + 1) & 0xFFFFFFFF
        return [a ^ b for a, b in zip(blk, t)]

    def aead_block(self, algo, blk):
        """GCM/CCM block; returns the output block or None."""
        gcm = algo == AES_GCM
        decrypt = bool(self.cr & CR_ALGODIR)
        phase = (self.cr & CR_GCM_CCMPH) >> 16
        x = _wint(self.csgcmccm[:4])
        h = _wint(self.csgcm[:4])
        b = _wint(_words(blk))
        if phase == PH_INIT:            # CCM B0 (GCM init takes no data)
            self.csgcmccm[:4] = _words(self.aes_enc(blk))
            self.csgcmccm[4:] = list(self.iv)
            return None
        if phase == PH_HEADER:
            if gcm:
                x = gf128_mul(x ^ b, h)
            else:
                x = _wint(_words(self.aes_enc(_bytes(_intw(x ^ b, 4)))))
            self.csgcmccm[:4] = _intw(x, 4)
            return None
        if phase == PH_PAYLOAD:
            ctr = list(self.csgcmccm[4:])
            if gcm:                     # the GCM counter register runs one ahead
                ctr[3] = (ctr[3] - 1) & 0xFFFFFFFF
            t = self.aes_enc(_bytes(ctr))
            out = [p ^ q for p, q in zip(blk, t)]
            self.csgcmccm[7] = (self.csgcmccm[7] + 1) & 0xFFFFFFFF
            o = _wint(_words(out))
            if gcm:
                x = gf128_mul(x ^ (b if decrypt else o), h)
            else:
                x = _wint(_words(self.aes_enc(_bytes(_intw(x ^ (o if decrypt else b), 4)))))
            self.csgcmccm[:4] = _intw(x, 4)
            return out
        if gcm:                         # final: lengths block, tag
            x = gf128_mul(x ^ b, h)
            self.csgcmccm[:4] = _intw(x, 4)
            t = self.aes_enc(_bytes(self.csgcm[4:]))
        else:
            t = self.aes_enc(blk)       # CTR0
        return [p ^ q for p, q in zip(_bytes(_intw(x, 4)), t)]

    def gcm_init(self):
        self.csgcm[:4] = _words(self.aes_enc([0] * 16))
        self.csgcm[4:] = list(self.iv)
        self.csgcm[7] = (self.csgcm[7] - 1) & 0xFFFFFFFF   # J0: the guest loads J0 + 1
        self.csgcmccm[:4] = [0, 0, 0, 0]
        self.csgcmccm[4:] = list(self.iv)
        self.csgcmccm[7] = (self.csgcmccm[7] + 1) & 0xFFFFFFFF

    def run(self):
        """Process as many blocks as the FIFOs allow."""
        while self.enabled():
            algo = self.algo()
            phase = (self.cr & CR_GCM_CCMPH) >> 16
            datatype = (self.cr & CR_DATATYPE) >> 6
            bw = self.block_words()
            if algo > AES_CCM:
                break
            if algo == AES_KEY:
                nk = self.key_words()
                self.dec_key = [0] * (8 - nk) + aes_prepared_key(self.aes_key())
                self.disable_self()
                break
            if algo == AES_GCM and phase == PH_INIT:
                self.gcm_init()
                self.disable_self()
                break
            if len(self.in_fifo) < bw:
                break
            aead = algo in (AES_GCM, AES_CCM)
            output = not (aead and phase in (PH_INIT, PH_HEADER))
            if output and len(self.out_fifo) + bw > FIFO_WORDS:
                break                   # waits for the guest to read DOUT
            w = [cryp_swap(v, datatype) for v in self.in_fifo[:bw]]
            del self.in_fifo[:bw]
            if algo <= DES_CBC:
                y = self.des_block(algo, (w[0] << 32) | w[1])
                out = [y >> 32, y & 0xFFFFFFFF]
            else:
                blk = _bytes(w)
                res = self.aead_block(algo, blk) if aead else self.aes_block(algo, blk)
                out = None if res is None else _words(res)
            self.blocks += 1
            if out is not None:
                self.out_fifo += [cryp_swap(v, datatype) for v in out]
            if algo == AES_CCM and phase == PH_INIT:
                self.disable_self()
                break

    # -- registers
    def write_cr(self, value):
        allowed = CR_V1_MASK | CR_FFLUSH | CR_V2_ONLY
        mask = CR_V1_MASK | (CR_V2_ONLY if self.version >= 2 else 0)
        old, new = self.cr, value & mask
        if value & ~allowed:
            self.log("CR: reserved bits 0x%08x written" % (value & ~allowed))
        if self.version < 2 and value & CR_V2_ONLY:
            self.log("CR: GCM_CCMPH/ALGOMODE[3] (0x%08x) are reserved on STM32F415/417, "
                     "ignored" % (value & CR_V2_ONLY))
        if value & CR_FFLUSH:
            if old & CR_CRYPEN:
                self.log("FFLUSH has no effect while CRYPEN=1")
            else:
                self.in_fifo, self.out_fifo = [], []
        if (old ^ new) & CR_CONFIG_MASK and self.mid_block():
            self.log("CR: configuration changed (0x%08x -> 0x%08x) with a partial block "
                     "in the IN FIFO" % (old, new))
        self.cr = new
        if self.algo() > AES_CCM:
            self.log("CR: reserved ALGOMODE %d, nothing is processed" % self.algo())
        if (new & CR_KEYSIZE) >> 8 == 3:
            self.log("CR: reserved KEYSIZE 11, using 128 bits")
        self.run()

    def read(self, offset):
        if offset == CR:
            return self.cr
        if offset == SR:
            n_in, n_out = len(self.in_fifo), len(self.out_fifo)
            return ((1 if n_in == 0 else 0) | (2 if n_in < FIFO_WORDS else 0) |
                    (4 if n_out else 0) | (8 if n_out == FIFO_WORDS else 0))
        if offset == DIN:
            # RM0090 23.6.3: with CRYPEN=0 a read pops the IN FIFO
            if self.enabled():
                self.log("DIN read while CRYPEN=1 (undefined, reads 0)")
            elif not self.in_fifo:
                self.log("DIN read with the IN FIFO empty")
            else:
                return self.in_fifo.pop(0)
            return 0
        if offset == DOUT:
            if not self.out_fifo:
                self.log("DOUT read with the OUT FIFO empty (reads 0)")
                return 0
            value = self.out_fifo.pop(0)
            self.run()
            return value
        if offset == DMACR:
            return self.dmacr
        if offset == IMSCR:
            return self.imscr
        if offset == RISR:
            return self.risr()
        if offset == MISR:
            return self.misr()
        if K0LR <= offset <= K3RR:
            self.log("key register 0x%02x is write-only (reads 0)" % offset)
            return 0
        if IV0LR <= offset <= IV1RR:
            return self.iv[(offset - IV0LR) // 4]
        if CSGCMCCM0R <= offset <= CSGCM7R:
            if self.version < 2:
                self.log("context swap register 0x%02x does not exist on STM32F415/417 "
                         "(reads 0)" % offset)
                return 0
            if offset <= CSGCMCCM7R:
                return self.csgcmccm[(offset - CSGCMCCM0R) // 4]
            return self.csgcm[(offset - CSGCM0R) // 4]
        if offset == CONFIG:
            return CONFIG_KEY | self.version
        self.log("bad offset 0x%x" % offset)
        return 0

    def write(self, offset, value):
        if offset == CR:
            self.write_cr(value)
        elif offset == DIN:
            if len(self.in_fifo) == FIFO_WORDS:
                self.log("DIN written with the IN FIFO full, word 0x%08x dropped" % value)
                return
            self.in_fifo.append(value)
            self.run()
        elif offset == DMACR:
            if value & ~3:
                self.log("DMACR: reserved bits 0x%08x written" % (value & ~3))
            if value & 3:
                self.log("DMA requests are not modelled in Renode: use polling")
            self.dmacr = value & 3
        elif offset == IMSCR:
            if value & ~3:
                self.log("IMSCR: reserved bits 0x%08x written" % (value & ~3))
            self.imscr = value & 3
        elif offset in (SR, DOUT, RISR, MISR):
            self.log("register 0x%02x is read-only" % offset)
        elif K0LR <= offset <= K3RR:
            if self.mid_block():
                self.log("key changed with a partial block in the IN FIFO")
            self.key[(offset - K0LR) // 4] = value
        elif IV0LR <= offset <= IV1RR:
            if self.mid_block():
                self.log("IV changed with a partial block in the IN FIFO")
            self.iv[(offset - IV0LR) // 4] = value
        elif CSGCMCCM0R <= offset <= CSGCM7R:
            if self.version < 2:
                self.log("context swap register 0x%02x does not exist on STM32F415/417 "
                         "(write ignored)" % offset)
            elif offset <= CSGCMCCM7R:
                self.csgcmccm[(offset - CSGCMCCM0R) // 4] = value
            else:
                self.csgcm[(offset - CSGCM0R) // 4] = value
        else:
            self.log("bad offset 0x%x" % offset)


# ---- Renode's entry point ------------------------------------------------------------

def _member(req, name):
    try:
        return getattr(req, name)
    except AttributeError:                  # Renode before 1.14: isInit, offset, value
        return getattr(req, name[0].lower() + name[1:])


def _set_value(req, value):
    try:
        req.Value = value
    except AttributeError:
        req.value = value


def _guest_error(msg):
    self.WarningLog("CRYP: " + msg)


try:
    request
except NameError:                           # imported as a module: nothing to serve
    request = None

if request is not None:
    if _member(request, "IsInit"):
        try:
            _cryp_version
        except NameError:
            _cryp_version = 1
        _cryp = Cryp(_cryp_version, _guest_error)
    elif _member(request, "IsRead"):
        _set_value(request, _cryp.read(int(_member(request, "Offset"))) & 0xFFFFFFFF)
    elif _member(request, "IsWrite"):
        _offset = int(_member(request, "Offset"))
        _value = int(_member(request, "Value")) & 0xFFFFFFFF
        if _offset == CONFIG:
            if _value & 0xFFFF0000 == CONFIG_KEY and _value & 0xFFFF in (1, 2):
                _cryp_version = _value & 0xFFFF
                _cryp = Cryp(_cryp_version, _guest_error)
            else:
                _guest_error("write 0x%08x to reserved offset 0x3FC ignored" % _value)
        else:
            _cryp.write(_offset, _value)
