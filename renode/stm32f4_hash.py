# STM32F4 hash processor (HASH), RM0090 rev 19 section 25, as a Renode Python
# peripheral (IronPython 2.7; also runs on CPython 2.7 and 3).
#
# The same register semantics as the lab's QEMU model (qemu/hw/misc/
# stm32f4xx_hash.c), for polled use: no interrupt (IMR is a register only),
# no DMA (CR.DMAE is stored), and no processing time: a block is compressed
# within the access that allows it, so SR.BUSY reads 0 and DCIS is set by the
# STR write that starts the final computation (QEMU keeps BUSY for 66 or 82
# HCLK cycles per block in virtual time).
#
#   hash: Python.PythonPeripheral @ sysbus 0x50060400
#       size: 0x400
#       initable: true
#       filename: "renode/stm32f4_hash.py"
#
# Generation 1 (STM32F415/417: SHA-1, MD5, HMAC; HASH_CSR0..50) is the
# default; 2 (STM32F437/439: adds SHA-224/256, HASH_HR0..7 at 0x310,
# HASH_CSR0..53) is selected by writing 0x5EC00002 to offset 0x3FC (reserved
# in RM0090), which survives a machine reset.
#
# The context swap registers (RM0090 25.3.6) show the core state in the same
# model-defined layout as the QEMU model: CSR0 [4:0] words in the block,
# [10:8] phase, [17:16] algorithm, [18] HMAC, [19] LKEY, [31:24] 0xC5;
# CSR1/2 bits compressed; CSR3..10 chaining value; CSR11..26 block words;
# CSR38..45 HMAC inner digest. That is why the compression functions are
# written here instead of using a hash library (none exposes its state, and
# IronPython inside Renode guarantees no hashlib anyway).
#
# SPDX-License-Identifier: GPL-2.0-or-later

M32 = 0xFFFFFFFF


def _rol(x, n):
    return ((x << n) | (x >> (32 - n))) & M32


def _ror(x, n):
    return ((x >> n) | (x << (32 - n))) & M32


def _bswap(w):
    return ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >> 8) & 0xff00) | (w >> 24)


MD5_T = (
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
)
MD5_R = ((7, 12, 17, 22), (5, 9, 14, 20), (4, 11, 16, 23), (6, 10, 15, 21))

SHA256_K = (
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
)
IV_SHA1_MD5 = (0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0)
IV_SHA224 = (0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939,
             0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4)
IV_SHA256 = (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)

SHA1, MD5, SHA224, SHA256 = 0, 1, 2, 3
DIGEST_WORDS = {SHA1: 5, MD5: 4, SHA224: 7, SHA256: 8}


# A block is 16 words of the bit string as the core sees it: bit 31 of word 0
# is the first message bit. h is the 8-word chaining value, updated in place.

def sha1_compress(h, block):
    w = list(block)
    for i in range(16, 80):
        w.append(_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
    a, b, c, d, e = h[0], h[1], h[2], h[3], h[4]
    for i in range(80):
        if i < 20:
            f, k = (b & c) | (~b & d), 0x5a827999
        elif i < 40:
            f, k = b ^ c ^ d, 0x6ed9eba1
        elif i < 60:
            f, k = (b & c) | (b & d) | (c & d), 0x8f1bbcdc
        else:
            f, k = b ^ c ^ d, 0xca62c1d6
        a, b, c, d, e = (_rol(a, 5) + (f & M32) + e + k + w[i]) & M32, a, _rol(b, 30), c, d
    for i, v in enumerate((a, b, c, d, e)):
        h[i] = (h[i] + v) & M32


def sha256_compress(h, block):
    w = list(block)
    for i in range(16, 64):
        x, y = w[i - 15], w[i - 2]
        s0 = _ror(x, 7) ^ _ror(x, 18) ^ (x >> 3)
        s1 = _ror(y, 17) ^ _ror(y, 19) ^ (y >> 10)
        w.append((w[i - 16] + s0 + w[i - 7] + s1) & M32)
    a, b, c, d, e, f, g, hh = h
    for i in range(64):
        t1 = (hh + (_ror(e, 6) ^ _ror(e, 11) ^ _ror(e, 25)) + ((e & f) ^ (~e & g & M32)) +
              SHA256_K[i] + w[i]) & M32
        t2 = ((_ror(a, 2) ^ _ror(a, 13) ^ _ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & M32
        a, b, c, d, e, f, g, hh = (t1 + t2) & M32, a, b, c, (d + t1) & M32, e, f, g
    for i, v in enumerate((a, b, c, d, e, f, g, hh)):
        h[i] = (h[i] + v) & M32


def md5_compress(h, block):
    x = [_bswap(v) for v in block]          # MD5 reads little-endian words
    a, b, c, d = h[0], h[1], h[2], h[3]
    for i in range(64):
        r = i // 16
        if r == 0:
            f, g = (b & c) | (~b & d), i
        elif r == 1:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif r == 2:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | (~d & M32)), (7 * i) % 16
        t = _rol((a + (f & M32) + MD5_T[i] + x[g]) & M32, MD5_R[r][i % 4])
        a, b, c, d = d, (b + t) & M32, b, c
    for i, v in enumerate((a, b, c, d)):
        h[i] = (h[i] + v) & M32


# ---- the HASH block --------------------------------------------------------------

CR, DIN, STR, HR0, HR4, IMR, SR = 0x00, 0x04, 0x08, 0x0C, 0x1C, 0x20, 0x24
CSR0, CSR53, HASH_HR0, HASH_HR7 = 0xF8, 0x1CC, 0x310, 0x32C
CONFIG = 0x3FC
CONFIG_KEY = 0x5EC00000

CR_INIT, CR_DMAE, CR_DATATYPE, CR_MODE, CR_ALGO0 = 1 << 2, 1 << 3, 3 << 4, 1 << 6, 1 << 7
CR_NBW, CR_DINNE, CR_MDMAT, CR_LKEY, CR_ALGO1 = 0xF << 8, 1 << 12, 1 << 13, 1 << 16, 1 << 18
CR_WMASK_V1 = CR_DMAE | CR_DATATYPE | CR_MODE | CR_ALGO0 | CR_MDMAT | CR_LKEY
CR_RO_MASK = CR_NBW | CR_DINNE
STR_NBLW, STR_DCAL = 0x1F, 1 << 8
SR_DINIS, SR_DCIS, SR_DMAS, SR_BUSY = 1, 2, 4, 8
SR_RC_W0 = SR_DINIS | SR_DCIS
SR_DEFINED = SR_RC_W0 | SR_DMAS | SR_BUSY

PH_HASH, PH_IKEY, PH_MSG, PH_OKEY, PH_DONE = 0, 1, 2, 3, 4
CTX_TAG = 0xC5
CSR_NBITS_LO, CSR_NBITS_HI, CSR_H, CSR_BLOCK, CSR_INNER = 1, 2, 3, 11, 38
CSR_COUNT = {1: 51, 2: 54}


class Hash(object):
    def __init__(self, version=1, log=None):
        self.version = version
        self.log = log or (lambda msg: None)
        self.blocks = 0
        self.cr = 0
        self.str_ = 0
        self.imr = 0
        self.sr = 0
        self.hr = [0] * 8
        self.init_core()

    # -- the core
    def start_pass(self):
        iv = {SHA224: IV_SHA224, SHA256: IV_SHA256}.get(self.algo, IV_SHA1_MD5)
        self.h = list(iv) + [0] * (8 - len(iv))
        self.block = [0] * 16
        self.nwords = 0
        self.nbits = 0

    def compress(self, block):
        if self.algo == MD5:
            md5_compress(self.h, block)
        elif self.algo in (SHA224, SHA256):
            sha256_compress(self.h, block)
        else:
            sha1_compress(self.h, block)
        self.nbits += 512
        self.blocks += 1

    def finish_pass(self, last_bits):
        """Pad what is buffered (the last word holds last_bits valid bits from bit
        31), compress, return the digest as HR shows it (big-endian words)."""
        n = self.nwords
        buf = list(self.block[:n]) + [0] * (32 - n)
        pos = (n - 1) * 32 + last_bits if n else 0
        total = self.nbits + pos
        if n and last_bits < 32:
            buf[n - 1] &= (M32 << (32 - last_bits)) & M32
        buf[pos // 32] |= 0x80000000 >> (pos % 32)
        blocks = (pos + 1 + 64 + 511) // 512
        if self.algo == MD5:
            buf[blocks * 16 - 2] = _bswap(total & M32)
            buf[blocks * 16 - 1] = _bswap((total >> 32) & M32)
        else:
            buf[blocks * 16 - 2] = (total >> 32) & M32
            buf[blocks * 16 - 1] = total & M32
        for i in range(blocks):
            self.compress(buf[16 * i:16 * i + 16])
        out = [0] * 8
        for i in range(DIGEST_WORDS[self.algo]):
            out[i] = _bswap(self.h[i]) if self.algo == MD5 else self.h[i]
        self.nwords = 0
        return out

    def key_done(self, last_bits, pad):
        """End of an HMAC key pass: K' is the key (zero padded) when it fits in a
        block, else its digest; a new pass starts with K' xor pad."""
        key = [0] * 16
        if not self.lkey and self.nbits == 0:
            key[:self.nwords] = self.block[:self.nwords]
            if self.nwords and last_bits < 32:
                key[self.nwords - 1] &= (M32 << (32 - last_bits)) & M32
        else:
            if not self.lkey:
                self.log("HMAC key longer than a block with CR.LKEY=0 (hashed as with LKEY=1)")
            digest = self.finish_pass(last_bits)
            key[:DIGEST_WORDS[self.algo]] = digest[:DIGEST_WORDS[self.algo]]
        self.start_pass()
        self.compress([k ^ pad for k in key])

    def init_core(self):
        self.algo = ((self.cr & CR_ALGO1) >> 17) | ((self.cr & CR_ALGO0) >> 7)
        self.hmac = bool(self.cr & CR_MODE)
        self.lkey = bool(self.cr & CR_LKEY)
        self.phase = PH_IKEY if self.hmac else PH_HASH
        self.start_pass()
        self.inner = [0] * 8
        self.digest_ready = False
        self.sr = (self.sr & ~(SR_BUSY | SR_DCIS)) | SR_DINIS

    def write_din(self, value):
        if self.phase == PH_DONE:
            self.log("DIN written after the digest without CR.INIT (word dropped)")
            return
        dt = (self.cr & CR_DATATYPE) >> 4
        if dt == 1:
            value = ((value >> 16) | (value << 16)) & M32
        elif dt == 2:
            value = _bswap(value)
        elif dt == 3:
            value = int('{0:032b}'.format(value)[::-1], 2)
        if self.nwords == 16:
            # the 17th word: the block is not the last one, the core takes it
            self.compress(self.block)
            self.nwords = 0
        self.block[self.nwords] = value
        self.nwords += 1
        self.sr &= ~SR_DINIS
        if self.nwords == 16:
            self.sr |= SR_DINIS         # the core is idle: a new block can come

    def dcal(self):
        nblw = self.str_ & STR_NBLW
        last_bits = nblw if nblw else 32
        if self.phase == PH_DONE:
            self.log("STR.DCAL after the digest without CR.INIT (ignored)")
            return
        if self.phase == PH_IKEY:
            self.key_done(last_bits, 0x36363636)
            self.phase = PH_MSG
        elif self.phase == PH_MSG:
            self.inner = self.finish_pass(last_bits)
            self.start_pass()
            self.phase = PH_OKEY
        elif self.phase == PH_OKEY:
            self.key_done(last_bits, 0x5c5c5c5c)
            n = DIGEST_WORDS[self.algo]
            self.block[:n] = self.inner[:n]
            self.nwords = n
            self.hr = self.finish_pass(32)
            self.phase = PH_DONE
        else:
            self.hr = self.finish_pass(last_bits)
            self.phase = PH_DONE
        self.sr |= SR_DINIS
        if self.phase == PH_DONE:
            self.digest_ready = True
            self.sr |= SR_DCIS

    # -- context swap
    def read_csr(self, n):
        if n == 0:
            return (self.nwords | (self.phase << 8) | (self.algo << 16) |
                    (int(self.hmac) << 18) | (int(self.lkey) << 19) | (CTX_TAG << 24))
        if n == CSR_NBITS_LO:
            return self.nbits & M32
        if n == CSR_NBITS_HI:
            return (self.nbits >> 32) & M32
        if CSR_H <= n < CSR_BLOCK:
            return self.h[n - CSR_H]
        if CSR_BLOCK <= n < CSR_BLOCK + 16:
            return self.block[n - CSR_BLOCK]
        if CSR_INNER <= n < CSR_INNER + 8:
            return self.inner[n - CSR_INNER]
        return 0

    def write_csr(self, n, value):
        if n == 0:
            nwords, phase = value & 0x1F, (value >> 8) & 7
            algo, hmac = (value >> 16) & 3, bool(value & (1 << 18))
            hmac_phase = PH_IKEY <= phase <= PH_OKEY
            if ((value >> 24) != CTX_TAG or nwords > 16 or phase > PH_DONE or
                    (hmac_phase and not hmac) or (phase == PH_HASH and hmac) or
                    (self.version == 1 and algo > MD5)):
                self.log("CSR0 0x%08x is not a saved context (ignored)" % value)
                return
            self.nwords, self.phase, self.algo, self.hmac = nwords, phase, algo, hmac
            self.lkey = bool(value & (1 << 19))
            if nwords in (0, 16):
                self.sr |= SR_DINIS
            else:
                self.sr &= ~SR_DINIS
        elif n == CSR_NBITS_LO:
            if value % 512:
                self.log("CSR1 0x%08x is not a saved context (ignored)" % value)
                return
            self.nbits = (self.nbits & ~M32) | value
        elif n == CSR_NBITS_HI:
            self.nbits = (self.nbits & M32) | (value << 32)
        elif CSR_H <= n < CSR_BLOCK:
            self.h[n - CSR_H] = value
        elif CSR_BLOCK <= n < CSR_BLOCK + 16:
            self.block[n - CSR_BLOCK] = value
        elif CSR_INNER <= n < CSR_INNER + 8:
            self.inner[n - CSR_INNER] = value

    # -- registers
    def read_hr(self, n):
        if not self.digest_ready:
            self.log("HR%d read before the digest is ready (DCIS=0 since INIT)" % n)
        return self.hr[n]

    def read(self, offset):
        if offset == CR:
            return self.cr | (self.nwords << 8) | (CR_DINNE if self.nwords else 0)
        if offset == DIN:
            return 0                    # the FIFO cannot be read back
        if offset == STR:
            return self.str_
        if HR0 <= offset <= HR4:
            return self.read_hr((offset - HR0) // 4)
        if offset == IMR:
            return self.imr
        if offset == SR:
            return self.sr
        if CSR0 <= offset <= CSR53:
            n = (offset - CSR0) // 4
            if n >= CSR_COUNT[self.version]:
                self.log("bad offset 0x%x (no HASH_CSR%d on STM32F415/417)" % (offset, n))
                return 0
            return self.read_csr(n)
        if HASH_HR0 <= offset <= HASH_HR7:
            if self.version != 2:
                self.log("HASH_HR%d (0x%x) only exists on STM32F437/439 (reads 0)"
                         % ((offset - HASH_HR0) // 4, offset))
                return 0
            return self.read_hr((offset - HASH_HR0) // 4)
        if offset == CONFIG:
            return CONFIG_KEY | self.version
        self.log("bad offset 0x%x" % offset)
        return 0

    def write_cr(self, value):
        wmask = CR_WMASK_V1 | CR_INIT
        if self.version == 2:
            wmask |= CR_ALGO1
        elif value & CR_ALGO1:
            self.log("CR bit 18 (ALGO[1], SHA-224/256) is reserved on STM32F415/417 "
                     "(ignored: %s)" % ("MD5" if value & CR_ALGO0 else "SHA-1"))
        extra = value & ~(wmask | CR_RO_MASK | CR_ALGO1)
        if extra:
            self.log("CR: reserved bits 0x%08x written" % extra)
        if value & CR_DMAE and not self.cr & CR_DMAE:
            self.log("DMA requests are not modelled in Renode: write DIN from the CPU")
        self.cr = value & wmask & ~CR_INIT
        if value & CR_INIT:
            self.init_core()

    def write(self, offset, value):
        if offset == CR:
            self.write_cr(value)
        elif offset == DIN:
            self.write_din(value)
        elif offset == STR:
            if value & ~(STR_NBLW | STR_DCAL):
                self.log("STR: reserved bits 0x%08x written" % (value & ~(STR_NBLW | STR_DCAL)))
            self.str_ = value & STR_NBLW
            if value & STR_DCAL:
                self.dcal()
        elif offset == IMR:
            if value & ~3:
                self.log("IMR: reserved bits 0x%08x written" % (value & ~3))
            self.imr = value & 3
        elif offset == SR:
            # DINIS/DCIS are rc_w0; "SR = ~FLAG" is the usual way to clear one
            if value & ~SR_DEFINED and (value | SR_DEFINED) != M32:
                self.log("SR: reserved bits 0x%08x written" % (value & ~SR_DEFINED))
            self.sr &= value | ~SR_RC_W0
        elif HR0 <= offset <= HR4 or HASH_HR0 <= offset <= HASH_HR7:
            self.log("HR at 0x%x is read-only" % offset)
        elif CSR0 <= offset <= CSR53:
            n = (offset - CSR0) // 4
            if n >= CSR_COUNT[self.version]:
                self.log("bad offset 0x%x (no HASH_CSR%d on STM32F415/417)" % (offset, n))
                return
            self.write_csr(n, value)
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
    self.WarningLog("HASH: " + msg)


try:
    request
except NameError:                           # imported as a module: nothing to serve
    request = None

if request is not None:
    if _member(request, "IsInit"):
        try:
            _hash_version
        except NameError:
            _hash_version = 1
        _hash = Hash(_hash_version, _guest_error)
    elif _member(request, "IsRead"):
        _set_value(request, _hash.read(int(_member(request, "Offset"))) & M32)
    elif _member(request, "IsWrite"):
        _offset = int(_member(request, "Offset"))
        _value = int(_member(request, "Value")) & M32
        if _offset == CONFIG:
            if _value & 0xFFFF0000 == CONFIG_KEY and _value & 0xFFFF in (1, 2):
                _hash_version = _value & 0xFFFF
                _hash = Hash(_hash_version, _guest_error)
            else:
                _guest_error("write 0x%08x to reserved offset 0x3FC ignored" % _value)
        else:
            _hash.write(_offset, _value)
