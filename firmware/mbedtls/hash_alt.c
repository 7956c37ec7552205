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

/******************************************************************************/
// HMAC (MBEDTLS_MD_HMAC_ALT, patches/mbedtls/0004): mbedtls_md_hmac() in one HASH HMAC
// operation (RM0090 25.3.5: key, message, key phases; LKEY hashes a key longer than a
// block). The TLS 1.2 PRF (patches/mbedtls/0005) asks here first and, where the HASH has
// the hash, makes every HMAC one such call: on the F439 a handshake's SHA-256 PRF (28
// HMACs) takes 31,505 guest instructions instead of 99,553 with mbedTLS's HMAC on the
// SHA-256 contexts above (bench/tls_prf.py); where it refuses (SHA-384, SHA-256 on the
// F417) the PRF keeps its own software HMAC context, as one-shot software HMACs cost 7-14%
// more than that (the setup per HMAC).

#if defined(MBEDTLS_MD_HMAC_ALT)

#include "mbedtls/md.h"
#include "hwcrypto/hash.h"

// calls answered on the HASH, and refused (mbedtls_md_hmac() computes those in software)
static uint32_t hmac_counts[2];

void stm32lab_hmac_counts(uint32_t counts[2]) {
    counts[0] = hmac_counts[0];
    counts[1] = hmac_counts[1];
}

// The HASH algorithm for an mbedTLS hash type, if the HASH has one: not SHA-384/512 (the
// SHA-384 suites' PRF stays in software), SHA-224/256 only on the STM32F437/439.
static bool hmac_algo(mbedtls_md_type_t md_type, hash_algo_t *algo) {
    switch (md_type) {
        case MBEDTLS_MD_MD5:
            *algo = HASH_ALGO_MD5;
            break;
        case MBEDTLS_MD_SHA1:
            *algo = HASH_ALGO_SHA1;
            break;
        case MBEDTLS_MD_SHA224:
            *algo = HASH_ALGO_SHA224;
            break;
        case MBEDTLS_MD_SHA256:
            *algo = HASH_ALGO_SHA256;
            break;
        default:
            return false;
    }
    return hash_algo_available(*algo);
}

int mbedtls_md_hmac_alt(mbedtls_md_type_t md_type, const unsigned char *key, size_t keylen,
    const unsigned char *input, size_t ilen, unsigned char *output) {
    hash_algo_t algo;
    // An empty key or message is software's: neither occurs in TLS (the PRF's secret is
    // a premaster or master secret) and RM0090 does not say the HMAC phases take them.
    if (!hmac_algo(md_type, &algo) || keylen == 0 || ilen == 0) {
        hmac_counts[1]++;
        return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
    }
    if (hash_hmac(algo, key, keylen, input, ilen, output) != HASH_OK) {
        // a HASH failure: mbedtls_md_hmac() computes it in software, never a wrong MAC
        mbedtls_platform_zeroize(output, hash_digest_size(algo));
        hmac_counts[1]++;
        return MBEDTLS_ERR_PLATFORM_FEATURE_UNSUPPORTED;
    }
    hmac_counts[0]++;
    return 0;
}

#endif // MBEDTLS_MD_HMAC_ALT
