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
// HASH driver (RM0090 25), polled. See hash.h for the API.
//
// Data goes to DIN with DATATYPE = 8-bit, so words loaded little-endian from the message
// bytes reach the core in message order; STR.NBLW gives the valid bits of the last word.
// Whole words go in with one load and one store each, straight from the caller's buffer,
// and no flag is polled while feeding (the AHB holds a write into a full FIFO); the driver
// waits only where the silicon needs it: DINIS with BUSY=0 before a context save or an
// HMAC phase change, DCIS before reading the digest.
// The core compresses a block only when the next word arrives (or on DCAL), so a context
// gives the peripheral only whole blocks and keeps up to 64 bytes itself: the last block
// always goes in with DCAL. Context swap per RM0090 25.3.6: save when DINIS=1 and BUSY=0
// (IMR, STR, CR, CSR0..37); restore IMR, STR, CR, CR|INIT, then the CSRs.
#include <string.h>

#include "stm32f4xx.h"
#include "hwcrypto/hash.h"
#include "systick.h"

typedef struct {
    STM32_REG CR;           // 0x00
    STM32_REG DIN;          // 0x04
    STM32_REG STR;          // 0x08
    STM32_REG HR[5];        // 0x0C..0x1C
    STM32_REG IMR;          // 0x20
    STM32_REG SR;           // 0x24
    uint32_t reserved0[52]; // 0x28..0xF4
    STM32_REG CSR[54];      // 0xF8: CSR0..CSR50 (F415/417), CSR0..CSR53 (F437/439)
    uint32_t reserved1[80]; // 0x1D0..0x30C
    STM32_REG HR_EXT[8];    // 0x310: HASH_HR0..7 (F437/439)
} hash_regs_t;

#define HASH_REGS ((hash_regs_t *)0x50060400UL)

#define RCC_AHB2ENR_HASHEN      (1UL << 5)

#define HASH_CR_INIT            (1UL << 2)
#define HASH_CR_DATATYPE_8      (2UL << 4)
#define HASH_CR_MODE_HMAC       (1UL << 6)
#define HASH_CR_ALGO0           (1UL << 7)
#define HASH_CR_LKEY            (1UL << 16)
#define HASH_CR_ALGO1           (1UL << 18)

#define HASH_STR_DCAL           (1UL << 8)

#define HASH_SR_DINIS           (1UL << 0)
#define HASH_SR_DCIS            (1UL << 1)
#define HASH_SR_BUSY            (1UL << 3)

// A block takes at most 82 cycles, a DCAL a few blocks: 10 ms means the HASH is stuck.
#define HASH_TIMEOUT_MS (10)

enum {
    CTX_UNSET = 0,          // zeroed memory: hash_init not called
    CTX_READY = 0x5a,
    CTX_FAILED = 0xa5,      // a hardware failure or finished: hash_init again
};

// The saved state that is in the peripheral now (0: none). Every save takes a fresh tag,
// so a context whose tag matches (a copy included) holds exactly what is loaded.
static uint32_t hash_loaded_tag;
static uint32_t hash_last_tag;

const char *hash_status_str(hash_status_t status) {
    switch (status) {
        case HASH_OK:
            return "ok";
        case HASH_ERR_PARAM:
            return "HASH: bad argument or context";
        case HASH_ERR_UNSUPPORTED:
            return "HASH: algorithm not available on this chip";
        case HASH_ERR_TIMEOUT:
            return "HASH timeout: the peripheral did not respond";
        default:
            return "HASH error";
    }
}

bool hash_algo_available(hash_algo_t algo) {
    switch (algo) {
        case HASH_ALGO_SHA1:
        case HASH_ALGO_MD5:
            return true;
        case HASH_ALGO_SHA224:
        case HASH_ALGO_SHA256:
            return MICROPY_HW_HASH_SHA224_256;
        default:
            return false;
    }
}

size_t hash_digest_size(hash_algo_t algo) {
    static const uint8_t sizes[] = { 20, 16, 28, 32 };
    return (unsigned)algo < sizeof(sizes) ? sizes[algo] : 0;
}

static uint32_t hash_cr_algo(hash_algo_t algo) {
    static const uint32_t bits[] = {
        0, HASH_CR_ALGO0, HASH_CR_ALGO1, HASH_CR_ALGO1 | HASH_CR_ALGO0,
    };
    return bits[algo];
}

// ---- byte order and data path -------------------------------------------------------------

// DIN words with DATATYPE 8-bit: message bytes in memory order; a short last word is
// zero padded (NBLW says how many bits count).
static uint32_t load_data_word(const uint8_t *p, size_t n) {
    uint32_t w = 0;
    for (size_t i = 0; i < n && i < 4; i++) {
        w |= (uint32_t)p[i] << (8 * i);
    }
    return w;
}

static void hash_clock_on(void) {
    if (!(RCC->AHB2ENR & RCC_AHB2ENR_HASHEN)) {
        RCC->AHB2ENR |= RCC_AHB2ENR_HASHEN;
        (void)RCC->AHB2ENR;
    }
}

static bool hash_wait(uint32_t mask, uint32_t value) {
    return systick_wait_bits(&HASH_REGS->SR, mask, value, HASH_TIMEOUT_MS);
}

// A whole DIN word from any address: the Cortex-M4 loads unaligned words in one LDR.
static inline uint32_t load_word(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

// Write len bytes to DIN, whole words as they are, a short last word zero padded. No flag
// is polled: a DIN write that finds the IN FIFO full while the core works on the previous
// block is held on the AHB until the core takes it (RM0090 25.3.3), as ST's HAL relies on.
static hash_status_t hash_feed(const uint8_t *data, size_t len) {
    volatile uint32_t *din = &HASH_REGS->DIN;
    if (((uintptr_t)data & 3) == 0) {
        // aligned: 8 words at a time, loaded by one LDM
        const uint32_t *w = (const uint32_t *)data;
        const uint32_t *end32 = w + len / 32 * 8;
        while (w < end32) {
            __asm volatile (
                "ldmia %[w]!, {r2, r3, r4, r5, r6, r8, r9, r10}\n"
                "str r2, [%[din]]\n"
                "str r3, [%[din]]\n"
                "str r4, [%[din]]\n"
                "str r5, [%[din]]\n"
                "str r6, [%[din]]\n"
                "str r8, [%[din]]\n"
                "str r9, [%[din]]\n"
                "str r10, [%[din]]\n"
                : [w] "+r" (w)
                : [din] "r" (din)
                : "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "memory");
        }
        data = (const uint8_t *)w;
        len &= 31;
    }
    const uint8_t *end16 = data + (len & ~(size_t)15);
    while (data < end16) {
        uint32_t a = load_word(data), b = load_word(data + 4);
        uint32_t c = load_word(data + 8), d = load_word(data + 12);
        *din = a;
        *din = b;
        *din = c;
        *din = d;
        data += 16;
    }
    len &= 15;
    for (; len >= 4; len -= 4, data += 4) {
        *din = load_word(data);
    }
    if (len > 0) {
        *din = load_data_word(data, len);
    }
    return HASH_OK;
}

// ---- DMA ----------------------------------------------------------------------------------
//
// The whole blocks of an update go by DMA2 stream 7 while the message goes on, from
// HASH_DMA_MIN_BYTES, for word aligned data in SRAM (no DMA reaches the CCM):
// - the F437/439 HASH has CR.MDMAT (RM0090 25.4.1): the end of a DMA transfer does not
//   start the final digest, so they go as HASH_IN requests (channel 2, table 43) with DMAE;
// - the F415/417 HASH lacks MDMAT: there a HASH_IN transfer always ends the message, so
//   they go as a memory-to-memory transfer (RM0090 10.3.6) into DIN (fixed destination,
//   FIFO full threshold), without DMAE: the HASH sees DIN writes as from the CPU's own
//   stores, which need no pacing either (the AHB holds a write into a full FIFO).
#define DMA2_BASE               (0x40026400UL)
#define DMA2_HISR               (*(volatile uint32_t *)(DMA2_BASE + 0x04))
#define DMA2_HIFCR              (*(volatile uint32_t *)(DMA2_BASE + 0x0C))
#define DMA2_S7                 ((volatile uint32_t *)(DMA2_BASE + 0x10 + 0x18 * 7))
#define DMA_S7_FLAGS            (0x3DUL << 22)
#define DMA_S7_TCIF             (1UL << 27)
#define DMA_S7_TEIF             (1UL << 25)
#define DMA_SCR_EN              (1UL << 0)
#define DMA_SCR_M2P_WORDS       ((1UL << 6) | (1UL << 10) | (2UL << 11) | (2UL << 13) \
    | (2UL << 16) | (2UL << 25))            // M2P, MINC, 32-bit, PL high, channel 2
#define DMA_SCR_M2M_TO_DIN      ((2UL << 6) | (1UL << 9) | (2UL << 11) | (2UL << 13) \
    | (2UL << 16))                          // M2M, PINC (source), 32-bit, PL high
#define DMA_SFCR_FIFO_FULL      ((1UL << 2) | 3UL)      // DMDIS, FTH full
#define RCC_AHB1ENR_DMA2EN      (1UL << 22)
#define HASH_CR_DMAE            (1UL << 3)
#define HASH_CR_MDMAT           (1UL << 13)
#define HASH_DMA_MIN_BYTES      (256)

static bool hash_dma_reachable(const uint8_t *p, size_t len) {
    uintptr_t a = (uintptr_t)p;
    return len >= HASH_DMA_MIN_BYTES && (a & 3) == 0 && a >= 0x20000000UL
           && a + len <= 0x20040000UL;
}

// Whole blocks by DMA; the core keeps the message open.
static hash_status_t hash_feed_dma(const uint8_t *data, size_t len) {
    hash_regs_t *hash = HASH_REGS;
    if (!(RCC->AHB1ENR & RCC_AHB1ENR_DMA2EN)) {
        RCC->AHB1ENR |= RCC_AHB1ENR_DMA2EN;
        (void)RCC->AHB1ENR;
    }
    DMA2_S7[0] = 0;
    DMA2_HIFCR = DMA_S7_FLAGS;
    DMA2_S7[1] = len / 4;
    uint32_t cr = hash->CR & ~HASH_CR_INIT;
    #if MICROPY_HW_HASH_SHA224_256
    DMA2_S7[2] = (uint32_t)(uintptr_t)&hash->DIN;
    DMA2_S7[3] = (uint32_t)(uintptr_t)data;
    DMA2_S7[5] = 0;         // direct mode
    DMA2_S7[0] = DMA_SCR_M2P_WORDS;
    hash->CR = cr | HASH_CR_DMAE | HASH_CR_MDMAT;
    DMA2_S7[0] = DMA_SCR_M2P_WORDS | DMA_SCR_EN;
    #else
    DMA2_S7[2] = (uint32_t)(uintptr_t)data;         // memory-to-memory: PAR is the source
    DMA2_S7[3] = (uint32_t)(uintptr_t)&hash->DIN;
    DMA2_S7[5] = DMA_SFCR_FIFO_FULL;
    DMA2_S7[0] = DMA_SCR_M2M_TO_DIN | DMA_SCR_EN;
    #endif
    bool ended = (DMA2_HISR & (DMA_S7_TCIF | DMA_S7_TEIF))
        || systick_wait_bits(&DMA2_HISR, DMA_S7_TCIF, DMA_S7_TCIF, HASH_TIMEOUT_MS);
    uint32_t flags = DMA2_HISR;
    hash->CR = cr & ~(HASH_CR_DMAE | HASH_CR_MDMAT);
    DMA2_S7[0] = 0;
    DMA2_HIFCR = DMA_S7_FLAGS;
    return ended && (flags & DMA_S7_TCIF) && !(flags & DMA_S7_TEIF) ? HASH_OK
                                                                       : HASH_ERR_TIMEOUT;
}

// End a message (or an HMAC phase) whose last len bytes were just fed.
static void hash_dcal(size_t len) {
    uint32_t nblw = 8 * (len % 4);
    HASH_REGS->STR = nblw;
    HASH_REGS->STR = nblw | HASH_STR_DCAL;
}

// HR as big-endian words: the digest bytes in order (also for MD5, RM0090 25.4.3)
static void hash_read_digest(hash_algo_t algo, uint8_t *digest) {
    #if MICROPY_HW_HASH_SHA224_256
    volatile uint32_t *hr = HASH_REGS->HR_EXT;     // HASH_HR0..7: room for SHA-256
    #else
    volatile uint32_t *hr = HASH_REGS->HR;
    #endif
    size_t n = hash_digest_size(algo) / 4;
    for (size_t i = 0; i < n; i++) {
        uint32_t w = hr[i];
        digest[4 * i] = w >> 24;
        digest[4 * i + 1] = w >> 16;
        digest[4 * i + 2] = w >> 8;
        digest[4 * i + 3] = w;
    }
}

// ---- contexts -----------------------------------------------------------------------------

static void hash_save(hash_ctx_t *ctx) {
    hash_regs_t *hash = HASH_REGS;
    ctx->imr = hash->IMR;
    ctx->str = hash->STR;
    ctx->cr = hash->CR;
    for (unsigned i = 0; i < HASH_CONTEXT_CSRS; i++) {
        ctx->csr[i] = hash->CSR[i];
    }
    if (++hash_last_tag == 0) {
        hash_last_tag = 1;
    }
    ctx->hw_tag = hash_last_tag;
    hash_loaded_tag = hash_last_tag;
    ctx->in_hw = true;
}

// Put ctx's message state into the peripheral: fresh with INIT, or the saved context.
static void hash_load(hash_ctx_t *ctx) {
    hash_regs_t *hash = HASH_REGS;
    hash_clock_on();
    if (!ctx->in_hw) {
        uint32_t cr = hash_cr_algo(ctx->algo) | HASH_CR_DATATYPE_8;
        hash->CR = cr;
        hash->CR = cr | HASH_CR_INIT;
    } else if (ctx->hw_tag != hash_loaded_tag) {
        hash->IMR = ctx->imr;
        hash->STR = ctx->str;
        hash->CR = ctx->cr;
        hash->CR = ctx->cr | HASH_CR_INIT;
        for (unsigned i = 0; i < HASH_CONTEXT_CSRS; i++) {
            hash->CSR[i] = ctx->csr[i];
        }
    }
    // the state will change: no saved context matches the peripheral any more
    hash_loaded_tag = 0;
}

static hash_status_t hash_fail(hash_ctx_t *ctx, hash_status_t status) {
    ctx->state = CTX_FAILED;
    hash_loaded_tag = 0;
    return status;
}

hash_status_t hash_init(hash_ctx_t *ctx, hash_algo_t algo) {
    memset(ctx, 0, sizeof(*ctx));
    if (hash_digest_size(algo) == 0) {
        return HASH_ERR_PARAM;
    }
    if (!hash_algo_available(algo)) {
        return HASH_ERR_UNSUPPORTED;
    }
    ctx->algo = algo;
    ctx->state = CTX_READY;
    return HASH_OK;
}

void hash_clone(hash_ctx_t *dst, const hash_ctx_t *src) {
    memcpy(dst, src, sizeof(*dst));
}

hash_status_t hash_update(hash_ctx_t *ctx, const uint8_t *data, size_t len) {
    if (ctx->state != CTX_READY) {
        return HASH_ERR_PARAM;
    }
    if (ctx->buf_len + len <= HASH_BLOCK_SIZE) {
        // no more than a block so far: it may be the last one, which goes in with DCAL
        memcpy(ctx->buf + ctx->buf_len, data, len);
        ctx->buf_len += len;
        return HASH_OK;
    }
    // more data follows the buffered block: it goes to the peripheral, then the whole
    // blocks of data straight from the caller's buffer, keeping the last 1..64 bytes
    hash_load(ctx);
    size_t n = HASH_BLOCK_SIZE - ctx->buf_len;
    memcpy(ctx->buf + ctx->buf_len, data, n);
    data += n;
    len -= n;
    hash_feed(ctx->buf, HASH_BLOCK_SIZE);
    size_t direct = (len - 1) & ~(size_t)(HASH_BLOCK_SIZE - 1);
    if (hash_dma_reachable(data, direct)) {
        if (hash_feed_dma(data, direct) != HASH_OK) {
            return hash_fail(ctx, HASH_ERR_TIMEOUT);
        }
    } else {
        hash_feed(data, direct);
    }
    data += direct;
    len -= direct;
    memcpy(ctx->buf, data, len);
    ctx->buf_len = len;
    if (!hash_wait(HASH_SR_DINIS | HASH_SR_BUSY, HASH_SR_DINIS)) {
        return hash_fail(ctx, HASH_ERR_TIMEOUT);
    }
    hash_save(ctx);
    return HASH_OK;
}

hash_status_t hash_finish(hash_ctx_t *ctx, uint8_t *digest) {
    if (ctx->state != CTX_READY) {
        return HASH_ERR_PARAM;
    }
    hash_load(ctx);
    hash_status_t status = hash_feed(ctx->buf, ctx->buf_len);
    if (status == HASH_OK) {
        hash_dcal(ctx->buf_len);
        if (!hash_wait(HASH_SR_DCIS, HASH_SR_DCIS)) {
            status = HASH_ERR_TIMEOUT;
        }
    }
    if (status == HASH_OK) {
        hash_read_digest(ctx->algo, digest);
    }
    // finished either way; the peripheral holds no saved context now
    memset(ctx->buf, 0, sizeof(ctx->buf));
    return hash_fail(ctx, status);
}

hash_status_t hash_digest(hash_algo_t algo, const uint8_t *msg, size_t len, uint8_t *digest) {
    hash_ctx_t ctx;
    hash_status_t status = hash_init(&ctx, algo);
    if (status != HASH_OK) {
        return status;
    }
    // the whole message in one pass, no context saved in between
    hash_load(&ctx);
    status = hash_feed(msg, len);
    if (status == HASH_OK) {
        hash_dcal(len);
        if (!hash_wait(HASH_SR_DCIS, HASH_SR_DCIS)) {
            status = HASH_ERR_TIMEOUT;
        }
    }
    if (status == HASH_OK) {
        hash_read_digest(algo, digest);
    }
    hash_loaded_tag = 0;
    return status;
}

// One HMAC phase (RM0090 25.3.5): data, DCAL, and for the inner phases wait until the
// core is ready for the next one.
static hash_status_t hash_hmac_phase(const uint8_t *data, size_t len, bool last) {
    hash_status_t status = hash_feed(data, len);
    if (status != HASH_OK) {
        return status;
    }
    hash_dcal(len);
    bool ok = last ? hash_wait(HASH_SR_DCIS, HASH_SR_DCIS)
                   : hash_wait(HASH_SR_DINIS | HASH_SR_BUSY, HASH_SR_DINIS);
    return ok ? HASH_OK : HASH_ERR_TIMEOUT;
}

hash_status_t hash_hmac(hash_algo_t algo, const uint8_t *key, size_t key_len,
    const uint8_t *msg, size_t msg_len, uint8_t *mac) {
    if (hash_digest_size(algo) == 0) {
        return HASH_ERR_PARAM;
    }
    if (!hash_algo_available(algo)) {
        return HASH_ERR_UNSUPPORTED;
    }
    hash_regs_t *hash = HASH_REGS;
    uint32_t cr = hash_cr_algo(algo) | HASH_CR_DATATYPE_8 | HASH_CR_MODE_HMAC
        | (key_len > HASH_BLOCK_SIZE ? HASH_CR_LKEY : 0);
    hash_clock_on();
    hash_loaded_tag = 0;
    hash->CR = cr;
    hash->CR = cr | HASH_CR_INIT;
    hash_status_t status = hash_hmac_phase(key, key_len, false);
    if (status == HASH_OK) {
        status = hash_hmac_phase(msg, msg_len, false);
    }
    if (status == HASH_OK) {
        status = hash_hmac_phase(key, key_len, true);
    }
    if (status == HASH_OK) {
        hash_read_digest(algo, mac);
    }
    return status;
}
