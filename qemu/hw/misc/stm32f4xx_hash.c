/*
 * STM32F4xx hash processor (HASH)
 *
 * Reference: RM0090 rev 19, section 25 "Hash processor (HASH)".
 *
 * Two variants ("version" property):
 *   1 = STM32F415/417: SHA-1 and MD5, hash and HMAC; CR bit 18 is reserved,
 *       HASH_CSR0..50.
 *   2 = STM32F437/439: adds SHA-224 and SHA-256 (ALGO = CR bits 18 and 7),
 *       HASH_HR0..7 at 0x310 and HASH_CSR0..53.
 *
 * Data path (25.3.1-25.3.4): each DIN write is swapped as CR.DATATYPE says
 * (32-bit: none, 16-bit: half-words, 8-bit: bytes, 1-bit: bits) and goes to
 * the 16-word IN FIFO. A full block is compressed only when the 17th word
 * arrives (the core then knows it is not the last block) or on STR.DCAL,
 * which pads the message using STR.NBLW (valid bits of the last word, 0 =
 * all 32) and computes the digest. The compression functions are computed
 * here.
 *
 * Timing: in a normal (real-time) run the core finishes within the access
 * that started it: BUSY never reads 1, DINIS/DCIS show at once, and no timer
 * runs (a virtual-clock timer there costs tens of microseconds of host time
 * per block, far more than the computation). Under -icount and qtest, whose
 * virtual clocks are deterministic, BUSY stays set for the block processing
 * time of RM0090 25.3.7 (66 or 82 HCLK cycles per block at 168 MHz) in
 * virtual time, so guest-visible timing is the silicon's and reproducible.
 *
 * SR (25.4.5): DINIS is set when the FIFO can take a new block (after INIT,
 * when a block has been pushed to the core, at the end of a DCAL) and is
 * cleared by writing 0 or by writing DIN. DCIS is set when the final digest
 * is in HR and cleared by writing 0 or by INIT. DMAS reads 0.
 *
 * HMAC (25.3.5): INIT with MODE=1, key to DIN then DCAL (inner key phase;
 * with LKEY=1 the key is hashed first), message then DCAL, key again then
 * DCAL (outer phase); DCIS and HR after the last one only.
 *
 * Context swap (25.3.6): save IMR, STR, CR and CSR0..37 (hash) or all CSRs
 * (HMAC) once DINIS=1 and BUSY=0; restore by writing IMR, STR, CR, then CR
 * with INIT, then the CSRs. The CSRs are a view of the core state:
 *   CSR0      [4:0] words in the current block, [10:8] phase,
 *             [17:16] algorithm, [18] HMAC, [19] LKEY, [31:24] 0xC5 tag
 *   CSR1/2    bits compressed in the current pass, low/high word
 *   CSR3..10  chaining value H0..H7
 *   CSR11..26 the 16 words of the current block
 *   CSR38..45 HMAC inner digest (needed by the outer phase)
 *   others    read 0, writes ignored
 *
 * DMA (25.3.3, 25.4.1): with DMAE the HASH_IN request ("dma-in" GPIO
 * output, DMA2 stream 7 channel 2) is high while the core takes data, i.e.
 * until the final digest is started. The DMA tells the last word of its
 * transfer on the "dma-in-eot" input: then, unless MDMAT=1 (STM32F43xxx
 * only; a multi-transfer message), DMAE is cleared by hardware and the
 * padding and final digest start as if DCAL had been written, with the NBLW
 * programmed before. Clearing DMAE during a transfer does not stop it: the
 * interface stays on until that last word or INIT. DMAS reads 1 while the
 * interface is on.
 *
 * The DMA may also hand DIN a run of words in one call (the stm32f4xx-dma-
 * burst interface, include/hw/dma/stm32f4xx_dma_burst.h): each word is taken
 * as a DIN write, so the digest, the flags, the busy time and the requests
 * are those of the same words written one by one; it only saves the host
 * the bus dispatch per word.
 *
 * Not modelled: AHB wait states: a DIN write that finds the FIFO full while
 * the core is busy completes the busy block at once (timed runs only; in a
 * normal run the core is never busy).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/bitops.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "system/cpu-timers.h"
#include "system/qtest.h"
#include "hw/dma/stm32f4xx_dma_burst.h"
#include "hw/misc/stm32f4xx_hash.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(CR, 0x00)
    FIELD(CR, INIT, 2, 1)
    FIELD(CR, DMAE, 3, 1)
    FIELD(CR, DATATYPE, 4, 2)
    FIELD(CR, MODE, 6, 1)
    FIELD(CR, ALGO0, 7, 1)
    FIELD(CR, NBW, 8, 4)
    FIELD(CR, DINNE, 12, 1)
    FIELD(CR, MDMAT, 13, 1)
    FIELD(CR, LKEY, 16, 1)
    FIELD(CR, ALGO1, 18, 1)
REG32(DIN, 0x04)
REG32(STR, 0x08)
    FIELD(STR, NBLW, 0, 5)
    FIELD(STR, DCAL, 8, 1)
REG32(HR0, 0x0C)
REG32(HR4, 0x1C)
REG32(IMR, 0x20)
    FIELD(IMR, DINIE, 0, 1)
    FIELD(IMR, DCIE, 1, 1)
REG32(SR, 0x24)
    FIELD(SR, DINIS, 0, 1)
    FIELD(SR, DCIS, 1, 1)
    FIELD(SR, DMAS, 2, 1)
    FIELD(SR, BUSY, 3, 1)
REG32(CSR0, 0xF8)
REG32(CSR53, 0x1CC)
REG32(HASH_HR0, 0x310)
REG32(HASH_HR7, 0x32C)

/* CSR0 layout (model-defined, see the top of the file) */
FIELD(CTX, NWORDS, 0, 5)
FIELD(CTX, PHASE, 8, 3)
FIELD(CTX, ALGO, 16, 2)
FIELD(CTX, HMAC, 18, 1)
FIELD(CTX, LKEY, 19, 1)
FIELD(CTX, TAG, 24, 8)
#define CTX_TAG             0xC5

#define CSR_NBITS_LO        1
#define CSR_NBITS_HI        2
#define CSR_H               3
#define CSR_BLOCK           (CSR_H + STM32F4XX_HASH_DIGEST_WORDS)
#define CSR_INNER           38
#define CSR_COUNT_V1        51
#define CSR_COUNT_V2        54

#define CR_WMASK_V1   (R_CR_DMAE_MASK | R_CR_DATATYPE_MASK | R_CR_MODE_MASK | \
                       R_CR_ALGO0_MASK | R_CR_MDMAT_MASK | R_CR_LKEY_MASK)
#define CR_RO_MASK    (R_CR_NBW_MASK | R_CR_DINNE_MASK)
#define SR_RC_W0      (R_SR_DINIS_MASK | R_SR_DCIS_MASK)
#define SR_DEFINED    (SR_RC_W0 | R_SR_DMAS_MASK | R_SR_BUSY_MASK)

/* ALGO[1:0] = CR bits 18 and 7 (RM0090 25.4.1) */
enum {
    HASH_ALGO_SHA1 = 0,
    HASH_ALGO_MD5 = 1,
    HASH_ALGO_SHA224 = 2,
    HASH_ALGO_SHA256 = 3,
};

enum {
    STM32F4XX_HASH_PHASE_HASH = 0,      /* plain hash, message */
    STM32F4XX_HASH_PHASE_IKEY = 1,      /* HMAC inner key */
    STM32F4XX_HASH_PHASE_MSG = 2,       /* HMAC message */
    STM32F4XX_HASH_PHASE_OKEY = 3,      /* HMAC outer key */
    STM32F4XX_HASH_PHASE_DONE = 4,      /* digest computed, INIT needed */
};

/* HCLK cycles per 512-bit block (RM0090 25.3.7), at 168 MHz */
#define HCLK_HZ             168000000ULL
#define CYCLES_SHA1         82
#define CYCLES_MD5_SHA2     66

static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Left-rotation amounts, four per MD5 round */
static const uint8_t md5_r[4][4] = {
    { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t iv_sha1_md5[5] = {
    0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
};

static const uint32_t iv_sha224[8] = {
    0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939,
    0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4,
};

static const uint32_t iv_sha256[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/*
 * Compression functions. A block is 16 words of the bit string as the core
 * sees it: bit 31 of word 0 is the first message bit.
 */
static void sha1_compress(uint32_t h[8], const uint32_t block[16])
{
    uint32_t w[80];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = block[i];
    }
    for (i = 16; i < 80; i++) {
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    for (i = 0; i < 80; i++) {
        uint32_t f, k, t;

        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static void sha256_compress(uint32_t h[8], const uint32_t block[16])
{
    uint32_t w[64];
    uint32_t v[8];
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = block[i];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^
                      (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^
                      (w[i - 2] >> 10);

        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(v, h, sizeof(v));
    for (i = 0; i < 64; i++) {
        uint32_t e = v[4], a = v[0];
        uint32_t t1 = v[7] + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
                      ((e & v[5]) ^ (~e & v[6])) + sha256_k[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
                      ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));

        memmove(&v[1], &v[0], 7 * sizeof(uint32_t));
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (i = 0; i < 8; i++) {
        h[i] += v[i];
    }
}

static void md5_compress(uint32_t h[8], const uint32_t block[16])
{
    uint32_t x[16];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    int i;

    /* MD5 reads the bit string as little-endian words */
    for (i = 0; i < 16; i++) {
        x[i] = bswap32(block[i]);
    }
    for (i = 0; i < 64; i++) {
        uint32_t f, t;
        int g;

        switch (i / 16) {
        case 0:
            f = (b & c) | (~b & d);
            g = i;
            break;
        case 1:
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
            break;
        }
        t = d;
        d = c;
        c = b;
        b = b + rol32(a + f + md5_t[i] + x[g], md5_r[i / 16][i % 4]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

static unsigned stm32f4xx_hash_digest_words(uint32_t algo)
{
    switch (algo) {
    case HASH_ALGO_MD5:
        return 4;
    case HASH_ALGO_SHA224:
        return 7;
    case HASH_ALGO_SHA256:
        return 8;
    default:
        return 5;
    }
}

static void stm32f4xx_hash_compress(STM32F4xxHashState *s,
                                    const uint32_t block[16])
{
    switch (s->algo) {
    case HASH_ALGO_MD5:
        md5_compress(s->h, block);
        break;
    case HASH_ALGO_SHA224:
    case HASH_ALGO_SHA256:
        sha256_compress(s->h, block);
        break;
    default:
        sha1_compress(s->h, block);
        break;
    }
    s->nbits += 512;
    s->blocks++;
}

/* Start a pass of the core (a message, or one HMAC key) */
static void stm32f4xx_hash_start_pass(STM32F4xxHashState *s)
{
    memset(s->h, 0, sizeof(s->h));
    switch (s->algo) {
    case HASH_ALGO_SHA224:
        memcpy(s->h, iv_sha224, sizeof(iv_sha224));
        break;
    case HASH_ALGO_SHA256:
        memcpy(s->h, iv_sha256, sizeof(iv_sha256));
        break;
    default:
        memcpy(s->h, iv_sha1_md5, sizeof(iv_sha1_md5));
        break;
    }
    memset(s->block, 0, sizeof(s->block));
    s->nwords = 0;
    s->nbits = 0;
}

/*
 * Pad what is buffered (the last word holds last_bits valid bits, counted
 * from bit 31), compress, and return the digest as the HR registers show it:
 * the digest bytes read as big-endian words. Returns the blocks compressed.
 */
static unsigned stm32f4xx_hash_finish_pass(STM32F4xxHashState *s,
                                           unsigned last_bits,
                                           uint32_t out[8])
{
    uint32_t buf[2 * STM32F4XX_HASH_BLOCK_WORDS] = { 0 };
    unsigned n = s->nwords;
    unsigned pos = n ? (n - 1) * 32 + last_bits : 0;
    uint64_t total = s->nbits + pos;
    unsigned blocks, i;

    memcpy(buf, s->block, n * sizeof(uint32_t));
    if (n && last_bits < 32) {
        buf[n - 1] &= ~0U << (32 - last_bits);
    }
    buf[pos / 32] |= 0x80000000U >> (pos % 32);
    blocks = (pos + 1 + 64 + 511) / 512;
    if (s->algo == HASH_ALGO_MD5) {
        buf[blocks * 16 - 2] = bswap32((uint32_t)total);
        buf[blocks * 16 - 1] = bswap32((uint32_t)(total >> 32));
    } else {
        buf[blocks * 16 - 2] = total >> 32;
        buf[blocks * 16 - 1] = (uint32_t)total;
    }
    for (i = 0; i < blocks; i++) {
        stm32f4xx_hash_compress(s, &buf[i * 16]);
    }

    memset(out, 0, STM32F4XX_HASH_DIGEST_WORDS * sizeof(uint32_t));
    for (i = 0; i < stm32f4xx_hash_digest_words(s->algo); i++) {
        out[i] = s->algo == HASH_ALGO_MD5 ? bswap32(s->h[i]) : s->h[i];
    }
    s->nwords = 0;
    return blocks;
}

/*
 * End of an HMAC key pass: K' is the key itself when it fits in a block
 * (zero padded), else its digest. Start a new pass with K' xor pad.
 */
static unsigned stm32f4xx_hash_key_done(STM32F4xxHashState *s,
                                        unsigned last_bits, uint32_t pad)
{
    uint32_t key[STM32F4XX_HASH_BLOCK_WORDS] = { 0 };
    unsigned blocks = 0;
    unsigned i;

    if (!s->lkey && s->nbits == 0) {
        memcpy(key, s->block, s->nwords * sizeof(uint32_t));
        if (s->nwords && last_bits < 32) {
            key[s->nwords - 1] &= ~0U << (32 - last_bits);
        }
    } else {
        uint32_t digest[STM32F4XX_HASH_DIGEST_WORDS];

        if (!s->lkey) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: HMAC key longer than a block "
                          "with CR.LKEY=0 (hashed as with LKEY=1)\n", __func__);
        }
        blocks = stm32f4xx_hash_finish_pass(s, last_bits, digest);
        memcpy(key, digest, stm32f4xx_hash_digest_words(s->algo) *
               sizeof(uint32_t));
    }
    for (i = 0; i < STM32F4XX_HASH_BLOCK_WORDS; i++) {
        key[i] ^= pad;
    }
    stm32f4xx_hash_start_pass(s);
    stm32f4xx_hash_compress(s, key);
    return blocks + 1;
}

static void stm32f4xx_hash_update_irq(STM32F4xxHashState *s)
{
    bool level = (FIELD_EX32(s->imr, IMR, DINIE) &&
                  FIELD_EX32(s->sr, SR, DINIS)) ||
                 (FIELD_EX32(s->imr, IMR, DCIE) &&
                  FIELD_EX32(s->sr, SR, DCIS));

    trace_stm32f4xx_hash_irq(level);
    qemu_set_irq(s->irq, level);
}

static bool stm32f4xx_hash_dma_on(STM32F4xxHashState *s)
{
    return FIELD_EX32(s->cr, CR, DMAE) || s->dma_active;
}

/* A DIN write is always taken: one into a full FIFO completes the busy block */
static void stm32f4xx_hash_update_dma(STM32F4xxHashState *s)
{
    qemu_set_irq(s->dma_in, stm32f4xx_hash_dma_on(s) &&
                            s->phase != STM32F4XX_HASH_PHASE_DONE);
}

/* BUSY lasts in virtual time only where that time is deterministic */
static bool stm32f4xx_hash_timed(void)
{
    return icount_enabled() || qtest_enabled();
}

static void stm32f4xx_hash_busy_done(STM32F4xxHashState *s);

static void stm32f4xx_hash_set_busy(STM32F4xxHashState *s, unsigned blocks,
                                    bool final)
{
    unsigned cycles = s->algo == HASH_ALGO_SHA1 ? CYCLES_SHA1
                                                 : CYCLES_MD5_SHA2;
    int64_t ns = muldiv64(blocks * cycles, NANOSECONDS_PER_SECOND, HCLK_HZ);

    s->sr = FIELD_DP32(s->sr, SR, BUSY, 1);
    s->final_busy = final;
    if (!stm32f4xx_hash_timed()) {
        stm32f4xx_hash_busy_done(s);    /* zero time: see the top of the file */
        return;
    }
    timer_mod(s->busy_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + ns);
}

/* The core finished what BUSY stood for */
static void stm32f4xx_hash_busy_done(STM32F4xxHashState *s)
{
    if (!FIELD_EX32(s->sr, SR, BUSY)) {
        return;
    }
    timer_del(s->busy_timer);
    s->sr = FIELD_DP32(s->sr, SR, BUSY, 0);
    if (s->final_busy) {
        /* a DCAL: the FIFO is empty; the digest shows if it was the last */
        s->final_busy = false;
        s->sr = FIELD_DP32(s->sr, SR, DINIS, 1);
        if (s->phase == STM32F4XX_HASH_PHASE_DONE) {
            memcpy(s->hr, s->result, sizeof(s->hr));
            s->digest_ready = true;
            s->sr = FIELD_DP32(s->sr, SR, DCIS, 1);
        }
    } else if (s->nwords == STM32F4XX_HASH_BLOCK_WORDS) {
        /* the waiting block moves to the core: 16 FIFO places free */
        s->sr = FIELD_DP32(s->sr, SR, DINIS, 1);
    }
    trace_stm32f4xx_hash_done(s->phase, s->sr);
    stm32f4xx_hash_update_irq(s);
    stm32f4xx_hash_update_dma(s);
}

static void stm32f4xx_hash_busy_timeout(void *opaque)
{
    stm32f4xx_hash_busy_done(opaque);
}

static uint32_t stm32f4xx_hash_cr_algo(uint32_t cr)
{
    return (FIELD_EX32(cr, CR, ALGO1) << 1) | FIELD_EX32(cr, CR, ALGO0);
}

static void stm32f4xx_hash_init_core(STM32F4xxHashState *s)
{
    timer_del(s->busy_timer);
    s->algo = stm32f4xx_hash_cr_algo(s->cr);
    s->hmac = FIELD_EX32(s->cr, CR, MODE);
    s->lkey = FIELD_EX32(s->cr, CR, LKEY);
    s->phase = s->hmac ? STM32F4XX_HASH_PHASE_IKEY : STM32F4XX_HASH_PHASE_HASH;
    stm32f4xx_hash_start_pass(s);
    memset(s->inner, 0, sizeof(s->inner));
    memset(s->result, 0, sizeof(s->result));
    s->final_busy = false;
    s->digest_ready = false;
    s->dma_active = false;
    s->sr = FIELD_DP32(s->sr, SR, BUSY, 0);
    s->sr = FIELD_DP32(s->sr, SR, DCIS, 0);
    s->sr = FIELD_DP32(s->sr, SR, DINIS, 1);
    trace_stm32f4xx_hash_init(s->algo, s->hmac, s->lkey);
}

static void stm32f4xx_hash_write_din(STM32F4xxHashState *s, uint32_t value)
{
    if (s->phase == STM32F4XX_HASH_PHASE_DONE) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DIN written %s (word dropped)\n",
                      __func__, s->final_busy ?
                      "while the digest is being computed (BUSY=1)" :
                      "after the digest without CR.INIT");
        return;
    }
    if (s->final_busy) {
        /* an HMAC phase change: the next phase can take data */
        stm32f4xx_hash_busy_done(s);
    }
    switch (FIELD_EX32(s->cr, CR, DATATYPE)) {
    case 1:
        value = ror32(value, 16);
        break;
    case 2:
        value = bswap32(value);
        break;
    case 3:
        value = revbit32(value);
        break;
    default:
        break;
    }
    if (s->nwords == STM32F4XX_HASH_BLOCK_WORDS) {
        /*
         * The 17th word: the block is not the last one, so the core takes
         * it. On the silicon a write into a full FIFO waits for the core.
         */
        stm32f4xx_hash_busy_done(s);
        stm32f4xx_hash_compress(s, s->block);
        s->nwords = 0;
        trace_stm32f4xx_hash_block(s->phase, s->nbits);
        stm32f4xx_hash_set_busy(s, 1, false);
    }
    s->block[s->nwords++] = value;
    s->sr = FIELD_DP32(s->sr, SR, DINIS, 0);
    if (s->nwords == STM32F4XX_HASH_BLOCK_WORDS &&
        !FIELD_EX32(s->sr, SR, BUSY)) {
        s->sr = FIELD_DP32(s->sr, SR, DINIS, 1);
    }
}

static void stm32f4xx_hash_dcal(STM32F4xxHashState *s)
{
    unsigned nblw = FIELD_EX32(s->str, STR, NBLW);
    unsigned last_bits = nblw ? nblw : 32;
    unsigned digest_words = stm32f4xx_hash_digest_words(s->algo);
    unsigned blocks;
    uint32_t digest[STM32F4XX_HASH_DIGEST_WORDS];

    if (s->phase == STM32F4XX_HASH_PHASE_DONE) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: STR.DCAL %s (ignored)\n", __func__,
                      s->final_busy ? "while the digest is being computed"
                                    : "after the digest without CR.INIT");
        return;
    }
    stm32f4xx_hash_busy_done(s);
    trace_stm32f4xx_hash_dcal(s->phase, s->nwords, last_bits);

    switch (s->phase) {
    case STM32F4XX_HASH_PHASE_IKEY:
        blocks = stm32f4xx_hash_key_done(s, last_bits, 0x36363636);
        s->phase = STM32F4XX_HASH_PHASE_MSG;
        break;
    case STM32F4XX_HASH_PHASE_MSG:
        blocks = stm32f4xx_hash_finish_pass(s, last_bits, s->inner);
        stm32f4xx_hash_start_pass(s);
        s->phase = STM32F4XX_HASH_PHASE_OKEY;
        break;
    case STM32F4XX_HASH_PHASE_OKEY:
        blocks = stm32f4xx_hash_key_done(s, last_bits, 0x5c5c5c5c);
        memcpy(s->block, s->inner, digest_words * sizeof(uint32_t));
        s->nwords = digest_words;
        blocks += stm32f4xx_hash_finish_pass(s, 32, s->result);
        s->phase = STM32F4XX_HASH_PHASE_DONE;
        break;
    default:
        blocks = stm32f4xx_hash_finish_pass(s, last_bits, digest);
        memcpy(s->result, digest, sizeof(digest));
        s->phase = STM32F4XX_HASH_PHASE_DONE;
        break;
    }
    /* the FIFO is refilled only once the core is done with the DCAL */
    s->sr = FIELD_DP32(s->sr, SR, DINIS, 0);
    stm32f4xx_hash_set_busy(s, blocks, true);
}

static uint32_t stm32f4xx_hash_csr_count(STM32F4xxHashState *s)
{
    return s->version == 2 ? CSR_COUNT_V2 : CSR_COUNT_V1;
}

static uint32_t stm32f4xx_hash_read_csr(STM32F4xxHashState *s, unsigned n)
{
    uint32_t value = 0;

    if (n == 0) {
        value = FIELD_DP32(value, CTX, NWORDS, s->nwords);
        value = FIELD_DP32(value, CTX, PHASE, s->phase);
        value = FIELD_DP32(value, CTX, ALGO, s->algo);
        value = FIELD_DP32(value, CTX, HMAC, s->hmac);
        value = FIELD_DP32(value, CTX, LKEY, s->lkey);
        value = FIELD_DP32(value, CTX, TAG, CTX_TAG);
    } else if (n == CSR_NBITS_LO) {
        value = (uint32_t)s->nbits;
    } else if (n == CSR_NBITS_HI) {
        value = s->nbits >> 32;
    } else if (n >= CSR_H && n < CSR_BLOCK) {
        value = s->h[n - CSR_H];
    } else if (n >= CSR_BLOCK && n < CSR_BLOCK + STM32F4XX_HASH_BLOCK_WORDS) {
        value = s->block[n - CSR_BLOCK];
    } else if (n >= CSR_INNER && n < CSR_INNER + STM32F4XX_HASH_DIGEST_WORDS) {
        value = s->inner[n - CSR_INNER];
    }
    return value;
}

static void stm32f4xx_hash_write_csr(STM32F4xxHashState *s, unsigned n,
                                     uint32_t value)
{
    trace_stm32f4xx_hash_context(n, value);
    if (n == 0) {
        uint32_t nwords = FIELD_EX32(value, CTX, NWORDS);
        uint32_t phase = FIELD_EX32(value, CTX, PHASE);
        uint32_t algo = FIELD_EX32(value, CTX, ALGO);
        bool hmac = FIELD_EX32(value, CTX, HMAC);
        bool hmac_phase = phase >= STM32F4XX_HASH_PHASE_IKEY &&
                          phase <= STM32F4XX_HASH_PHASE_OKEY;

        if (FIELD_EX32(value, CTX, TAG) != CTX_TAG ||
            nwords > STM32F4XX_HASH_BLOCK_WORDS ||
            phase > STM32F4XX_HASH_PHASE_DONE ||
            (hmac_phase && !hmac) ||
            (phase == STM32F4XX_HASH_PHASE_HASH && hmac) ||
            (s->version == 1 && algo > HASH_ALGO_MD5)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: CSR0 0x%08x is not a saved "
                          "context (ignored)\n", __func__, value);
            return;
        }
        s->nwords = nwords;
        s->phase = phase;
        s->algo = algo;
        s->hmac = hmac;
        s->lkey = FIELD_EX32(value, CTX, LKEY);
        s->sr = FIELD_DP32(s->sr, SR, DINIS,
                           nwords == 0 || nwords == STM32F4XX_HASH_BLOCK_WORDS);
    } else if (n == CSR_NBITS_LO) {
        if (value % 512) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: CSR1 0x%08x is not a saved "
                          "context (ignored)\n", __func__, value);
            return;
        }
        s->nbits = deposit64(s->nbits, 0, 32, value);
    } else if (n == CSR_NBITS_HI) {
        s->nbits = deposit64(s->nbits, 32, 32, value);
    } else if (n >= CSR_H && n < CSR_BLOCK) {
        s->h[n - CSR_H] = value;
    } else if (n >= CSR_BLOCK && n < CSR_BLOCK + STM32F4XX_HASH_BLOCK_WORDS) {
        s->block[n - CSR_BLOCK] = value;
    } else if (n >= CSR_INNER && n < CSR_INNER + STM32F4XX_HASH_DIGEST_WORDS) {
        s->inner[n - CSR_INNER] = value;
    }
}

static uint32_t stm32f4xx_hash_read_hr(STM32F4xxHashState *s, unsigned n)
{
    if (!s->digest_ready) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: HR%u read before the digest is "
                      "ready (DCIS=0 since INIT)\n", __func__, n);
    }
    return s->hr[n];
}

/* RM0090 25.4: the HASH registers take word accesses only */
static uint64_t stm32f4xx_hash_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxHashState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                false)) {
        return 0;
    }
    switch (addr) {
    case A_CR:
        value = s->cr;
        value = FIELD_DP32(value, CR, NBW, s->nwords);
        value = FIELD_DP32(value, CR, DINNE, s->nwords != 0);
        break;
    case A_DIN:
        /* the FIFO cannot be read back */
        break;
    case A_STR:
        value = s->str;
        break;
    case A_HR0 ... A_HR4:
        value = stm32f4xx_hash_read_hr(s, (addr - A_HR0) / 4);
        break;
    case A_IMR:
        value = s->imr;
        break;
    case A_SR:
        value = FIELD_DP32(s->sr, SR, DMAS, stm32f4xx_hash_dma_on(s));
        break;
    case A_CSR0 ... A_CSR53:
        if ((addr - A_CSR0) / 4 >= stm32f4xx_hash_csr_count(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx
                          " (no HASH_CSR%u on STM32F415/417)\n", __func__,
                          addr, (unsigned)((addr - A_CSR0) / 4));
            break;
        }
        value = stm32f4xx_hash_read_csr(s, (addr - A_CSR0) / 4);
        break;
    case A_HASH_HR0 ... A_HASH_HR7:
        if (s->version != 2) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: HASH_HR%u (0x%" HWADDR_PRIx
                          ") only exists on STM32F437/439 (reads 0)\n",
                          __func__, (unsigned)((addr - A_HASH_HR0) / 4), addr);
            break;
        }
        value = stm32f4xx_hash_read_hr(s, (addr - A_HASH_HR0) / 4);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    trace_stm32f4xx_hash_read(addr, value);
    return value;
}

static void stm32f4xx_hash_write_cr(STM32F4xxHashState *s, uint32_t value)
{
    uint32_t wmask = CR_WMASK_V1 | R_CR_INIT_MASK;

    if (s->version == 2) {
        wmask |= R_CR_ALGO1_MASK;
    } else if (FIELD_EX32(value, CR, ALGO1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR bit 18 (ALGO[1], SHA-224/256) "
                      "is reserved on STM32F415/417 (ignored: %s)\n", __func__,
                      FIELD_EX32(value, CR, ALGO0) ? "MD5" : "SHA-1");
    }
    /* NBW and DINNE come back on read-modify-write: ignore them quietly */
    if (value & ~(wmask | CR_RO_MASK | R_CR_ALGO1_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: reserved bits 0x%08x "
                      "written\n", __func__,
                      value & ~(wmask | CR_RO_MASK | R_CR_ALGO1_MASK));
    }
    if (FIELD_EX32(value, CR, DMAE) && !FIELD_EX32(s->cr, CR, DMAE)) {
        s->dma_active = true;
    }
    s->cr = value & wmask & ~R_CR_INIT_MASK;
    if (FIELD_EX32(value, CR, INIT)) {
        stm32f4xx_hash_init_core(s);
    }
}

/*
 * After a DIN write: a word changes DINIS alone (what else it changes, the
 * end of a busy period, updates the lines itself), and the DMA request not
 * at all, so only an enabled DINIS interrupt needs a look.
 */
static void stm32f4xx_hash_din_written(STM32F4xxHashState *s)
{
    if (FIELD_EX32(s->imr, IMR, DINIE)) {
        stm32f4xx_hash_update_irq(s);
    }
}

/* The DMA hands DIN a run of words: the same as one DIN write each */
static size_t stm32f4xx_hash_burst_write(STM32F4xxDmaBurst *obj,
                                         hwaddr offset, const uint32_t *words,
                                         size_t n, const bool *stop)
{
    /* called per burst: no QOM cast check */
    STM32F4xxHashState *s = (STM32F4xxHashState *)obj;
    size_t i;

    if (offset != A_DIN) {
        return 0;
    }
    for (i = 0; i < n && !*stop; i++) {
        trace_stm32f4xx_hash_write(A_DIN, words[i]);
        stm32f4xx_hash_write_din(s, words[i]);
        stm32f4xx_hash_din_written(s);
    }
    return i;
}

/* The DMA moved the last word of its transfer to DIN */
static void stm32f4xx_hash_dma_eot(void *opaque, int n, int level)
{
    STM32F4xxHashState *s = opaque;

    if (!level || !stm32f4xx_hash_dma_on(s)) {
        return;
    }
    s->dma_active = false;
    if (s->version >= 2 && FIELD_EX32(s->cr, CR, MDMAT)) {
        trace_stm32f4xx_hash_dma_eot(false);
    } else {
        trace_stm32f4xx_hash_dma_eot(true);
        s->cr = FIELD_DP32(s->cr, CR, DMAE, 0);
        stm32f4xx_hash_dcal(s);
    }
    stm32f4xx_hash_update_irq(s);
    stm32f4xx_hash_update_dma(s);
}

static void stm32f4xx_hash_write(void *opaque, hwaddr addr, uint64_t val64,
                                 unsigned size)
{
    STM32F4xxHashState *s = opaque;
    uint32_t value = val64;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                true)) {
        return;
    }
    trace_stm32f4xx_hash_write(addr, value);
    switch (addr) {
    case A_CR:
        stm32f4xx_hash_write_cr(s, value);
        break;
    case A_DIN:
        stm32f4xx_hash_write_din(s, value);
        stm32f4xx_hash_din_written(s);
        return;
    case A_STR:
        if (value & ~(R_STR_NBLW_MASK | R_STR_DCAL_MASK)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: STR: reserved bits 0x%08x "
                          "written\n", __func__,
                          value & ~(R_STR_NBLW_MASK | R_STR_DCAL_MASK));
        }
        s->str = value & R_STR_NBLW_MASK;
        if (FIELD_EX32(value, STR, DCAL)) {
            stm32f4xx_hash_dcal(s);
        }
        break;
    case A_IMR:
        if (value & ~(R_IMR_DINIE_MASK | R_IMR_DCIE_MASK)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: IMR: reserved bits 0x%08x "
                          "written\n", __func__,
                          value & ~(R_IMR_DINIE_MASK | R_IMR_DCIE_MASK));
        }
        s->imr = value & (R_IMR_DINIE_MASK | R_IMR_DCIE_MASK);
        break;
    case A_SR:
        /*
         * DINIS and DCIS are rc_w0, the rest is read-only. "SR = ~FLAG"
         * is the usual way to clear one flag, so all-ones upper bits are
         * not an error.
         */
        if ((value & ~SR_DEFINED) && (value | SR_DEFINED) != UINT32_MAX) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: SR: reserved bits 0x%08x "
                          "written\n", __func__, value & ~SR_DEFINED);
        }
        s->sr &= value | ~SR_RC_W0;
        break;
    case A_HR0 ... A_HR4:
    case A_HASH_HR0 ... A_HASH_HR7:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: HR at 0x%" HWADDR_PRIx
                      " is read-only\n", __func__, addr);
        break;
    case A_CSR0 ... A_CSR53:
        if ((addr - A_CSR0) / 4 >= stm32f4xx_hash_csr_count(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx
                          " (no HASH_CSR%u on STM32F415/417)\n", __func__,
                          addr, (unsigned)((addr - A_CSR0) / 4));
            break;
        }
        stm32f4xx_hash_write_csr(s, (addr - A_CSR0) / 4, value);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    stm32f4xx_hash_update_irq(s);
    stm32f4xx_hash_update_dma(s);
}

static const MemoryRegionOps stm32f4xx_hash_ops = {
    .read = stm32f4xx_hash_read,
    .write = stm32f4xx_hash_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_hash_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxHashState *s = STM32F4XX_HASH(obj);

    s->cr = 0;
    s->str = 0;
    s->imr = 0;
    s->sr = 0;
    memset(s->hr, 0, sizeof(s->hr));
    /* the core comes out of reset as after INIT with CR = 0 (SHA-1) */
    stm32f4xx_hash_init_core(s);
}

static void stm32f4xx_hash_reset_exit(Object *obj, ResetType type)
{
    stm32f4xx_hash_update_irq(STM32F4XX_HASH(obj));
    stm32f4xx_hash_update_dma(STM32F4XX_HASH(obj));
}

static void stm32f4xx_hash_init(Object *obj)
{
    STM32F4xxHashState *s = STM32F4XX_HASH(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_hash_ops, s,
                          TYPE_STM32F4XX_HASH, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    qdev_init_gpio_out_named(DEVICE(obj), &s->dma_in, "dma-in", 1);
    qdev_init_gpio_in_named(DEVICE(obj), stm32f4xx_hash_dma_eot, "dma-in-eot",
                            1);
    s->busy_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL,
                                 stm32f4xx_hash_busy_timeout, s);
    /* for tests: blocks compressed since power-on */
    object_property_add_uint64_ptr(obj, "blocks", &s->blocks,
                                   OBJ_PROP_FLAG_READ);
}

static void stm32f4xx_hash_finalize(Object *obj)
{
    timer_free(STM32F4XX_HASH(obj)->busy_timer);
}

static void stm32f4xx_hash_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxHashState *s = STM32F4XX_HASH(dev);

    if (s->version < 1 || s->version > 2) {
        error_setg(errp, "version must be 1 (STM32F415/417) or 2 "
                   "(STM32F437/439)");
        return;
    }
}

/* Migrated values that index arrays or select code paths must be in range */
static int stm32f4xx_hash_post_load(void *opaque, int version_id)
{
    STM32F4xxHashState *s = opaque;

    if (s->nwords > STM32F4XX_HASH_BLOCK_WORDS ||
        s->phase > STM32F4XX_HASH_PHASE_DONE ||
        s->algo > HASH_ALGO_SHA256) {
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_stm32f4xx_hash = {
    .name = TYPE_STM32F4XX_HASH,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = stm32f4xx_hash_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, STM32F4xxHashState),
        VMSTATE_UINT32(str, STM32F4xxHashState),
        VMSTATE_UINT32(imr, STM32F4xxHashState),
        VMSTATE_UINT32(sr, STM32F4xxHashState),
        VMSTATE_UINT32_ARRAY(hr, STM32F4xxHashState,
                             STM32F4XX_HASH_DIGEST_WORDS),
        VMSTATE_UINT32_ARRAY(h, STM32F4xxHashState,
                             STM32F4XX_HASH_DIGEST_WORDS),
        VMSTATE_UINT32_ARRAY(block, STM32F4xxHashState,
                             STM32F4XX_HASH_BLOCK_WORDS),
        VMSTATE_UINT32(nwords, STM32F4xxHashState),
        VMSTATE_UINT64(nbits, STM32F4xxHashState),
        VMSTATE_UINT32(phase, STM32F4xxHashState),
        VMSTATE_UINT32(algo, STM32F4xxHashState),
        VMSTATE_BOOL(hmac, STM32F4xxHashState),
        VMSTATE_BOOL(lkey, STM32F4xxHashState),
        VMSTATE_UINT32_ARRAY(inner, STM32F4xxHashState,
                             STM32F4XX_HASH_DIGEST_WORDS),
        VMSTATE_UINT32_ARRAY(result, STM32F4xxHashState,
                             STM32F4XX_HASH_DIGEST_WORDS),
        VMSTATE_BOOL(final_busy, STM32F4xxHashState),
        VMSTATE_BOOL(digest_ready, STM32F4xxHashState),
        VMSTATE_TIMER_PTR(busy_timer, STM32F4xxHashState),
        VMSTATE_BOOL(dma_active, STM32F4xxHashState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_hash_properties[] = {
    DEFINE_PROP_UINT8("version", STM32F4xxHashState, version, 1),
};

static void stm32f4xx_hash_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = stm32f4xx_hash_realize;
    dc->vmsd = &vmstate_stm32f4xx_hash;
    rc->phases.hold = stm32f4xx_hash_reset_hold;
    rc->phases.exit = stm32f4xx_hash_reset_exit;
    device_class_set_props(dc, stm32f4xx_hash_properties);
    STM32F4XX_DMA_BURST_CLASS(klass)->burst_write = stm32f4xx_hash_burst_write;
}

static const TypeInfo stm32f4xx_hash_info = {
    .name              = TYPE_STM32F4XX_HASH,
    .parent            = TYPE_SYS_BUS_DEVICE,
    .instance_size     = sizeof(STM32F4xxHashState),
    .instance_init     = stm32f4xx_hash_init,
    .instance_finalize = stm32f4xx_hash_finalize,
    .class_init        = stm32f4xx_hash_class_init,
    .interfaces        = (InterfaceInfo[]) {
        { TYPE_STM32F4XX_DMA_BURST },
        { }
    },
};

static void stm32f4xx_hash_register_types(void)
{
    type_register_static(&stm32f4xx_hash_info);
}

type_init(stm32f4xx_hash_register_types)
