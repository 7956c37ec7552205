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

// Write len bytes to DIN, waiting for room (DINIS) before each group of 16 words.
static hash_status_t hash_feed(const uint8_t *data, size_t len) {
    hash_regs_t *hash = HASH_REGS;
    while (len > 0) {
        if (!hash_wait(HASH_SR_DINIS, HASH_SR_DINIS)) {
            return HASH_ERR_TIMEOUT;
        }
        size_t chunk = len < HASH_BLOCK_SIZE ? len : HASH_BLOCK_SIZE;
        for (size_t i = 0; i < chunk; i += 4) {
            hash->DIN = load_data_word(data + i, chunk - i);
        }
        data += chunk;
        len -= chunk;
    }
    return HASH_OK;
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
    bool loaded = false;
    while (len > 0) {
        if (ctx->buf_len == HASH_BLOCK_SIZE) {
            // more data follows: the buffered block can go to the peripheral
            if (!loaded) {
                hash_load(ctx);
                loaded = true;
            }
            if (hash_feed(ctx->buf, HASH_BLOCK_SIZE) != HASH_OK) {
                return hash_fail(ctx, HASH_ERR_TIMEOUT);
            }
            ctx->buf_len = 0;
        }
        size_t n = HASH_BLOCK_SIZE - ctx->buf_len;
        if (n > len) {
            n = len;
        }
        memcpy(ctx->buf + ctx->buf_len, data, n);
        ctx->buf_len += n;
        data += n;
        len -= n;
    }
    if (loaded) {
        if (!hash_wait(HASH_SR_DINIS | HASH_SR_BUSY, HASH_SR_DINIS)) {
            return hash_fail(ctx, HASH_ERR_TIMEOUT);
        }
        hash_save(ctx);
    }
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
