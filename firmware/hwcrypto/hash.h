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
// HASH driver (RM0090 25): incremental SHA-1 and MD5, and SHA-224/256 on the
// STM32F437/439 ("v2" HASH); one-shot HMAC. Polled; every wait is bounded.
//
// Contexts interleave: each hash_ctx_t keeps its partial block (up to 64 bytes) and,
// once the peripheral has seen part of its message, the saved HASH context (IMR, STR, CR,
// CSR0..37, RM0090 25.3.6). An update that reaches the peripheral restores the context
// (unless it is still loaded), feeds whole blocks and saves the context again at a block
// boundary. A context is plain data: copying the struct (hash_clone, or *dst = *src)
// forks the hash.
#ifndef MICROPY_INCLUDED_STM32LAB_HWCRYPTO_HASH_H
#define MICROPY_INCLUDED_STM32LAB_HWCRYPTO_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hwcrypto/hwcrypto_config.h"

typedef enum {
    HASH_ALGO_SHA1 = 0,
    HASH_ALGO_MD5,
    HASH_ALGO_SHA224,       // STM32F437/439 only
    HASH_ALGO_SHA256,       // STM32F437/439 only
} hash_algo_t;

typedef enum {
    HASH_OK = 0,
    HASH_ERR_PARAM,         // unknown algorithm, context not initialised or finished
    HASH_ERR_UNSUPPORTED,   // the algorithm is not on this chip
    HASH_ERR_TIMEOUT,       // the HASH did not raise DINIS/DCIS or drop BUSY in time
} hash_status_t;

const char *hash_status_str(hash_status_t status);

#define HASH_BLOCK_SIZE         (64)
#define HASH_MAX_DIGEST_SIZE    (32)
#define HASH_CONTEXT_CSRS       (38)    // CSR0..37: enough for a hash (not HMAC) context

typedef struct {
    uint32_t csr[HASH_CONTEXT_CSRS];    // saved context (valid when in_hw)
    uint32_t imr, str, cr;
    uint32_t hw_tag;                    // which saved hardware state this is
    uint8_t buf[HASH_BLOCK_SIZE];       // bytes not yet given to the peripheral
    uint8_t buf_len;
    uint8_t algo;                       // hash_algo_t
    uint8_t state;                      // driver internal: unset, ready, failed
    bool in_hw;                         // the peripheral has seen part of the message
} hash_ctx_t;

// Whether this chip's HASH computes algo.
bool hash_algo_available(hash_algo_t algo);
// Digest size in bytes: 20, 16, 28, 32 (0 for an unknown algo).
size_t hash_digest_size(hash_algo_t algo);

hash_status_t hash_init(hash_ctx_t *ctx, hash_algo_t algo);
hash_status_t hash_update(hash_ctx_t *ctx, const uint8_t *data, size_t len);
// Writes hash_digest_size(algo) bytes; the context is finished afterwards (hash_init it
// again to reuse it; finish a copy to peek at a running hash).
hash_status_t hash_finish(hash_ctx_t *ctx, uint8_t *digest);
void hash_clone(hash_ctx_t *dst, const hash_ctx_t *src);

// One-shot hash and HMAC (RFC 2104; keys longer than 64 bytes are hashed first, LKEY).
hash_status_t hash_digest(hash_algo_t algo, const uint8_t *msg, size_t len, uint8_t *digest);
hash_status_t hash_hmac(hash_algo_t algo, const uint8_t *key, size_t key_len,
    const uint8_t *msg, size_t msg_len, uint8_t *mac);

#endif // MICROPY_INCLUDED_STM32LAB_HWCRYPTO_HASH_H
