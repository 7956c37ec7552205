/*
 * STM32F4xx cryptographic processor (CRYP)
 *
 * Reference: RM0090 rev 19, section 23 "Cryptographic processor (CRYP)".
 *
 * Two generations, chosen by the "version" property:
 *   1 (STM32F415/417): AES-128/192/256 ECB/CBC/CTR, AES key preparation
 *     (ALGOMODE=111), DES and TDES ECB/CBC.
 *   2 (STM32F437/439): adds AES-GCM and AES-CCM (ALGOMODE[3], CR bit 19, and
 *     the GCM_CCMPH phases, CR bits 17:16) and the context swap registers
 *     CSGCMCCM0..7R / CSGCM0..7R. On version 1 those bits and registers are
 *     reserved: writes are ignored and logged, reads return 0.
 *
 * Data path (RM0090 23.3): words written to DIN enter an 8-word IN FIFO; when
 * CRYPEN=1 and a whole block is there (2 words DES/TDES, 4 words AES) and the
 * 8-word OUT FIFO has room for the result, the block is swapped according to
 * DATATYPE (none, half-words, bytes, bits), processed, swapped back and pushed
 * to the OUT FIFO, read through DOUT.
 *
 * Timing: in a normal (real-time) run a block is processed within the access
 * that made it possible: BUSY never reads 1, the result is in the OUT FIFO at
 * once, and no timer runs (a virtual-clock timer costs far more host time
 * than the block). Under -icount and qtest, whose virtual clocks are
 * deterministic, the core holds BUSY=1 for RM0090's processing time at HCLK
 * 168 MHz (see cryp_cycles) in virtual time, as on the silicon: a block
 * leaves the IN FIFO when it starts, its result enters the OUT FIFO (OFNE,
 * OUTRIS, the OUT DMA request) when it ends, and the next block starts only
 * then; a key preparation or a GCM/CCM init phase clears CRYPEN at its end.
 * Clearing CRYPEN lets the running block finish in its time (RM0090's BUSY=0
 * "disabled and the last processing has completed"). The block is computed
 * when it starts, so its IV/context updates show at once.
 * Not modelled: AHB wait states, and a guest that does not wait for BUSY=0:
 * a DIN write into a full IN FIFO completes the running block at once; a
 * CR write that changes the configuration or flushes while BUSY=1 (logged)
 * first completes every block queued under the old configuration, as a
 * normal run would have.
 *
 * Keys and IVs are big-endian words in the order of RM0090 23.3.x: AES-256
 * uses K0LR..K3RR, AES-192 K1LR..K3RR, AES-128 K2LR..K3RR; DES uses K1, TDES
 * K1, K2, K3 (E(K3, D(K2, E(K1, x)))); DES/TDES IV in IV0LR/IV0RR.
 * The key registers are write-only. CBC and CTR write the next IV back to the
 * IV registers after each block, so a guest can suspend and resume. CTR
 * increments the low 32 bits only (RM0090 "the block increments the least
 * significant 32 bits").
 *
 * AES ECB/CBC decryption uses the key prepared by ALGOMODE=111 (CRYPEN
 * clears itself when the preparation ends). The model keeps the prepared key
 * (the last round key words) internally and decrypts by expanding it
 * backwards, as the decryption datapath does; decrypting without a
 * preparation for the current key therefore yields wrong plaintext.
 *
 * GCM/CCM (version 2), phases selected by GCM_CCMPH:
 *   init: GCM: on CRYPEN=1 the hash subkey H=E(K,0) is computed from the
 *     key, J0 is taken as the IV registers with the counter minus one (the
 *     guest loads IV||0x00000002), CRYPEN clears. CCM: the guest loads CTR1 in
 *     the IV registers and writes B0 into DIN; CRYPEN clears after B0.
 *   header: each 128-bit block updates GHASH (GCM) or CBC-MAC (CCM), no output.
 *   payload: counter-mode keystream + GHASH / CBC-MAC, output to OUT FIFO.
 *   final: GCM: the guest writes len(A)||len(C) and reads the tag
 *     E(K,J0) xor GHASH; CCM: the guest writes CTR0 and reads E(K,CTR0) xor
 *     CBC-MAC. ALGODIR is ignored in this phase.
 * As on silicon, a last payload block shorter than 128 bits padded with zeros
 * gives a wrong tag for GCM encryption and CCM decryption (the HAL works
 * around it). The internal state is visible in the context swap registers:
 * CSGCMCCM0..3R: GHASH / CBC-MAC accumulator; CSGCMCCM4..7R: counter block
 * (CCM: next counter; GCM: next counter + 1, as STM32CubeF4's GCM workaround
 * expects); CSGCM0..3R: H; CSGCM4..7R: J0. The IV registers are not changed
 * by GCM/CCM processing.
 *
 * Host speed: expanded AES and DES key schedules are cached per instance
 * (compared by key value, never migrated), DES's IP and FP run from byte
 * tables and its rounds from S-box-and-P tables, so a block costs the cipher
 * alone; the DMA may hand DIN and DOUT runs of words in one call (see
 * "DMA" below).
 *
 * Interrupts (RM0090 23.5): INRIS while fewer than 4 words are in the IN FIFO
 * (INMIS also needs CRYPEN=1), OUTRIS while the OUT FIFO is not empty.
 *
 * DMA (23.4): the CRYP_IN request ("dma-in" GPIO output, DMA2 stream 6
 * channel 2) is high while DIEN=1, CRYPEN=1 and the IN FIFO has room for a
 * word; the CRYP_OUT request ("dma-out", DMA2 stream 5 channel 2) while
 * DOEN=1, CRYPEN=1 and the OUT FIFO holds a word. Both are low while the
 * block is disabled. These are the single-transfer requests; the burst
 * requests (4 words) are not separate lines: the DMA keeps transferring
 * while a request stays high. The DMA may hand DIN, or take from DOUT, a
 * run of words in one call (the stm32f4xx-dma-burst interface,
 * include/hw/dma/stm32f4xx_dma_burst.h): each word is a DIN write or a DOUT
 * read as above, blocks are processed and the requests raised and lowered
 * word by word, and the DMA ends the run where it would stop moving items of
 * that stream (so the OUT request raised by a block takes over from the IN
 * stream as it does item by item). This only saves the host the bus
 * dispatch per word; in timed runs a busy core leaves the IN FIFO full or
 * the OUT FIFO empty and so drops the request that ends the run, as item by
 * item.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "crypto/aes.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "qemu/timer.h"
#include "system/cpu-timers.h"
#include "system/qtest.h"
#include "hw/dma/stm32f4xx_dma_burst.h"
#include "hw/misc/stm32f4xx_cryp.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(CR, 0x00)
    FIELD(CR, ALGODIR, 2, 1)
    FIELD(CR, ALGOMODE, 3, 3)
    FIELD(CR, DATATYPE, 6, 2)
    FIELD(CR, KEYSIZE, 8, 2)
    FIELD(CR, FFLUSH, 14, 1)
    FIELD(CR, CRYPEN, 15, 1)
    FIELD(CR, GCM_CCMPH, 16, 2)
    FIELD(CR, ALGOMODE3, 19, 1)
REG32(SR, 0x04)
    FIELD(SR, IFEM, 0, 1)
    FIELD(SR, IFNF, 1, 1)
    FIELD(SR, OFNE, 2, 1)
    FIELD(SR, OFFU, 3, 1)
    FIELD(SR, BUSY, 4, 1)
REG32(DIN, 0x08)
REG32(DOUT, 0x0c)
REG32(DMACR, 0x10)
    FIELD(DMACR, DIEN, 0, 1)
    FIELD(DMACR, DOEN, 1, 1)
REG32(IMSCR, 0x14)
    FIELD(IMSCR, INIM, 0, 1)
    FIELD(IMSCR, OUTIM, 1, 1)
REG32(RISR, 0x18)
    FIELD(RISR, INRIS, 0, 1)
    FIELD(RISR, OUTRIS, 1, 1)
REG32(MISR, 0x1c)
    FIELD(MISR, INMIS, 0, 1)
    FIELD(MISR, OUTMIS, 1, 1)
REG32(K0LR, 0x20)
REG32(K3RR, 0x3c)
REG32(IV0LR, 0x40)
REG32(IV1RR, 0x4c)
REG32(CSGCMCCM0R, 0x50)
REG32(CSGCMCCM7R, 0x6c)
REG32(CSGCM0R, 0x70)
REG32(CSGCM7R, 0x8c)

#define CR_V1_MASK      (R_CR_ALGODIR_MASK | R_CR_ALGOMODE_MASK | \
                         R_CR_DATATYPE_MASK | R_CR_KEYSIZE_MASK | \
                         R_CR_CRYPEN_MASK)
#define CR_V2_ONLY      (R_CR_GCM_CCMPH_MASK | R_CR_ALGOMODE3_MASK)
/* Fields that select what a block means: not to change mid-block */
#define CR_CONFIG_MASK  (R_CR_ALGODIR_MASK | R_CR_ALGOMODE_MASK | \
                         R_CR_DATATYPE_MASK | R_CR_KEYSIZE_MASK | CR_V2_ONLY)
#define DMACR_MASK      (R_DMACR_DIEN_MASK | R_DMACR_DOEN_MASK)
#define IMSCR_MASK      (R_IMSCR_INIM_MASK | R_IMSCR_OUTIM_MASK)

#define FIFO_WORDS      STM32F4XX_CRYP_FIFO_WORDS
/* INRIS: the IN FIFO service request while fewer words than this are queued */
#define IN_SERVICE_LEVEL 4

enum {
    ALGO_TDES_ECB = 0,
    ALGO_TDES_CBC = 1,
    ALGO_DES_ECB = 2,
    ALGO_DES_CBC = 3,
    ALGO_AES_ECB = 4,
    ALGO_AES_CBC = 5,
    ALGO_AES_CTR = 6,
    ALGO_AES_KEY = 7,
    ALGO_AES_GCM = 8,
    ALGO_AES_CCM = 9,
};

enum {
    PHASE_INIT = 0,
    PHASE_HEADER = 1,
    PHASE_PAYLOAD = 2,
    PHASE_FINAL = 3,
};

enum {
    DATATYPE_32 = 0,
    DATATYPE_16 = 1,
    DATATYPE_8 = 2,
    DATATYPE_1 = 3,
};

static unsigned cryp_algo(uint32_t cr)
{
    return FIELD_EX32(cr, CR, ALGOMODE) | (FIELD_EX32(cr, CR, ALGOMODE3) << 3);
}

static bool cryp_algo_valid(unsigned algo)
{
    return algo <= ALGO_AES_CCM;
}

static bool cryp_is_des(unsigned algo)
{
    return algo <= ALGO_DES_CBC;
}

static bool cryp_is_aead(unsigned algo)
{
    return algo == ALGO_AES_GCM || algo == ALGO_AES_CCM;
}

/* Block size in 32-bit words */
static unsigned cryp_block_words(uint32_t cr)
{
    return cryp_is_des(cryp_algo(cr)) ? 2 : 4;
}

/* RM0090 23.3.3: the same swap applies on the way in and on the way out */
static uint32_t cryp_swap(uint32_t w, unsigned datatype)
{
    switch (datatype) {
    case DATATYPE_16:
        return ror32(w, 16);
    case DATATYPE_8:
        return bswap32(w);
    case DATATYPE_1:
        return revbit32(w);
    default:
        return w;
    }
}

static void cryp_words_to_bytes(uint8_t *out, const uint32_t *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        stl_be_p(out + 4 * i, w[i]);
    }
}

static void cryp_bytes_to_words(uint32_t *w, const uint8_t *in, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        w[i] = ldl_be_p(in + 4 * i);
    }
}

static void cryp_xor(uint8_t *dst, const uint8_t *a, const uint8_t *b,
                     unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        dst[i] = a[i] ^ b[i];
    }
}

/* ---- DES (FIPS 46-3), the block function the silicon computes ---------- */

static const uint8_t des_ip[64] = {
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
};

static const uint8_t des_fp[64] = {
    40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
    38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
    36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
    34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
};

static const uint8_t des_p[32] = {
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
};

static const uint8_t des_pc1[56] = {
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
    10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
    63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
};

static const uint8_t des_pc2[48] = {
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
    23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
    44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
};

static const uint8_t des_shifts[16] = {
    1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1,
};

/* des_sbox[box][row * 16 + column] */
static const uint8_t des_sbox[8][64] = {
    {
        14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
        0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
        4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
        15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
    }, {
        15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
        3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
        0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
        13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
    }, {
        10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
        13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
        13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
        1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
    }, {
        7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
        13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
        10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
        3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
    }, {
        2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
        14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
        4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
        11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
    }, {
        12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
        10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
        9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
        4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
    }, {
        4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
        13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
        1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
        6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
    }, {
        13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
        1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
        7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
        2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
    },
};

/* Bit n of a table is bit n of the input counted from 1 at the MSB (FIPS) */
static uint64_t des_permute(uint64_t in, unsigned in_bits,
                            const uint8_t *table, unsigned n)
{
    uint64_t out = 0;

    for (unsigned i = 0; i < n; i++) {
        out = (out << 1) | ((in >> (in_bits - table[i])) & 1);
    }
    return out;
}

/*
 * The same permutations by table lookup, one table of 256 entries per input
 * byte (a permutation ORs the contributions of its input bits): built once,
 * used per block.
 */
typedef struct {
    uint64_t t[8][256];
    unsigned in_bits;
} DesPerm;

static DesPerm *des_perm_ip, *des_perm_fp;

/*
 * The round function's S-boxes with the P permutation applied to their
 * output: des_sp[box][six] is P of S-box box's 4 bits for input six, in
 * their place of the 32-bit word. A round is then 8 lookups ORed.
 */
static uint32_t des_sp[8][64];

static void des_sp_build(void)
{
    for (unsigned box = 0; box < 8; box++) {
        for (unsigned six = 0; six < 64; six++) {
            unsigned row = ((six >> 4) & 2) | (six & 1);
            unsigned col = (six >> 1) & 0xf;
            uint32_t out = (uint32_t)des_sbox[box][row * 16 + col] <<
                           (28 - 4 * box);

            des_sp[box][six] = des_permute(out, 32, des_p, 32);
        }
    }
}

static DesPerm *des_perm_build(unsigned in_bits, const uint8_t *table,
                               unsigned n)
{
    DesPerm *p = g_new0(DesPerm, 1);

    p->in_bits = in_bits;
    for (unsigned b = 0; b < in_bits / 8; b++) {
        for (unsigned v = 0; v < 256; v++) {
            p->t[b][v] = des_permute((uint64_t)v << (in_bits - 8 - 8 * b),
                                     in_bits, table, n);
        }
    }
    return p;
}

static uint64_t des_perm(const DesPerm *p, uint64_t in)
{
    uint64_t out = 0;

    for (unsigned b = 0; b < p->in_bits / 8; b++) {
        out |= p->t[b][(in >> (p->in_bits - 8 - 8 * b)) & 0xff];
    }
    return out;
}

/*
 * E(R) in 6-bit groups: group box is bits 4*box .. 4*box+5 of R counted from
 * 1 at the MSB, bit 0 being bit 32. In R:R (R twice, 64 bits) that group is
 * the 6 bits at des_group_shift[box]; the even groups do not overlap each
 * other, nor do the odd ones, so a round key is two 64-bit words (its even
 * and its odd groups in those places) and E(R) xor K is two xors.
 */
static const uint8_t des_group_shift[8] = { 27, 55, 51, 47, 43, 39, 35, 31 };

/* The 16 round keys as [even groups, odd groups] (see des_group_shift) */
static void des_key_schedule(uint64_t key, uint64_t subkeys[16][2])
{
    uint64_t cd = des_permute(key, 64, des_pc1, 56);
    uint32_t c = cd >> 28, d = cd & 0xfffffff;

    for (unsigned r = 0; r < 16; r++) {
        for (unsigned k = 0; k < des_shifts[r]; k++) {
            c = ((c << 1) | (c >> 27)) & 0xfffffff;
            d = ((d << 1) | (d >> 27)) & 0xfffffff;
        }
        uint64_t k = des_permute(((uint64_t)c << 28) | d, 56, des_pc2, 48);

        subkeys[r][0] = subkeys[r][1] = 0;
        for (unsigned box = 0; box < 8; box++) {
            subkeys[r][box & 1] |= ((k >> (42 - 6 * box)) & 0x3f) <<
                                   des_group_shift[box];
        }
    }
}

/* f(R, K) of FIPS 46-3: E(R) xor K through the SP tables */
static uint32_t des_f(uint32_t r, const uint64_t subkey[2])
{
    uint64_t rr = ((uint64_t)r << 32) | r;
    uint64_t even = rr ^ subkey[0], odd = rr ^ subkey[1];

    return des_sp[0][(even >> 27) & 0x3f] | des_sp[1][(odd >> 55) & 0x3f] |
           des_sp[2][(even >> 51) & 0x3f] | des_sp[3][(odd >> 47) & 0x3f] |
           des_sp[4][(even >> 43) & 0x3f] | des_sp[5][(odd >> 39) & 0x3f] |
           des_sp[6][(even >> 35) & 0x3f] | des_sp[7][(odd >> 31) & 0x3f];
}

/*
 * Host-side caches of expanded keys: an AES or DES key schedule is computed
 * again only when the key it came from changes (compared by value, so nothing
 * needs invalidating and nothing of it is migrated).
 */
typedef struct STM32F4xxCrypKeyCache {
    bool enc_valid, dec_valid;
    unsigned enc_nk, dec_nk;
    uint32_t enc_src[8], dec_src[8];
    AES_KEY enc, dec;
    bool des_valid[3];
    uint64_t des_key[3];
    uint64_t des_sk[3][16][2];
} STM32F4xxCrypKeyCache;

static const uint64_t (*des_subkeys(STM32F4xxCrypState *s, uint64_t key))[2]
{
    STM32F4xxCrypKeyCache *c = s->key_cache;
    unsigned i;

    for (i = 0; i < 3; i++) {
        if (c->des_valid[i] && c->des_key[i] == key) {
            return c->des_sk[i];
        }
    }
    /* a TDES key has three parts: fill the free slots, then replace in turn */
    i = 0;
    while (i < 3 && c->des_valid[i]) {
        i++;
    }
    if (i == 3) {
        memmove(&c->des_key[0], &c->des_key[1], 2 * sizeof(c->des_key[0]));
        memmove(&c->des_sk[0], &c->des_sk[1], 2 * sizeof(c->des_sk[0]));
        i = 2;
    }
    des_key_schedule(key, c->des_sk[i]);
    c->des_key[i] = key;
    c->des_valid[i] = true;
    return c->des_sk[i];
}

/* The 16 rounds, between IP and FP: L0 R0 in, R16 L16 out */
static uint64_t des_rounds(STM32F4xxCrypState *s, uint64_t lr, uint64_t key,
                           bool decrypt)
{
    const uint64_t (*subkeys)[2] = des_subkeys(s, key);
    uint32_t l = lr >> 32, r = lr;

    for (unsigned i = 0; i < 16; i++) {
        uint32_t t = r;

        r = l ^ des_f(r, subkeys[decrypt ? 15 - i : i]);
        l = t;
    }
    return ((uint64_t)r << 32) | l;
}

/*
 * DES, or TDES E(K3, D(K2, E(K1, x))) (decryption: D(K1, E(K2, D(K3, x)))).
 * Between two DES passes FP and IP cancel out, so TDES has one of each.
 */
static uint64_t des_crypt(STM32F4xxCrypState *s, uint64_t block,
                          const uint64_t key[3], bool tdes, bool decrypt)
{
    uint64_t lr = des_perm(des_perm_ip, block);

    if (!tdes) {
        lr = des_rounds(s, lr, key[0], decrypt);
    } else if (!decrypt) {
        lr = des_rounds(s, lr, key[0], false);
        lr = des_rounds(s, lr, key[1], true);
        lr = des_rounds(s, lr, key[2], false);
    } else {
        lr = des_rounds(s, lr, key[2], true);
        lr = des_rounds(s, lr, key[1], false);
        lr = des_rounds(s, lr, key[0], true);
    }
    return des_perm(des_perm_fp, lr);
}

/* ---- AES helpers on top of QEMU's AES (crypto/aes.c) -------------------- */

static unsigned cryp_aes_key_words(STM32F4xxCrypState *s)
{
    switch (FIELD_EX32(s->cr, CR, KEYSIZE)) {
    case 1:
        return 6;
    case 2:
        return 8;
    default:
        return 4;   /* 11 is reserved (logged on the CR write) */
    }
}

/* The key is right-aligned in K0LR..K3RR (AES-128 uses K2LR..K3RR) */
static unsigned cryp_aes_key_bytes(STM32F4xxCrypState *s, uint8_t *kb)
{
    unsigned nk = cryp_aes_key_words(s);

    cryp_words_to_bytes(kb, &s->key[8 - nk], nk);
    return nk;
}

static void cryp_aes_encrypt(STM32F4xxCrypState *s, const uint8_t *in,
                             uint8_t *out)
{
    STM32F4xxCrypKeyCache *c = s->key_cache;
    unsigned nk = cryp_aes_key_words(s);

    if (!c->enc_valid || c->enc_nk != nk ||
        memcmp(c->enc_src, &s->key[8 - nk], nk * 4)) {
        uint8_t kb[32];

        cryp_aes_key_bytes(s, kb);
        AES_set_encrypt_key(kb, nk * 32, &c->enc);
        memcpy(c->enc_src, &s->key[8 - nk], nk * 4);
        c->enc_nk = nk;
        c->enc_valid = true;
    }
    AES_encrypt(in, out, &c->enc);
}

static uint32_t aes_sub_word(uint32_t w)
{
    return (AES_sbox[w >> 24] << 24) | (AES_sbox[(w >> 16) & 0xff] << 16) |
           (AES_sbox[(w >> 8) & 0xff] << 8) | AES_sbox[w & 0xff];
}

/* FIPS-197 5.2: the term w[i - Nk] is xored with */
static uint32_t aes_schedule_term(uint32_t prev, unsigned i, unsigned nk)
{
    if (i % nk == 0) {
        uint8_t rcon = 1;

        for (unsigned j = 1; j < i / nk; j++) {
            rcon = (rcon << 1) ^ ((rcon & 0x80) ? 0x1b : 0);
        }
        return aes_sub_word(rol32(prev, 8)) ^ ((uint32_t)rcon << 24);
    }
    if (nk > 6 && i % nk == 4) {
        return aes_sub_word(prev);
    }
    return prev;
}

/* Key preparation: keep the last Nk words of the key schedule */
static void cryp_aes_prepare_key(STM32F4xxCrypState *s)
{
    unsigned nk = cryp_aes_key_words(s);
    unsigned nw = 4 * (nk + 7);
    uint32_t w[60];

    memcpy(w, &s->key[8 - nk], nk * 4);
    for (unsigned i = nk; i < nw; i++) {
        w[i] = w[i - nk] ^ aes_schedule_term(w[i - 1], i, nk);
    }
    memset(s->dec_key, 0, sizeof(s->dec_key));
    memcpy(&s->dec_key[8 - nk], &w[nw - nk], nk * 4);
    trace_stm32f4xx_cryp_key_prepared(nk * 32);
}

/* Decryption runs the schedule backwards from the prepared key */
static void cryp_aes_decrypt(STM32F4xxCrypState *s, const uint8_t *in,
                             uint8_t *out)
{
    STM32F4xxCrypKeyCache *c = s->key_cache;
    unsigned nk = cryp_aes_key_words(s);
    unsigned nw = 4 * (nk + 7);

    if (!c->dec_valid || c->dec_nk != nk ||
        memcmp(c->dec_src, &s->dec_key[8 - nk], nk * 4)) {
        uint32_t w[60];
        uint8_t kb[32];

        memcpy(&w[nw - nk], &s->dec_key[8 - nk], nk * 4);
        for (unsigned i = nw - 1; i >= nk; i--) {
            w[i - nk] = w[i] ^ aes_schedule_term(w[i - 1], i, nk);
        }
        cryp_words_to_bytes(kb, w, nk);
        AES_set_decrypt_key(kb, nk * 32, &c->dec);
        memcpy(c->dec_src, &s->dec_key[8 - nk], nk * 4);
        c->dec_nk = nk;
        c->dec_valid = true;
    }
    AES_decrypt(in, out, &c->dec);
}

/* GF(2^128) multiply of SP 800-38D 6.3: x = x * h */
static void cryp_gf128_mul(uint8_t *x, const uint8_t *h)
{
    uint64_t vh = ldq_be_p(h), vl = ldq_be_p(h + 8);
    uint64_t zh = 0, zl = 0;

    for (unsigned i = 0; i < 128; i++) {
        bool lsb = vl & 1;

        if ((x[i / 8] >> (7 - i % 8)) & 1) {
            zh ^= vh;
            zl ^= vl;
        }
        vl = (vl >> 1) | (vh << 63);
        vh >>= 1;
        if (lsb) {
            vh ^= 0xe100000000000000ULL;
        }
    }
    stq_be_p(x, zh);
    stq_be_p(x + 8, zl);
}

/* ---- block processing ---------------------------------------------------- */

static void cryp_des_block(STM32F4xxCrypState *s, unsigned algo,
                           const uint8_t *in, uint8_t *out)
{
    bool decrypt = FIELD_EX32(s->cr, CR, ALGODIR);
    bool cbc = algo == ALGO_DES_CBC || algo == ALGO_TDES_CBC;
    bool tdes = algo == ALGO_TDES_ECB || algo == ALGO_TDES_CBC;
    const uint64_t key[3] = {
        ((uint64_t)s->key[2] << 32) | s->key[3],
        ((uint64_t)s->key[4] << 32) | s->key[5],
        ((uint64_t)s->key[6] << 32) | s->key[7],
    };
    uint64_t iv = ((uint64_t)s->iv[0] << 32) | s->iv[1];
    uint64_t x = ldq_be_p(in), y;

    if (!decrypt) {
        if (cbc) {
            x ^= iv;
        }
        y = des_crypt(s, x, key, tdes, false);
        if (cbc) {
            iv = y;
        }
    } else {
        y = des_crypt(s, x, key, tdes, true);
        if (cbc) {
            y ^= iv;
            iv = x;
        }
    }
    if (cbc) {
        s->iv[0] = iv >> 32;
        s->iv[1] = iv;
    }
    stq_be_p(out, y);
}

static void cryp_aes_block(STM32F4xxCrypState *s, unsigned algo,
                           const uint8_t *in, uint8_t *out)
{
    bool decrypt = FIELD_EX32(s->cr, CR, ALGODIR);
    uint8_t iv[16], t[16];

    cryp_words_to_bytes(iv, s->iv, 4);
    switch (algo) {
    case ALGO_AES_ECB:
        if (decrypt) {
            cryp_aes_decrypt(s, in, out);
        } else {
            cryp_aes_encrypt(s, in, out);
        }
        break;
    case ALGO_AES_CBC:
        if (decrypt) {
            cryp_aes_decrypt(s, in, t);
            cryp_xor(out, t, iv, 16);
            cryp_bytes_to_words(s->iv, in, 4);
        } else {
            cryp_xor(t, in, iv, 16);
            cryp_aes_encrypt(s, t, out);
            cryp_bytes_to_words(s->iv, out, 4);
        }
        break;
    case ALGO_AES_CTR:
        cryp_aes_encrypt(s, iv, t);
        cryp_xor(out, in, t, 16);
        s->iv[3]++;
        break;
    }
}

/* GCM/CCM; returns true when the block produces output */
static bool cryp_aead_block(STM32F4xxCrypState *s, unsigned algo,
                            const uint8_t *in, uint8_t *out)
{
    bool gcm = algo == ALGO_AES_GCM;
    bool decrypt = FIELD_EX32(s->cr, CR, ALGODIR);
    unsigned phase = FIELD_EX32(s->cr, CR, GCM_CCMPH);
    uint8_t x[16], ctr[16], h[16], t[16];

    cryp_words_to_bytes(x, s->csgcmccm, 4);
    cryp_words_to_bytes(h, s->csgcm, 4);

    switch (phase) {
    case PHASE_INIT:
        /* CCM only: B0 (GCM init needs no data, see cryp_run) */
        cryp_aes_encrypt(s, in, x);
        cryp_bytes_to_words(s->csgcmccm, x, 4);
        memcpy(&s->csgcmccm[4], s->iv, sizeof(s->iv));
        return false;
    case PHASE_HEADER:
        if (gcm) {
            cryp_xor(x, x, in, 16);
            cryp_gf128_mul(x, h);
        } else {
            cryp_xor(t, x, in, 16);
            cryp_aes_encrypt(s, t, x);
        }
        cryp_bytes_to_words(s->csgcmccm, x, 4);
        return false;
    case PHASE_PAYLOAD:
        cryp_words_to_bytes(ctr, &s->csgcmccm[4], 4);
        if (gcm) {
            /* the GCM counter register runs one ahead */
            stl_be_p(ctr + 12, s->csgcmccm[7] - 1);
        }
        cryp_aes_encrypt(s, ctr, t);
        cryp_xor(out, in, t, 16);
        s->csgcmccm[7]++;
        if (gcm) {
            cryp_xor(x, x, decrypt ? in : out, 16);
            cryp_gf128_mul(x, h);
        } else {
            cryp_xor(t, x, decrypt ? out : in, 16);
            cryp_aes_encrypt(s, t, x);
        }
        cryp_bytes_to_words(s->csgcmccm, x, 4);
        return true;
    default:
        if (gcm) {
            cryp_xor(x, x, in, 16);
            cryp_gf128_mul(x, h);
            cryp_bytes_to_words(s->csgcmccm, x, 4);
            cryp_words_to_bytes(ctr, &s->csgcm[4], 4);   /* J0 */
            cryp_aes_encrypt(s, ctr, t);
        } else {
            cryp_aes_encrypt(s, in, t);                  /* CTR0 */
        }
        cryp_xor(out, x, t, 16);
        return true;
    }
}

static void cryp_gcm_init(STM32F4xxCrypState *s)
{
    uint8_t zero[16] = { 0 }, h[16];

    cryp_aes_encrypt(s, zero, h);
    cryp_bytes_to_words(s->csgcm, h, 4);
    memcpy(&s->csgcm[4], s->iv, sizeof(s->iv));
    s->csgcm[7]--;                          /* J0: the guest loads J0 + 1 */
    memset(s->csgcmccm, 0, 4 * sizeof(uint32_t));
    memcpy(&s->csgcmccm[4], s->iv, sizeof(s->iv));
    s->csgcmccm[7]++;
}

static uint32_t cryp_risr(STM32F4xxCrypState *s)
{
    uint32_t risr = 0;

    risr = FIELD_DP32(risr, RISR, INRIS, s->in_count < IN_SERVICE_LEVEL);
    return FIELD_DP32(risr, RISR, OUTRIS, s->out_count > 0);
}

static uint32_t cryp_misr(STM32F4xxCrypState *s)
{
    uint32_t misr = cryp_risr(s) & s->imscr;

    if (!FIELD_EX32(s->cr, CR, CRYPEN)) {
        /* RM0090 23.5: INMIS is enabled with CRYPEN, OUTMIS is not */
        misr = FIELD_DP32(misr, MISR, INMIS, 0);
    }
    return misr;
}

/* Drive an output line; what it was driven to last is known (host speed) */
static void cryp_set_line(STM32F4xxCrypState *s, unsigned n, qemu_irq line,
                          bool level)
{
    if (s->line_level[n] != level) {
        s->line_level[n] = level;
        qemu_set_irq(line, level);
    }
}

static void cryp_update_irq(STM32F4xxCrypState *s)
{
    uint32_t misr = cryp_misr(s);
    bool on = FIELD_EX32(s->cr, CR, CRYPEN);

    trace_stm32f4xx_cryp_irq(cryp_risr(s), misr);
    cryp_set_line(s, 0, s->irq, misr != 0);
    cryp_set_line(s, 1, s->dma_in, on && FIELD_EX32(s->dmacr, DMACR, DIEN) &&
                                   s->in_count < FIFO_WORDS);
    cryp_set_line(s, 2, s->dma_out, on && FIELD_EX32(s->dmacr, DMACR, DOEN) &&
                                    s->out_count > 0);
}

static void cryp_disable_self(STM32F4xxCrypState *s)
{
    s->cr = FIELD_DP32(s->cr, CR, CRYPEN, 0);
    trace_stm32f4xx_cryp_enable(0, cryp_algo(s->cr),
                                FIELD_EX32(s->cr, CR, GCM_CCMPH),
                                FIELD_EX32(s->cr, CR, ALGODIR));
}

/*
 * HCLK cycles a block keeps the core busy, after RM0090's CRYP "Processing
 * time" tables (the processing phase alone: the FIFO transfers around it
 * are the guest's or the DMA's own accesses): DES 16, TDES 48, AES 14/16/18
 * for 128/192/256-bit keys; GCM/CCM (F437/439), per 128-bit block and key
 * size 128/192/256: GCM init 24/28/32, header 10, payload and final
 * 14/16/18; CCM init 12/14/16, header 14/16/18, payload 25/29/33, final
 * 14/16/18. Unverified: no copy of those tables could be consulted when
 * this was written, so the figures are as recalled (the AES/DES/TDES ones
 * agree with the lab's notes, and RM0477, STM32H7Rx/7Sx, gives its CRYP's
 * AES-128 ECB block as 14 cycles); key preparation (ALGOMODE=111) has no
 * figure we know of and takes one AES block's time. Check them against
 * RM0090.
 */
#define HCLK_HZ         168000000ULL

static unsigned cryp_cycles(STM32F4xxCrypState *s, unsigned algo)
{
    static const uint8_t aes[3] = { 14, 16, 18 };
    static const uint8_t gcm_init[3] = { 24, 28, 32 };
    static const uint8_t ccm_init[3] = { 12, 14, 16 };
    static const uint8_t ccm_payload[3] = { 25, 29, 33 };
    unsigned ks = FIELD_EX32(s->cr, CR, KEYSIZE);
    unsigned phase = FIELD_EX32(s->cr, CR, GCM_CCMPH);

    ks = ks > 2 ? 0 : ks;               /* KEYSIZE 11 runs as 128 bits */
    switch (algo) {
    case ALGO_TDES_ECB:
    case ALGO_TDES_CBC:
        return 48;
    case ALGO_DES_ECB:
    case ALGO_DES_CBC:
        return 16;
    case ALGO_AES_GCM:
        return phase == PHASE_INIT ? gcm_init[ks] :
               phase == PHASE_HEADER ? 10 : aes[ks];
    case ALGO_AES_CCM:
        return phase == PHASE_INIT ? ccm_init[ks] :
               phase == PHASE_PAYLOAD ? ccm_payload[ks] : aes[ks];
    default:
        return aes[ks];
    }
}

/* BUSY lasts in virtual time only where that time is deterministic */
static bool cryp_timed(void)
{
    return icount_enabled() || qtest_enabled();
}

/* The core's work ends: its result to the OUT FIFO (the caller runs on) */
static void cryp_busy_end(STM32F4xxCrypState *s)
{
    for (unsigned i = 0; i < s->busy_out_words; i++) {
        s->out_fifo[s->out_count++] = s->busy_out[i];
    }
    s->busy_out_words = 0;
    s->busy = false;
    if (s->busy_disables) {
        s->busy_disables = false;
        if (cryp_is_aead(cryp_algo(s->cr))) {
            trace_stm32f4xx_cryp_init_done(cryp_algo(s->cr));
        }
        cryp_disable_self(s);
    }
}

/*
 * The core starts work that takes `cycles`, whose result (if any) is already
 * in busy_out; in a normal run it ends at once.
 */
static void cryp_busy_start(STM32F4xxCrypState *s, unsigned cycles,
                            bool disables)
{
    s->busy = true;
    s->busy_disables = disables;
    if (!cryp_timed()) {
        cryp_busy_end(s);               /* zero time: see the top of the file */
        return;
    }
    timer_mod(s->busy_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              muldiv64(cycles, NANOSECONDS_PER_SECOND, HCLK_HZ));
}

/* Process as many blocks as the FIFOs (and, in timed runs, the core) allow */
static void cryp_run(STM32F4xxCrypState *s)
{
    while (FIELD_EX32(s->cr, CR, CRYPEN) && !s->busy) {
        unsigned algo = cryp_algo(s->cr);
        unsigned phase = FIELD_EX32(s->cr, CR, GCM_CCMPH);
        unsigned datatype = FIELD_EX32(s->cr, CR, DATATYPE);
        unsigned bw = cryp_block_words(s->cr);
        uint32_t w[4];
        uint8_t in[16], out[16];
        bool output = true;

        if (!cryp_algo_valid(algo)) {
            break;
        }
        if (algo == ALGO_AES_KEY) {
            cryp_aes_prepare_key(s);
            cryp_busy_start(s, cryp_cycles(s, algo), true);
            break;
        }
        if (algo == ALGO_AES_GCM && phase == PHASE_INIT) {
            cryp_gcm_init(s);
            cryp_busy_start(s, cryp_cycles(s, algo), true);
            break;
        }
        if (s->in_count < bw) {
            break;
        }
        if (cryp_is_aead(algo) &&
            (phase == PHASE_INIT || phase == PHASE_HEADER)) {
            output = false;
        }
        if (output && s->out_count + bw > FIFO_WORDS) {
            break;      /* waits for the guest to read DOUT */
        }

        for (unsigned i = 0; i < bw; i++) {
            w[i] = cryp_swap(s->in_fifo[i], datatype);
        }
        s->in_count -= bw;
        memmove(s->in_fifo, &s->in_fifo[bw], s->in_count * sizeof(uint32_t));
        cryp_words_to_bytes(in, w, bw);

        if (cryp_is_des(algo)) {
            cryp_des_block(s, algo, in, out);
        } else if (cryp_is_aead(algo)) {
            output = cryp_aead_block(s, algo, in, out);
        } else {
            cryp_aes_block(s, algo, in, out);
        }
        trace_stm32f4xx_cryp_block(algo, phase, FIELD_EX32(s->cr, CR, ALGODIR));
        s->blocks++;

        s->busy_out_words = 0;
        if (output) {
            cryp_bytes_to_words(w, out, bw);
            for (unsigned i = 0; i < bw; i++) {
                s->busy_out[i] = cryp_swap(w[i], datatype);
            }
            s->busy_out_words = bw;
        }
        if (algo == ALGO_AES_CCM && phase == PHASE_INIT) {
            cryp_busy_start(s, cryp_cycles(s, algo), true);
            break;
        }
        cryp_busy_start(s, cryp_cycles(s, algo), false);
    }
    cryp_update_irq(s);
}

static void cryp_busy_timeout(void *opaque)
{
    STM32F4xxCrypState *s = opaque;

    cryp_busy_end(s);
    cryp_run(s);
}

/* An access that on the silicon would wait for the core: it is done now */
static void cryp_finish_busy(STM32F4xxCrypState *s)
{
    if (s->busy) {
        timer_del(s->busy_timer);
        cryp_busy_end(s);
    }
}

/*
 * A configuration change while BUSY: the blocks queued under the old one
 * are processed at once, as a normal run would have done before the write.
 */
static void cryp_drain(STM32F4xxCrypState *s)
{
    while (s->busy) {
        cryp_finish_busy(s);
        cryp_run(s);
    }
}

static bool cryp_mid_block(STM32F4xxCrypState *s)
{
    return FIELD_EX32(s->cr, CR, CRYPEN) &&
           s->in_count % cryp_block_words(s->cr) != 0;
}

static void cryp_write_cr(STM32F4xxCrypState *s, uint32_t value)
{
    uint32_t allowed = CR_V1_MASK | R_CR_FFLUSH_MASK | CR_V2_ONLY;
    uint32_t mask = CR_V1_MASK | (s->version >= 2 ? CR_V2_ONLY : 0);
    uint32_t old = s->cr, new = value & mask;
    unsigned algo;

    if (value & ~allowed) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: reserved bits 0x%08x "
                      "written\n", __func__, value & ~allowed);
    }
    if (s->version < 2 && (value & CR_V2_ONLY)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: GCM_CCMPH/ALGOMODE[3] "
                      "(0x%08x) are reserved on STM32F415/417, ignored\n",
                      __func__, value & CR_V2_ONLY);
    }
    if (s->busy && (((old ^ new) & CR_CONFIG_MASK) ||
                    (FIELD_EX32(value, CR, FFLUSH) &&
                     !FIELD_EX32(old, CR, CRYPEN)))) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR written (0x%08x -> 0x%08x) "
                      "while BUSY=1: the queued blocks complete first\n",
                      __func__, old, value);
        cryp_drain(s);
        old = s->cr;                    /* an init or key preparation ended */
    }
    if (FIELD_EX32(value, CR, FFLUSH)) {
        if (FIELD_EX32(old, CR, CRYPEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: FFLUSH has no effect while "
                          "CRYPEN=1\n", __func__);
        } else {
            s->in_count = 0;
            s->out_count = 0;
            trace_stm32f4xx_cryp_flush();
        }
    }
    if (((old ^ new) & CR_CONFIG_MASK) && cryp_mid_block(s)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: configuration changed "
                      "(0x%08x -> 0x%08x) with a partial block in the IN "
                      "FIFO\n", __func__, old, new);
    }
    algo = cryp_algo(new);
    if (!cryp_algo_valid(algo)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: reserved ALGOMODE %u, "
                      "nothing is processed\n", __func__, algo);
    }
    if (FIELD_EX32(new, CR, KEYSIZE) == 3) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: reserved KEYSIZE 11, "
                      "using 128 bits\n", __func__);
    }
    s->cr = new;
    if ((old ^ new) & (R_CR_CRYPEN_MASK | R_CR_GCM_CCMPH_MASK |
                       R_CR_ALGOMODE_MASK | R_CR_ALGOMODE3_MASK)) {
        trace_stm32f4xx_cryp_enable(FIELD_EX32(new, CR, CRYPEN), algo,
                                    FIELD_EX32(new, CR, GCM_CCMPH),
                                    FIELD_EX32(new, CR, ALGODIR));
    }
    cryp_run(s);
}

static void cryp_write_din(STM32F4xxCrypState *s, uint32_t value)
{
    if (s->in_count == FIFO_WORDS && s->busy) {
        /* the silicon holds the write until the core takes a block */
        cryp_finish_busy(s);
        cryp_run(s);
    }
    if (s->in_count == FIFO_WORDS) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DIN written with the IN FIFO "
                      "full, word 0x%08x dropped\n", __func__, value);
        return;
    }
    s->in_fifo[s->in_count++] = value;
    cryp_run(s);
}

static uint32_t cryp_read_dout(STM32F4xxCrypState *s)
{
    uint32_t value;

    if (s->out_count == 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DOUT read with the OUT FIFO "
                      "empty (reads 0)\n", __func__);
        return 0;
    }
    value = s->out_fifo[0];
    s->out_count--;
    memmove(s->out_fifo, &s->out_fifo[1], s->out_count * sizeof(uint32_t));
    cryp_run(s);
    return value;
}

static bool cryp_v2_register(STM32F4xxCrypState *s, hwaddr addr, bool write)
{
    if (s->version >= 2) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "%s: context swap register 0x%02"
                  HWADDR_PRIx " does not exist on STM32F415/417 (%s)\n",
                  __func__, addr, write ? "write ignored" : "reads 0");
    return false;
}

/* RM0090 23.6: the CRYP registers take word accesses only */
static uint64_t stm32f4xx_cryp_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxCrypState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                false)) {
        return 0;
    }
    switch (addr) {
    case A_CR:
        value = s->cr;
        break;
    case A_SR:
        value = FIELD_DP32(value, SR, IFEM, s->in_count == 0);
        value = FIELD_DP32(value, SR, IFNF, s->in_count < FIFO_WORDS);
        value = FIELD_DP32(value, SR, OFNE, s->out_count > 0);
        value = FIELD_DP32(value, SR, OFFU, s->out_count == FIFO_WORDS);
        value = FIELD_DP32(value, SR, BUSY, s->busy);
        break;
    case A_DIN:
        /* RM0090 23.6.3: with CRYPEN=0 a read pops the IN FIFO */
        if (FIELD_EX32(s->cr, CR, CRYPEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DIN read while CRYPEN=1 "
                          "(undefined, reads 0)\n", __func__);
        } else if (s->in_count == 0) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DIN read with the IN FIFO "
                          "empty\n", __func__);
        } else {
            value = s->in_fifo[0];
            s->in_count--;
            memmove(s->in_fifo, &s->in_fifo[1],
                    s->in_count * sizeof(uint32_t));
            cryp_update_irq(s);
        }
        break;
    case A_DOUT:
        value = cryp_read_dout(s);
        break;
    case A_DMACR:
        value = s->dmacr;
        break;
    case A_IMSCR:
        value = s->imscr;
        break;
    case A_RISR:
        value = cryp_risr(s);
        break;
    case A_MISR:
        value = cryp_misr(s);
        break;
    case A_K0LR ... A_K3RR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: key register 0x%02" HWADDR_PRIx
                      " is write-only (reads 0)\n", __func__, addr);
        break;
    case A_IV0LR ... A_IV1RR:
        value = s->iv[(addr - A_IV0LR) / 4];
        break;
    case A_CSGCMCCM0R ... A_CSGCMCCM7R:
        if (cryp_v2_register(s, addr, false)) {
            value = s->csgcmccm[(addr - A_CSGCMCCM0R) / 4];
        }
        break;
    case A_CSGCM0R ... A_CSGCM7R:
        if (cryp_v2_register(s, addr, false)) {
            value = s->csgcm[(addr - A_CSGCM0R) / 4];
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    trace_stm32f4xx_cryp_read(addr, value);
    return value;
}

static void stm32f4xx_cryp_write(void *opaque, hwaddr addr, uint64_t val64,
                                 unsigned size)
{
    STM32F4xxCrypState *s = opaque;
    uint32_t value = val64;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                true)) {
        return;
    }
    trace_stm32f4xx_cryp_write(addr, value);
    switch (addr) {
    case A_CR:
        cryp_write_cr(s, value);
        break;
    case A_DIN:
        cryp_write_din(s, value);
        break;
    case A_DMACR:
        if (value & ~DMACR_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DMACR: reserved bits 0x%08x "
                          "written\n", __func__, value & ~DMACR_MASK);
        }
        s->dmacr = value & DMACR_MASK;
        cryp_update_irq(s);
        break;
    case A_IMSCR:
        if (value & ~IMSCR_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: IMSCR: reserved bits 0x%08x "
                          "written\n", __func__, value & ~IMSCR_MASK);
        }
        s->imscr = value & IMSCR_MASK;
        cryp_update_irq(s);
        break;
    case A_SR:
    case A_DOUT:
    case A_RISR:
    case A_MISR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: register 0x%02" HWADDR_PRIx
                      " is read-only\n", __func__, addr);
        break;
    case A_K0LR ... A_K3RR:
        if (s->busy) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: key written while BUSY=1 "
                          "(the running block keeps the old key)\n",
                          __func__);
        }
        if (cryp_mid_block(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: key changed with a partial "
                          "block in the IN FIFO\n", __func__);
        }
        s->key[(addr - A_K0LR) / 4] = value;
        break;
    case A_IV0LR ... A_IV1RR:
        if (s->busy) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: IV written while BUSY=1 "
                          "(the running block keeps the old IV)\n",
                          __func__);
        }
        if (cryp_mid_block(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: IV changed with a partial "
                          "block in the IN FIFO\n", __func__);
        }
        s->iv[(addr - A_IV0LR) / 4] = value;
        break;
    case A_CSGCMCCM0R ... A_CSGCMCCM7R:
        if (cryp_v2_register(s, addr, true)) {
            s->csgcmccm[(addr - A_CSGCMCCM0R) / 4] = value;
        }
        break;
    case A_CSGCM0R ... A_CSGCM7R:
        if (cryp_v2_register(s, addr, true)) {
            s->csgcm[(addr - A_CSGCM0R) / 4] = value;
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
}

/* The DMA hands DIN a run of words: the same as one DIN write each */
static size_t stm32f4xx_cryp_burst_write(STM32F4xxDmaBurst *obj,
                                         hwaddr offset, const uint32_t *words,
                                         size_t n, const bool *stop)
{
    /* called per burst: no QOM cast check */
    STM32F4xxCrypState *s = (STM32F4xxCrypState *)obj;
    size_t i;

    if (offset != A_DIN) {
        return 0;
    }
    for (i = 0; i < n && !*stop; i++) {
        trace_stm32f4xx_cryp_write(A_DIN, words[i]);
        cryp_write_din(s, words[i]);
    }
    return i;
}

/* The DMA takes a run of words from DOUT: the same as one DOUT read each */
static size_t stm32f4xx_cryp_burst_read(STM32F4xxDmaBurst *obj,
                                        hwaddr offset, uint32_t *words,
                                        size_t n, const bool *stop)
{
    /* called per burst: no QOM cast check */
    STM32F4xxCrypState *s = (STM32F4xxCrypState *)obj;
    size_t i;

    if (offset != A_DOUT) {
        return 0;
    }
    for (i = 0; i < n && !*stop; i++) {
        words[i] = cryp_read_dout(s);
        trace_stm32f4xx_cryp_read(A_DOUT, words[i]);
    }
    return i;
}

static const MemoryRegionOps stm32f4xx_cryp_ops = {
    .read = stm32f4xx_cryp_read,
    .write = stm32f4xx_cryp_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_cryp_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxCrypState *s = STM32F4XX_CRYP(obj);

    s->cr = 0;
    s->dmacr = 0;
    s->imscr = 0;
    memset(s->key, 0, sizeof(s->key));
    memset(s->iv, 0, sizeof(s->iv));
    memset(s->csgcmccm, 0, sizeof(s->csgcmccm));
    memset(s->csgcm, 0, sizeof(s->csgcm));
    memset(s->dec_key, 0, sizeof(s->dec_key));
    memset(s->in_fifo, 0, sizeof(s->in_fifo));
    memset(s->out_fifo, 0, sizeof(s->out_fifo));
    s->in_count = 0;
    s->out_count = 0;
    timer_del(s->busy_timer);
    s->busy = false;
    s->busy_disables = false;
    s->busy_out_words = 0;
    memset(s->busy_out, 0, sizeof(s->busy_out));
    /* drive every line again when the reset ends */
    memset(s->line_level, -1, sizeof(s->line_level));
}

static void stm32f4xx_cryp_reset_exit(Object *obj, ResetType type)
{
    cryp_update_irq(STM32F4XX_CRYP(obj));
}

static void stm32f4xx_cryp_init(Object *obj)
{
    STM32F4xxCrypState *s = STM32F4XX_CRYP(obj);

    s->key_cache = g_new0(STM32F4xxCrypKeyCache, 1);
    s->busy_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, cryp_busy_timeout, s);
    memset(s->line_level, -1, sizeof(s->line_level));
    /* for tests: blocks that went through the datapath since power-on */
    object_property_add_uint64_ptr(obj, "blocks", &s->blocks,
                                   OBJ_PROP_FLAG_READ);
}

static void stm32f4xx_cryp_finalize(Object *obj)
{
    g_free(STM32F4XX_CRYP(obj)->key_cache);
    timer_free(STM32F4XX_CRYP(obj)->busy_timer);
}

static void stm32f4xx_cryp_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxCrypState *s = STM32F4XX_CRYP(dev);

    if (s->version < 1 || s->version > 2) {
        error_setg(errp, "version must be 1 (STM32F415/417) or 2 "
                   "(STM32F437/439)");
        return;
    }
    memory_region_init_io(&s->mmio, OBJECT(dev), &stm32f4xx_cryp_ops, s,
                          TYPE_STM32F4XX_CRYP, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(dev), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(dev), &s->irq);
    qdev_init_gpio_out_named(dev, &s->dma_in, "dma-in", 1);
    qdev_init_gpio_out_named(dev, &s->dma_out, "dma-out", 1);
}

static int stm32f4xx_cryp_post_load(void *opaque, int version_id)
{
    STM32F4xxCrypState *s = opaque;

    if (s->in_count > FIFO_WORDS || s->out_count > FIFO_WORDS ||
        s->busy_out_words > 4 ||
        s->out_count + s->busy_out_words > FIFO_WORDS) {
        return -EINVAL;
    }
    return 0;
}

/* Only a machine saved while the core was busy (a timed run) has this */
static bool stm32f4xx_cryp_busy_needed(void *opaque)
{
    return ((STM32F4xxCrypState *)opaque)->busy;
}

static const VMStateDescription vmstate_stm32f4xx_cryp_busy = {
    .name = TYPE_STM32F4XX_CRYP "/busy",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = stm32f4xx_cryp_busy_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(busy, STM32F4xxCrypState),
        VMSTATE_BOOL(busy_disables, STM32F4xxCrypState),
        VMSTATE_UINT32_ARRAY(busy_out, STM32F4xxCrypState, 4),
        VMSTATE_UINT32(busy_out_words, STM32F4xxCrypState),
        VMSTATE_TIMER_PTR(busy_timer, STM32F4xxCrypState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_stm32f4xx_cryp = {
    .name = TYPE_STM32F4XX_CRYP,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = stm32f4xx_cryp_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, STM32F4xxCrypState),
        VMSTATE_UINT32(dmacr, STM32F4xxCrypState),
        VMSTATE_UINT32(imscr, STM32F4xxCrypState),
        VMSTATE_UINT32_ARRAY(key, STM32F4xxCrypState, 8),
        VMSTATE_UINT32_ARRAY(iv, STM32F4xxCrypState, 4),
        VMSTATE_UINT32_ARRAY(csgcmccm, STM32F4xxCrypState, 8),
        VMSTATE_UINT32_ARRAY(csgcm, STM32F4xxCrypState, 8),
        VMSTATE_UINT32_ARRAY(dec_key, STM32F4xxCrypState, 8),
        VMSTATE_UINT32_ARRAY(in_fifo, STM32F4xxCrypState, FIFO_WORDS),
        VMSTATE_UINT32(in_count, STM32F4xxCrypState),
        VMSTATE_UINT32_ARRAY(out_fifo, STM32F4xxCrypState, FIFO_WORDS),
        VMSTATE_UINT32(out_count, STM32F4xxCrypState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_stm32f4xx_cryp_busy,
        NULL
    },
};

static const Property stm32f4xx_cryp_properties[] = {
    DEFINE_PROP_UINT8("version", STM32F4xxCrypState, version, 1),
};

static void stm32f4xx_cryp_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    if (!des_perm_ip) {
        des_perm_ip = des_perm_build(64, des_ip, 64);
        des_perm_fp = des_perm_build(64, des_fp, 64);
        des_sp_build();
    }
    dc->realize = stm32f4xx_cryp_realize;
    dc->vmsd = &vmstate_stm32f4xx_cryp;
    rc->phases.hold = stm32f4xx_cryp_reset_hold;
    rc->phases.exit = stm32f4xx_cryp_reset_exit;
    device_class_set_props(dc, stm32f4xx_cryp_properties);
    STM32F4XX_DMA_BURST_CLASS(klass)->burst_write = stm32f4xx_cryp_burst_write;
    STM32F4XX_DMA_BURST_CLASS(klass)->burst_read = stm32f4xx_cryp_burst_read;
}

static const TypeInfo stm32f4xx_cryp_info = {
    .name = TYPE_STM32F4XX_CRYP,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxCrypState),
    .instance_init = stm32f4xx_cryp_init,
    .instance_finalize = stm32f4xx_cryp_finalize,
    .class_init = stm32f4xx_cryp_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_STM32F4XX_DMA_BURST },
        { }
    },
};

static void stm32f4xx_cryp_register_types(void)
{
    type_register_static(&stm32f4xx_cryp_info);
}

type_init(stm32f4xx_cryp_register_types)
