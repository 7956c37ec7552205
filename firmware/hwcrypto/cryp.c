/*
 * This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
 *
 * The MIT License (MIT)
 *
 * Copyright (c) 2026 The STM32F4 SSL/TLS lab authors
 *
 * SPDX-License-Identifier: MIT
 * The licence text is in LICENSE at the top of the repository.
 */
// CRYP driver (RM0090 23), polled. See cryp.h for the API.
//
// Data goes through DIN/DOUT with DATATYPE = 8-bit (byte swap), so a word loaded
// little-endian from the byte string is the block as the AES/DES core wants it; keys and
// IVs are written to K0LR..IV1RR as big-endian words. GCM/CCM follow RM0090 23.3.8/23.3.9
// (init, header, payload, final phases); see cryp_aead_last_block for a partial last block.
#include <string.h>

#include "stm32f4xx.h"
#include "hwcrypto/cryp.h"
#include "systick.h"

typedef struct {
    STM32_REG CR;           // 0x00
    STM32_REG SR;           // 0x04
    STM32_REG DIN;          // 0x08
    STM32_REG DOUT;         // 0x0C
    STM32_REG DMACR;        // 0x10
    STM32_REG IMSCR;        // 0x14
    STM32_REG RISR;         // 0x18
    STM32_REG MISR;         // 0x1C
    STM32_REG K[8];         // 0x20 K0LR, K0RR .. K3RR
    STM32_REG IV[4];        // 0x40 IV0LR, IV0RR, IV1LR, IV1RR
    STM32_REG CSGCMCCM[8];  // 0x50 (F437/439)
    STM32_REG CSGCM[8];     // 0x70 (F437/439)
} cryp_regs_t;

#define CRYP_REGS ((cryp_regs_t *)0x50060000UL)

#define RCC_AHB2ENR_CRYPEN      (1UL << 4)

#define CRYP_CR_ALGODIR         (1UL << 2)
#define CRYP_CR_ALGOMODE(m)     ((((m) & 7UL) << 3) | (((m) >> 3) & 1UL) << 19)
#define CRYP_CR_DATATYPE_8      (2UL << 6)
#define CRYP_CR_KEYSIZE(n)      ((uint32_t)(n) << 8)
#define CRYP_CR_FFLUSH          (1UL << 14)
#define CRYP_CR_CRYPEN          (1UL << 15)
#define CRYP_CR_PHASE(p)        ((uint32_t)(p) << 16)

#define CRYP_SR_IFEM            (1UL << 0)
#define CRYP_SR_IFNF            (1UL << 1)
#define CRYP_SR_OFNE            (1UL << 2)
#define CRYP_SR_BUSY            (1UL << 4)

// ALGOMODE values (RM0090 23.6.1; 8 and 9 use ALGOMODE[3], F437/439 only)
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

// Each flag comes within a few hundred cycles on silicon: 10 ms means the CRYP is stuck.
#define CRYP_TIMEOUT_MS (10)

const char *cryp_status_str(cryp_status_t status) {
    switch (status) {
        case CRYP_OK:
            return "ok";
        case CRYP_ERR_PARAM:
            return "CRYP: bad argument";
        case CRYP_ERR_UNSUPPORTED:
            return "CRYP: algorithm not available on this chip";
        case CRYP_ERR_TIMEOUT:
            return "CRYP timeout: the peripheral did not respond";
        case CRYP_ERR_AUTH:
            return "CRYP: authentication tag mismatch";
        default:
            return "CRYP error";
    }
}

// ---- byte order: the one place that knows it ----------------------------------------------

// Key and IV registers: big-endian words
static uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}


bool cryp_tag_equal(const uint8_t *a, const uint8_t *b, size_t n) {
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) {
        diff |= a[i] ^ b[i];
    }
    return diff == 0;
}

// ---- peripheral access --------------------------------------------------------------------

static void cryp_clock_on(void) {
    if (!(RCC->AHB2ENR & RCC_AHB2ENR_CRYPEN)) {
        RCC->AHB2ENR |= RCC_AHB2ENR_CRYPEN;
        (void)RCC->AHB2ENR;     // the write takes effect before the CRYP is touched
    }
}

static bool cryp_wait(volatile uint32_t *reg, uint32_t mask, uint32_t value) {
    return systick_wait_bits(reg, mask, value, CRYP_TIMEOUT_MS);
}

// CRYPEN off, FIFOs flushed, the new configuration (with CRYPEN clear) written.
static void cryp_configure(uint32_t cr) {
    cryp_regs_t *cryp = CRYP_REGS;
    cryp->CR = 0;
    cryp->CR = cr | CRYP_CR_FFLUSH;
    cryp->CR = cr;
}

static void cryp_disable(void) {
    CRYP_REGS->CR = 0;
}

static void cryp_load_aes_key(const cryp_aes_key_t *key) {
    for (unsigned i = 8 - key->nwords; i < 8; i++) {
        CRYP_REGS->K[i] = key->words[i];
    }
}

static uint32_t cryp_aes_keysize(const cryp_aes_key_t *key) {
    return CRYP_CR_KEYSIZE((key->nwords - 4) / 2);
}

static void cryp_load_iv(const uint8_t *iv, unsigned nwords) {
    for (unsigned i = 0; i < nwords; i++) {
        CRYP_REGS->IV[i] = load_be32(iv + 4 * i);
    }
}

// A whole data word from any address (the Cortex-M4 loads and stores unaligned words)
static inline uint32_t load_word(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

static inline void store_word(uint8_t *p, uint32_t w) {
    memcpy(p, &w, sizeof(w));
}

// A flag that is normally there already: one read, the bounded wait only if it is not
static inline __attribute__((always_inline)) bool cryp_flag(uint32_t mask) {
    return (CRYP_REGS->SR & mask) == mask || cryp_wait(&CRYP_REGS->SR, mask, mask);
}

// Feed one block (bw words); with out, read the bw result words. The IN FIFO (8 words) is
// empty when a block starts (the previous result was read, so its input was consumed),
// so the words go in without a look at IFNF; the result block comes out whole, so OFNE
// is checked once per block, as ST's HAL does.
static cryp_status_t cryp_block(const uint8_t *in, uint8_t *out, unsigned bw) {
    cryp_regs_t *cryp = CRYP_REGS;
    for (unsigned i = 0; i < bw; i++) {
        // no output read in between (header phase): the IN FIFO may fill up
        if (out == NULL && !cryp_flag(CRYP_SR_IFNF)) {
            return CRYP_ERR_TIMEOUT;
        }
        cryp->DIN = load_word(in + 4 * i);
    }
    if (out != NULL) {
        if (!cryp_flag(CRYP_SR_OFNE)) {
            return CRYP_ERR_TIMEOUT;
        }
        for (unsigned i = 0; i < bw; i++) {
            store_word(out + 4 * i, cryp->DOUT);
        }
    }
    return CRYP_OK;
}

// ---- DMA ----------------------------------------------------------------------------------
//
// Runs of at least CRYP_DMA_MIN_BYTES with both buffers in SRAM (no DMA reaches the CCM)
// go by DMA2 (RM0090 23.4, table 43): CRYP_OUT on stream 5 and CRYP_IN on stream 6, both
// channel 2, word items on the CRYP side. A word-aligned buffer is read or written in words,
// direct mode; any other in bytes, the stream's FIFO packing them into the CRYP's words
// (RM0090 10.3.11: PSIZE word, MSIZE byte, FIFO mode), which gives the same words as the
// CPU's unaligned loads. TLS records are such buffers: mbedTLS keeps a record's 13-byte
// header and IV in front of the payload, so a CBC or GCM payload starts at an odd address.
// The CPU then only sets up the streams and polls the OUT stream's end: a few register
// accesses for any length, where the CPU loop costs about 30 instructions and 9 peripheral
// accesses per AES block.

#define DMA2_BASE               (0x40026400UL)
#define DMA2_HISR               (*(volatile uint32_t *)(DMA2_BASE + 0x04))
#define DMA2_HIFCR              (*(volatile uint32_t *)(DMA2_BASE + 0x0C))
#define DMA_STREAM(n)           ((volatile uint32_t *)(DMA2_BASE + 0x10 + 0x18 * (n)))
#define DMA_SCR                 0       // word indexes in a stream's registers
#define DMA_SNDTR               1
#define DMA_SPAR                2
#define DMA_SM0AR               3
#define DMA_SFCR                5
#define DMA_SCR_EN              (1UL << 0)
#define DMA_SCR_DIR_M2P         (1UL << 6)
#define DMA_SCR_MINC            (1UL << 10)
#define DMA_SCR_WORDS           ((2UL << 11) | (2UL << 13))     // PSIZE, MSIZE 32-bit
#define DMA_SCR_WORDS_FROM_BYTES (2UL << 11)                    // PSIZE 32-bit, MSIZE 8-bit
#define DMA_SFCR_FIFO_FULL      ((1UL << 2) | 3UL)              // DMDIS, FTH full
#define DMA_SCR_PL_HIGH         (2UL << 16)
#define DMA_SCR_CHSEL(c)        ((uint32_t)(c) << 25)
#define DMA_FLAGS_S5            (0x3DUL << 6)                   // HISR bits of stream 5
#define DMA_FLAGS_S6            (0x3DUL << 16)                  // HISR bits of stream 6
#define DMA_TCIF_S5             (1UL << 11)
#define DMA_TEIF_S5             (1UL << 9)
#define DMA_TEIF_S6             (1UL << 19)
#define RCC_AHB1ENR_DMA2EN      (1UL << 22)
#define CRYP_DMACR_DIEN         (1UL << 0)
#define CRYP_DMACR_DOEN         (1UL << 1)
#define CRYP_DMA_STREAM_OUT     5
#define CRYP_DMA_STREAM_IN      6
#define CRYP_DMA_MIN_BYTES      (128)
#define SRAM_START              (0x20000000UL)
#define SRAM_END                (0x20040000UL)      // SRAM1..3 of the largest F4

static bool cryp_dma_reachable(const void *p, size_t len) {
    uintptr_t a = (uintptr_t)p;
    return a >= SRAM_START && a + len <= SRAM_END;
}

static void cryp_dma_stream(unsigned n, uint32_t dir, uint32_t periph, const void *mem,
    size_t words) {
    volatile uint32_t *st = DMA_STREAM(n);
    bool aligned = ((uintptr_t)mem & 3) == 0;
    st[DMA_SCR] = 0;
    st[DMA_SNDTR] = words;      // in CRYP words (PSIZE)
    st[DMA_SPAR] = periph;
    st[DMA_SM0AR] = (uint32_t)(uintptr_t)mem;
    st[DMA_SFCR] = aligned ? 0 : DMA_SFCR_FIFO_FULL;    // direct mode, or packing FIFO
    st[DMA_SCR] = DMA_SCR_CHSEL(2) | DMA_SCR_PL_HIGH | DMA_SCR_MINC | dir
        | (aligned ? DMA_SCR_WORDS : DMA_SCR_WORDS_FROM_BYTES);
}

// nblocks whole blocks through the enabled CRYP by DMA; false: not done (bus error)
static cryp_status_t cryp_blocks_dma(const uint8_t *in, uint8_t *out, size_t words) {
    cryp_regs_t *cryp = CRYP_REGS;
    if (!(RCC->AHB1ENR & RCC_AHB1ENR_DMA2EN)) {
        RCC->AHB1ENR |= RCC_AHB1ENR_DMA2EN;
        (void)RCC->AHB1ENR;
    }
    DMA2_HIFCR = DMA_FLAGS_S5 | DMA_FLAGS_S6;
    cryp_dma_stream(CRYP_DMA_STREAM_OUT, 0, (uint32_t)(uintptr_t)&cryp->DOUT, out, words);
    cryp_dma_stream(CRYP_DMA_STREAM_IN, DMA_SCR_DIR_M2P, (uint32_t)(uintptr_t)&cryp->DIN, in,
        words);
    cryp->DMACR = CRYP_DMACR_DIEN | CRYP_DMACR_DOEN;
    DMA_STREAM(CRYP_DMA_STREAM_OUT)[DMA_SCR] |= DMA_SCR_EN;
    DMA_STREAM(CRYP_DMA_STREAM_IN)[DMA_SCR] |= DMA_SCR_EN;
    // the OUT stream ends last; a transfer error on either stream ends the wait too
    uint32_t done = DMA_TCIF_S5 | DMA_TEIF_S5 | DMA_TEIF_S6;
    bool ended = (DMA2_HISR & done) || systick_wait_bits(&DMA2_HISR, DMA_TCIF_S5, DMA_TCIF_S5,
        CRYP_TIMEOUT_MS);
    uint32_t flags = DMA2_HISR;
    cryp->DMACR = 0;
    DMA_STREAM(CRYP_DMA_STREAM_IN)[DMA_SCR] = 0;
    DMA_STREAM(CRYP_DMA_STREAM_OUT)[DMA_SCR] = 0;
    DMA2_HIFCR = DMA_FLAGS_S5 | DMA_FLAGS_S6;
    if (flags & (DMA_TEIF_S5 | DMA_TEIF_S6)) {
        return CRYP_ERR_PARAM;
    }
    return ended && (flags & DMA_TCIF_S5) ? CRYP_OK : CRYP_ERR_TIMEOUT;
}

// Whole blocks through the enabled CRYP. With output, the common case, a block is a burst
// of loads and DIN stores, one look at OFNE and a burst of DOUT loads and stores.
static cryp_status_t cryp_blocks(const uint8_t *in, uint8_t *out, size_t nblocks, unsigned bw) {
    if (out == NULL) {
        for (size_t n = 0; n < nblocks; n++) {
            cryp_status_t status = cryp_block(in + 4 * bw * n, NULL, bw);
            if (status != CRYP_OK) {
                return status;
            }
        }
        return CRYP_OK;
    }
    cryp_regs_t *cryp = CRYP_REGS;
    size_t len = 4 * bw * nblocks;
    if (len >= CRYP_DMA_MIN_BYTES && cryp_dma_reachable(in, len) &&
        cryp_dma_reachable(out, len)) {
        return cryp_blocks_dma(in, out, len / 4);
    }
    const uint8_t *end = in + len;
    if (bw == 4) {
        for (; in < end; in += 16, out += 16) {
            uint32_t a = load_word(in), b = load_word(in + 4);
            uint32_t c = load_word(in + 8), d = load_word(in + 12);
            cryp->DIN = a;
            cryp->DIN = b;
            cryp->DIN = c;
            cryp->DIN = d;
            if (!cryp_flag(CRYP_SR_OFNE)) {
                return CRYP_ERR_TIMEOUT;
            }
            a = cryp->DOUT;
            b = cryp->DOUT;
            c = cryp->DOUT;
            d = cryp->DOUT;
            store_word(out, a);
            store_word(out + 4, b);
            store_word(out + 8, c);
            store_word(out + 12, d);
        }
    } else {
        for (; in < end; in += 8, out += 8) {
            uint32_t a = load_word(in), b = load_word(in + 4);
            cryp->DIN = a;
            cryp->DIN = b;
            if (!cryp_flag(CRYP_SR_OFNE)) {
                return CRYP_ERR_TIMEOUT;
            }
            a = cryp->DOUT;
            b = cryp->DOUT;
            store_word(out, a);
            store_word(out + 4, b);
        }
    }
    return CRYP_OK;
}

// A partial block (len < 16 bytes), zero padded; len bytes of the result to out.
static cryp_status_t cryp_partial_block(const uint8_t *in, uint8_t *out, size_t len,
    uint8_t result[16]) {
    uint8_t block[16] = { 0 };
    memcpy(block, in, len);
    cryp_status_t status = cryp_block(block, result, 4);
    if (status == CRYP_OK && out != NULL) {
        memcpy(out, result, len);
    }
    return status;
}

// The input is consumed and the core idle (header phase, end of an operation).
static cryp_status_t cryp_wait_idle(void) {
    if (!cryp_wait(&CRYP_REGS->SR, CRYP_SR_IFEM | CRYP_SR_BUSY, CRYP_SR_IFEM)) {
        return CRYP_ERR_TIMEOUT;
    }
    return CRYP_OK;
}

static cryp_status_t cryp_enable_and_run(uint32_t cr, const uint8_t *in, uint8_t *out,
    size_t nblocks, unsigned bw) {
    CRYP_REGS->CR = cr | CRYP_CR_CRYPEN;
    cryp_status_t status = cryp_blocks(in, out, nblocks, bw);
    if (status == CRYP_OK) {
        status = cryp_wait_idle();
    }
    return status;
}

// ---- AES ECB/CBC/CTR ----------------------------------------------------------------------

cryp_status_t cryp_aes_setkey(cryp_aes_key_t *key, const uint8_t *bytes, size_t len) {
    if (len != 16 && len != 24 && len != 32) {
        return CRYP_ERR_PARAM;
    }
    memset(key, 0, sizeof(*key));
    key->nwords = len / 4;
    for (unsigned i = 0; i < key->nwords; i++) {
        key->words[8 - key->nwords + i] = load_be32(bytes + 4 * i);
    }
    return CRYP_OK;
}

static bool cryp_aes_key_valid(const cryp_aes_key_t *key) {
    return key != NULL && (key->nwords == 4 || key->nwords == 6 || key->nwords == 8);
}

// RM0090 23.3.6: ECB/CBC decryption needs the decryption key schedule, prepared by
// running ALGOMODE=111 once; BUSY drops when it is ready.
static cryp_status_t cryp_aes_prepare_key(const cryp_aes_key_t *key) {
    uint32_t cr = cryp_aes_keysize(key) | CRYP_CR_ALGOMODE(ALGO_AES_KEY);
    cryp_configure(cr);
    cryp_load_aes_key(key);
    CRYP_REGS->CR = cr | CRYP_CR_CRYPEN;
    bool done = cryp_wait(&CRYP_REGS->SR, CRYP_SR_BUSY, 0);
    cryp_disable();
    return done ? CRYP_OK : CRYP_ERR_TIMEOUT;
}

static cryp_status_t cryp_aes_run(const cryp_aes_key_t *key, unsigned algo, bool decrypt,
    const uint8_t *iv, const uint8_t *in, uint8_t *out, size_t nblocks) {
    cryp_status_t status = CRYP_OK;
    uint32_t cr = cryp_aes_keysize(key) | CRYP_CR_ALGOMODE(algo) | CRYP_CR_DATATYPE_8;
    cryp_clock_on();
    if (decrypt && algo != ALGO_AES_CTR) {
        status = cryp_aes_prepare_key(key);
        if (status != CRYP_OK) {
            return status;
        }
        cr |= CRYP_CR_ALGODIR;
    }
    cryp_configure(cr);
    cryp_load_aes_key(key);
    if (iv != NULL) {
        cryp_load_iv(iv, 4);
    }
    status = cryp_enable_and_run(cr, in, out, nblocks, 4);
    cryp_disable();
    return status;
}

cryp_status_t cryp_aes_ecb(const cryp_aes_key_t *key, bool decrypt,
    const uint8_t *in, uint8_t *out, size_t len) {
    if (!cryp_aes_key_valid(key) || len % 16 != 0) {
        return CRYP_ERR_PARAM;
    }
    if (len == 0) {
        return CRYP_OK;
    }
    return cryp_aes_run(key, ALGO_AES_ECB, decrypt, NULL, in, out, len / 16);
}

cryp_status_t cryp_aes_cbc(const cryp_aes_key_t *key, bool decrypt, uint8_t iv[16],
    const uint8_t *in, uint8_t *out, size_t len) {
    if (!cryp_aes_key_valid(key) || iv == NULL || len % 16 != 0) {
        return CRYP_ERR_PARAM;
    }
    if (len == 0) {
        return CRYP_OK;
    }
    // the next IV is the last ciphertext block; keep it before in == out overwrites it
    uint8_t next_iv[16];
    if (decrypt) {
        memcpy(next_iv, in + len - 16, 16);
    }
    cryp_status_t status = cryp_aes_run(key, ALGO_AES_CBC, decrypt, iv, in, out, len / 16);
    if (status == CRYP_OK) {
        memcpy(iv, decrypt ? next_iv : out + len - 16, 16);
    }
    return status;
}

// counter += n (128-bit big-endian)
static void ctr_add(uint8_t counter[16], uint32_t n) {
    uint64_t carry = n;
    for (int i = 15; i >= 0 && carry; i--) {
        carry += counter[i];
        counter[i] = carry;
        carry >>= 8;
    }
}

cryp_status_t cryp_aes_ctr(const cryp_aes_key_t *key, uint8_t counter[16],
    const uint8_t *in, uint8_t *out, size_t len) {
    if (!cryp_aes_key_valid(key) || counter == NULL) {
        return CRYP_ERR_PARAM;
    }
    while (len > 0) {
        // the CRYP increments the low 32 bits only: stop where they would wrap
        uint64_t to_wrap = 0x100000000ULL - load_be32(counter + 12);
        size_t full = len / 16;
        size_t nblocks = full < to_wrap ? full : (size_t)to_wrap;
        bool partial = nblocks == full && len % 16 != 0 && nblocks < to_wrap;
        cryp_status_t status = CRYP_OK;
        uint32_t cr = cryp_aes_keysize(key) | CRYP_CR_ALGOMODE(ALGO_AES_CTR) | CRYP_CR_DATATYPE_8;

        cryp_clock_on();
        cryp_configure(cr);
        cryp_load_aes_key(key);
        cryp_load_iv(counter, 4);
        CRYP_REGS->CR = cr | CRYP_CR_CRYPEN;
        status = cryp_blocks(in, out, nblocks, 4);
        if (status == CRYP_OK && partial) {
            uint8_t result[16];
            status = cryp_partial_block(in + 16 * nblocks, out + 16 * nblocks, len % 16, result);
        }
        if (status == CRYP_OK) {
            status = cryp_wait_idle();
        }
        cryp_disable();
        if (status != CRYP_OK) {
            return status;
        }
        ctr_add(counter, nblocks + partial);
        size_t done = partial ? len : 16 * nblocks;
        in += done;
        out += done;
        len -= done;
    }
    return CRYP_OK;
}

// ---- DES / TDES ---------------------------------------------------------------------------

cryp_status_t cryp_des_setkey(cryp_des_key_t *key, const uint8_t *bytes, size_t len) {
    if (len != 8 && len != 16 && len != 24) {
        return CRYP_ERR_PARAM;
    }
    memset(key, 0, sizeof(*key));
    key->tdes = len != 8;
    for (unsigned i = 0; i < len / 4; i++) {
        key->words[i] = load_be32(bytes + 4 * i);
    }
    if (len == 16) {
        // two-key TDES: K3 = K1
        key->words[4] = key->words[0];
        key->words[5] = key->words[1];
    }
    return CRYP_OK;
}

static cryp_status_t cryp_des_run(const cryp_des_key_t *key, bool cbc, bool decrypt,
    uint8_t iv[8], const uint8_t *in, uint8_t *out, size_t len) {
    if (key == NULL || len % 8 != 0 || (cbc && iv == NULL)) {
        return CRYP_ERR_PARAM;
    }
    if (len == 0) {
        return CRYP_OK;
    }
    unsigned algo = key->tdes ? (cbc ? ALGO_TDES_CBC : ALGO_TDES_ECB)
                              : (cbc ? ALGO_DES_CBC : ALGO_DES_ECB);
    uint32_t cr = CRYP_CR_ALGOMODE(algo) | CRYP_CR_DATATYPE_8 | (decrypt ? CRYP_CR_ALGODIR : 0);
    uint8_t next_iv[8];
    if (cbc && decrypt) {
        memcpy(next_iv, in + len - 8, 8);
    }
    cryp_clock_on();
    cryp_configure(cr);
    // K1 in K1LR/K1RR, K2 and K3 after it (DES uses K1 only)
    for (unsigned i = 0; i < (key->tdes ? 6u : 2u); i++) {
        CRYP_REGS->K[2 + i] = key->words[i];
    }
    if (cbc) {
        cryp_load_iv(iv, 2);
    }
    cryp_status_t status = cryp_enable_and_run(cr, in, out, len / 8, 2);
    cryp_disable();
    if (status == CRYP_OK && cbc) {
        memcpy(iv, decrypt ? next_iv : out + len - 8, 8);
    }
    return status;
}

cryp_status_t cryp_des_ecb(const cryp_des_key_t *key, bool decrypt,
    const uint8_t *in, uint8_t *out, size_t len) {
    return cryp_des_run(key, false, decrypt, NULL, in, out, len);
}

cryp_status_t cryp_des_cbc(const cryp_des_key_t *key, bool decrypt, uint8_t iv[8],
    const uint8_t *in, uint8_t *out, size_t len) {
    return cryp_des_run(key, true, decrypt, iv, in, out, len);
}

// ---- GCM / CCM (STM32F437/439) ------------------------------------------------------------

#if MICROPY_HW_CRYP_GCM_CCM

static void store_be32(uint8_t *p, uint32_t w) {
    p[0] = w >> 24;
    p[1] = w >> 16;
    p[2] = w >> 8;
    p[3] = w;
}

// Enter a phase: CRYPEN off, the phase bits, CRYPEN on (RM0090 23.3.8).
static void cryp_phase(uint32_t cr, unsigned phase) {
    CRYP_REGS->CR = cr | CRYP_CR_PHASE(phase);
    CRYP_REGS->CR = cr | CRYP_CR_PHASE(phase) | CRYP_CR_CRYPEN;
}

// Header data through the enabled CRYP in 16-byte blocks, the last one zero padded.
// prefix (CCM's encoded AAD length) comes before the data.
static cryp_status_t cryp_header(const uint8_t *prefix, size_t prefix_len,
    const uint8_t *aad, size_t aad_len) {
    uint8_t block[16];
    size_t fill = 0;
    memcpy(block, prefix, prefix_len);
    fill = prefix_len;
    while (aad_len > 0 || fill > 0) {
        size_t n = 16 - fill < aad_len ? 16 - fill : aad_len;
        memcpy(block + fill, aad, n);
        aad += n;
        aad_len -= n;
        fill += n;
        if (fill < 16 && aad_len > 0) {
            continue;
        }
        memset(block + fill, 0, 16 - fill);
        cryp_status_t status = cryp_block(block, NULL, 4);
        if (status != CRYP_OK) {
            return status;
        }
        fill = 0;
    }
    return cryp_wait_idle();
}

// The last payload block when it is shorter than 16 bytes. The CRYP pads it with zeros
// and then authenticates the padded *output* for GCM encryption (ciphertext) and CCM
// decryption (plaintext), where the padding has become keystream: the tag would be wrong.
// So that block runs in CTR mode from the current counter (CSGCMCCM4..7R), its padding is
// zeroed, and the block alone is authenticated: GCM in the final phase, which folds a
// block into GHASH (STM32CubeF4's workaround); CCM in the header phase, one CBC-MAC step.
static cryp_status_t cryp_aead_last_block(const cryp_aes_key_t *key, uint32_t cr, bool gcm,
    bool decrypt, const uint8_t *in, uint8_t *out, size_t len) {
    cryp_regs_t *cryp = CRYP_REGS;
    uint8_t result[16];
    cryp_status_t status;

    if (gcm == decrypt) {
        // GCM decryption, CCM encryption: the padded input is what gets authenticated
        return cryp_partial_block(in, out, len, result);
    }
    cryp->CR = cr | CRYP_CR_PHASE(PHASE_PAYLOAD);
    uint32_t counter[4];
    for (unsigned i = 0; i < 4; i++) {
        counter[i] = cryp->CSGCMCCM[4 + i];
    }
    if (gcm) {
        counter[3] -= 1;    // GCM's context register runs one ahead
    }
    uint32_t ctr_cr = cryp_aes_keysize(key) | CRYP_CR_ALGOMODE(ALGO_AES_CTR) | CRYP_CR_DATATYPE_8;
    cryp->CR = ctr_cr;
    for (unsigned i = 0; i < 4; i++) {
        cryp->IV[i] = counter[i];
    }
    cryp->CR = ctr_cr | CRYP_CR_CRYPEN;
    status = cryp_partial_block(in, out, len, result);
    if (status == CRYP_OK) {
        status = cryp_wait_idle();
    }
    if (status != CRYP_OK) {
        return status;
    }
    memset(result + len, 0, 16 - len);
    cryp->CR = ctr_cr;
    if (gcm) {
        uint8_t discard[16];
        cryp_phase(cr, PHASE_FINAL);
        return cryp_block(result, discard, 4);
    } else {
        cryp_phase(cr, PHASE_HEADER);
        status = cryp_block(result, NULL, 4);
        return status == CRYP_OK ? cryp_wait_idle() : status;
    }
}

static cryp_status_t cryp_aead_payload(const cryp_aes_key_t *key, uint32_t cr, bool gcm,
    bool decrypt, const uint8_t *in, uint8_t *out, size_t len) {
    cryp_phase(cr, PHASE_PAYLOAD);
    cryp_status_t status = cryp_blocks(in, out, len / 16, 4);
    if (status == CRYP_OK && len % 16 != 0) {
        size_t done = len - len % 16;
        status = cryp_aead_last_block(key, cr, gcm, decrypt, in + done, out + done, len % 16);
    }
    return status;
}

static cryp_status_t cryp_gcm_run(const cryp_aes_key_t *key, bool decrypt, const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    uint8_t tag[16]) {
    cryp_regs_t *cryp = CRYP_REGS;
    uint32_t cr = cryp_aes_keysize(key) | CRYP_CR_ALGOMODE(ALGO_AES_GCM) | CRYP_CR_DATATYPE_8
        | (decrypt ? CRYP_CR_ALGODIR : 0);
    cryp_status_t status = CRYP_OK;

    // init phase: H = E(K, 0) is computed; CRYPEN clears when done. The IV registers
    // hold IV || 2, the counter of the first payload block (J0 + 1).
    cryp_configure(cr | CRYP_CR_PHASE(PHASE_INIT));
    cryp_load_aes_key(key);
    cryp_load_iv(iv, 3);
    cryp->IV[3] = 2;
    cryp->CR = cr | CRYP_CR_PHASE(PHASE_INIT) | CRYP_CR_CRYPEN;
    if (!cryp_wait(&cryp->CR, CRYP_CR_CRYPEN, 0)) {
        return CRYP_ERR_TIMEOUT;
    }
    if (aad_len > 0) {
        cryp_phase(cr, PHASE_HEADER);
        status = cryp_header(NULL, 0, aad, aad_len);
    }
    if (status == CRYP_OK && len > 0) {
        status = cryp_aead_payload(key, cr, true, decrypt, in, out, len);
    }
    if (status == CRYP_OK) {
        // final phase: len(A) || len(C) in bits, then the tag comes out
        uint8_t lengths[16];
        uint64_t aad_bits = (uint64_t)aad_len * 8, data_bits = (uint64_t)len * 8;
        store_be32(lengths, aad_bits >> 32);
        store_be32(lengths + 4, (uint32_t)aad_bits);
        store_be32(lengths + 8, data_bits >> 32);
        store_be32(lengths + 12, (uint32_t)data_bits);
        cryp_phase(cr, PHASE_FINAL);
        status = cryp_block(lengths, tag, 4);
    }
    return status;
}

static cryp_status_t cryp_ccm_run(const cryp_aes_key_t *key, bool decrypt,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag, size_t tag_len) {
    cryp_regs_t *cryp = CRYP_REGS;
    uint32_t cr = cryp_aes_keysize(key) | CRYP_CR_ALGOMODE(ALGO_AES_CCM) | CRYP_CR_DATATYPE_8
        | (decrypt ? CRYP_CR_ALGODIR : 0);
    size_t q = 15 - nonce_len;      // bytes of the length field
    uint8_t b0[16] = { 0 }, ctr[16] = { 0 }, full_tag[16];
    cryp_status_t status = CRYP_OK;

    // SP 800-38C A.2: B0 = flags || N || Q, counter blocks (q - 1) || N || i
    b0[0] = (aad_len ? 0x40 : 0) | ((tag_len - 2) / 2) << 3 | (q - 1);
    memcpy(b0 + 1, nonce, nonce_len);
    size_t rest = len;
    for (size_t i = 15; i > nonce_len; i--) {
        b0[i] = rest;
        rest >>= 8;
    }
    ctr[0] = q - 1;
    memcpy(ctr + 1, nonce, nonce_len);
    ctr[15] = 1;

    // init phase: IV registers = CTR1, B0 through DIN; CRYPEN clears when done
    cryp_configure(cr | CRYP_CR_PHASE(PHASE_INIT));
    cryp_load_aes_key(key);
    cryp_load_iv(ctr, 4);
    cryp->CR = cr | CRYP_CR_PHASE(PHASE_INIT) | CRYP_CR_CRYPEN;
    status = cryp_block(b0, NULL, 4);
    if (status == CRYP_OK && !cryp_wait(&cryp->CR, CRYP_CR_CRYPEN, 0)) {
        status = CRYP_ERR_TIMEOUT;
    }
    if (status == CRYP_OK && aad_len > 0) {
        // the AAD length encoded in 2 bytes, or 0xFFFE and 4 bytes (A.2.2)
        uint8_t prefix[6];
        size_t prefix_len;
        if (aad_len < 0xFF00) {
            prefix[0] = aad_len >> 8;
            prefix[1] = aad_len;
            prefix_len = 2;
        } else {
            prefix[0] = 0xFF;
            prefix[1] = 0xFE;
            store_be32(prefix + 2, (uint32_t)aad_len);
            prefix_len = 6;
        }
        cryp_phase(cr, PHASE_HEADER);
        status = cryp_header(prefix, prefix_len, aad, aad_len);
    }
    if (status == CRYP_OK && len > 0) {
        status = cryp_aead_payload(key, cr, false, decrypt, in, out, len);
    }
    if (status == CRYP_OK) {
        // final phase: CTR0 in, E(K, CTR0) xor CBC-MAC out
        ctr[15] = 0;
        cryp_phase(cr, PHASE_FINAL);
        status = cryp_block(ctr, full_tag, 4);
        memcpy(tag, full_tag, tag_len);
    }
    return status;
}

static bool cryp_ccm_params_valid(size_t nonce_len, size_t tag_len, size_t len) {
    if (nonce_len < 7 || nonce_len > 13 || tag_len < 4 || tag_len > 16 || tag_len % 2) {
        return false;
    }
    // the message length must fit in the q = 15 - nonce_len byte length field
    size_t q = 15 - nonce_len;
    return q >= sizeof(size_t) || (len >> (8 * q)) == 0;
}

#endif // MICROPY_HW_CRYP_GCM_CCM

cryp_status_t cryp_aes_gcm(const cryp_aes_key_t *key, bool decrypt, const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    uint8_t tag[16]) {
    #if MICROPY_HW_CRYP_GCM_CCM
    if (!cryp_aes_key_valid(key) || iv == NULL || tag == NULL) {
        return CRYP_ERR_PARAM;
    }
    cryp_clock_on();
    cryp_status_t status = cryp_gcm_run(key, decrypt, iv, aad, aad_len, in, out, len, tag);
    cryp_disable();
    return status;
    #else
    (void)key, (void)decrypt, (void)iv, (void)aad, (void)aad_len;
    (void)in, (void)out, (void)len, (void)tag;
    return CRYP_ERR_UNSUPPORTED;
    #endif
}

cryp_status_t cryp_aes_gcm_auth_decrypt(const cryp_aes_key_t *key, const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    const uint8_t *tag, size_t tag_len) {
    uint8_t computed[16];
    if (tag == NULL || tag_len < 4 || tag_len > 16) {
        return CRYP_ERR_PARAM;
    }
    cryp_status_t status = cryp_aes_gcm(key, true, iv, aad, aad_len, in, out, len, computed);
    if (status == CRYP_OK && !cryp_tag_equal(computed, tag, tag_len)) {
        memset(out, 0, len);
        status = CRYP_ERR_AUTH;
    }
    return status;
}

cryp_status_t cryp_aes_ccm(const cryp_aes_key_t *key, bool decrypt,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag, size_t tag_len) {
    #if MICROPY_HW_CRYP_GCM_CCM
    if (!cryp_aes_key_valid(key) || nonce == NULL || tag == NULL
        || !cryp_ccm_params_valid(nonce_len, tag_len, len)) {
        return CRYP_ERR_PARAM;
    }
    cryp_clock_on();
    cryp_status_t status = cryp_ccm_run(key, decrypt, nonce, nonce_len, aad, aad_len,
        in, out, len, tag, tag_len);
    cryp_disable();
    return status;
    #else
    (void)key, (void)decrypt, (void)nonce, (void)nonce_len, (void)aad, (void)aad_len;
    (void)in, (void)out, (void)len, (void)tag, (void)tag_len;
    return CRYP_ERR_UNSUPPORTED;
    #endif
}

cryp_status_t cryp_aes_ccm_auth_decrypt(const cryp_aes_key_t *key,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, uint8_t *out, size_t len, const uint8_t *tag, size_t tag_len) {
    uint8_t computed[16];
    if (tag == NULL || tag_len > 16) {
        return CRYP_ERR_PARAM;
    }
    cryp_status_t status = cryp_aes_ccm(key, true, nonce, nonce_len, aad, aad_len,
        in, out, len, computed, tag_len);
    if (status == CRYP_OK && !cryp_tag_equal(computed, tag, tag_len)) {
        memset(out, 0, len);
        status = CRYP_ERR_AUTH;
    }
    return status;
}
