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
// MBEDTLS_SHA1_ALT, MBEDTLS_MD5_ALT and (STM32F437/439) MBEDTLS_SHA256_ALT on the HASH
// driver (hwcrypto/hash.h). Each mbedTLS context wraps a driver context that keeps its own
// partial block and saved HASH registers, so the many hash contexts a TLS handshake keeps
// alive (transcript, PRF, HMAC) can be updated in any order. A HASH failure comes back as
// MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED, never a hang.
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/md5.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"

#if defined(MBEDTLS_SHA1_ALT) || defined(MBEDTLS_MD5_ALT) || defined(MBEDTLS_SHA256_ALT)

// One mapping from driver status to mbedTLS error: bad_input for a context used out of
// order (not started, already finished), the hardware error for everything else.
static int hash_status_to_error(hash_status_t status, int bad_input) {
    switch (status) {
        case HASH_OK:
            return 0;
        case HASH_ERR_PARAM:
            return bad_input;
        default:
            return MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED;
    }
}

static void hash_alt_init(hash_ctx_t *ctx) {
    memset(ctx, 0, sizeof(*ctx));
}

static void hash_alt_free(hash_ctx_t *ctx) {
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

#endif

/******************************************************************************/
// SHA-1

#if defined(MBEDTLS_SHA1_ALT)

void mbedtls_sha1_init(mbedtls_sha1_context *ctx) {
    hash_alt_init(&ctx->hash);
}

void mbedtls_sha1_free(mbedtls_sha1_context *ctx) {
    if (ctx != NULL) {
        hash_alt_free(&ctx->hash);
    }
}

void mbedtls_sha1_clone(mbedtls_sha1_context *dst, const mbedtls_sha1_context *src) {
    hash_clone(&dst->hash, &src->hash);
}

int mbedtls_sha1_starts(mbedtls_sha1_context *ctx) {
    return hash_status_to_error(hash_init(&ctx->hash, HASH_ALGO_SHA1), MBEDTLS_ERR_SHA1_BAD_INPUT_DATA);
}

int mbedtls_sha1_update(mbedtls_sha1_context *ctx, const unsigned char *input, size_t ilen) {
    return hash_status_to_error(hash_update(&ctx->hash, input, ilen), MBEDTLS_ERR_SHA1_BAD_INPUT_DATA);
}

int mbedtls_sha1_finish(mbedtls_sha1_context *ctx, unsigned char output[20]) {
    return hash_status_to_error(hash_finish(&ctx->hash, output), MBEDTLS_ERR_SHA1_BAD_INPUT_DATA);
}

int mbedtls_internal_sha1_process(mbedtls_sha1_context *ctx, const unsigned char data[64]) {
    return mbedtls_sha1_update(ctx, data, 64);
}

#endif // MBEDTLS_SHA1_ALT

/******************************************************************************/
// MD5 (mbedTLS has no MD5 input error code: a misused context is a generic error)

#if defined(MBEDTLS_MD5_ALT)

void mbedtls_md5_init(mbedtls_md5_context *ctx) {
    hash_alt_init(&ctx->hash);
}

void mbedtls_md5_free(mbedtls_md5_context *ctx) {
    if (ctx != NULL) {
        hash_alt_free(&ctx->hash);
    }
}

void mbedtls_md5_clone(mbedtls_md5_context *dst, const mbedtls_md5_context *src) {
    hash_clone(&dst->hash, &src->hash);
}

int mbedtls_md5_starts(mbedtls_md5_context *ctx) {
    return hash_status_to_error(hash_init(&ctx->hash, HASH_ALGO_MD5), MBEDTLS_ERR_ERROR_GENERIC_ERROR);
}

int mbedtls_md5_update(mbedtls_md5_context *ctx, const unsigned char *input, size_t ilen) {
    return hash_status_to_error(hash_update(&ctx->hash, input, ilen), MBEDTLS_ERR_ERROR_GENERIC_ERROR);
}

int mbedtls_md5_finish(mbedtls_md5_context *ctx, unsigned char output[16]) {
    return hash_status_to_error(hash_finish(&ctx->hash, output), MBEDTLS_ERR_ERROR_GENERIC_ERROR);
}

int mbedtls_internal_md5_process(mbedtls_md5_context *ctx, const unsigned char data[64]) {
    return mbedtls_md5_update(ctx, data, 64);
}

#endif // MBEDTLS_MD5_ALT

/******************************************************************************/
// SHA-224 / SHA-256

#if defined(MBEDTLS_SHA256_ALT)

void mbedtls_sha256_init(mbedtls_sha256_context *ctx) {
    hash_alt_init(&ctx->hash);
}

void mbedtls_sha256_free(mbedtls_sha256_context *ctx) {
    if (ctx != NULL) {
        hash_alt_free(&ctx->hash);
    }
}

void mbedtls_sha256_clone(mbedtls_sha256_context *dst, const mbedtls_sha256_context *src) {
    hash_clone(&dst->hash, &src->hash);
}

int mbedtls_sha256_starts(mbedtls_sha256_context *ctx, int is224) {
    #if !defined(MBEDTLS_SHA224_C)
    if (is224) {
        return MBEDTLS_ERR_SHA256_BAD_INPUT_DATA;
    }
    #endif
    hash_algo_t algo = is224 ? HASH_ALGO_SHA224 : HASH_ALGO_SHA256;
    return hash_status_to_error(hash_init(&ctx->hash, algo), MBEDTLS_ERR_SHA256_BAD_INPUT_DATA);
}

int mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen) {
    return hash_status_to_error(hash_update(&ctx->hash, input, ilen), MBEDTLS_ERR_SHA256_BAD_INPUT_DATA);
}

int mbedtls_sha256_finish(mbedtls_sha256_context *ctx, unsigned char *output) {
    return hash_status_to_error(hash_finish(&ctx->hash, output), MBEDTLS_ERR_SHA256_BAD_INPUT_DATA);
}

int mbedtls_internal_sha256_process(mbedtls_sha256_context *ctx, const unsigned char data[64]) {
    return mbedtls_sha256_update(ctx, data, 64);
}

#endif // MBEDTLS_SHA256_ALT
