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
// MBEDTLS_DES_ALT on the CRYP driver (hwcrypto/cryp.h): DES and 3DES (two- and three-key)
// in ECB and CBC. Each call is a complete CRYP operation, so contexts interleave; a CRYP
// failure comes back as MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED.
#include <string.h>

#include "mbedtls/des.h"
#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"

#if defined(MBEDTLS_DES_ALT)

static int des_status_to_error(cryp_status_t status) {
    switch (status) {
        case CRYP_OK:
            return 0;
        case CRYP_ERR_PARAM:
            return MBEDTLS_ERR_DES_INVALID_INPUT_LENGTH;
        default:
            return MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED;
    }
}

void mbedtls_des_init(mbedtls_des_context *ctx) {
    memset(ctx, 0, sizeof(*ctx));
}

void mbedtls_des_free(mbedtls_des_context *ctx) {
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

void mbedtls_des3_init(mbedtls_des3_context *ctx) {
    memset(ctx, 0, sizeof(*ctx));
}

void mbedtls_des3_free(mbedtls_des3_context *ctx) {
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

// Odd parity in every byte: the low bit makes the number of ones odd.
static unsigned char des_odd_parity(unsigned char b) {
    unsigned int ones = __builtin_popcount(b & 0xfe);
    return (b & 0xfe) | ((ones & 1) ? 0 : 1);
}

void mbedtls_des_key_set_parity(unsigned char key[MBEDTLS_DES_KEY_SIZE]) {
    for (int i = 0; i < MBEDTLS_DES_KEY_SIZE; i++) {
        key[i] = des_odd_parity(key[i]);
    }
}

int mbedtls_des_key_check_key_parity(const unsigned char key[MBEDTLS_DES_KEY_SIZE]) {
    for (int i = 0; i < MBEDTLS_DES_KEY_SIZE; i++) {
        if (key[i] != des_odd_parity(key[i])) {
            return 1;
        }
    }
    return 0;
}

// The 4 weak and 12 semi-weak DES keys (FIPS 74 3.6, NIST SP 800-67 3.3.2).
static const unsigned char des_weak_keys[16][MBEDTLS_DES_KEY_SIZE] = {
    { 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 },
    { 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE },
    { 0x1F, 0x1F, 0x1F, 0x1F, 0x0E, 0x0E, 0x0E, 0x0E },
    { 0xE0, 0xE0, 0xE0, 0xE0, 0xF1, 0xF1, 0xF1, 0xF1 },
    { 0x01, 0x1F, 0x01, 0x1F, 0x01, 0x0E, 0x01, 0x0E },
    { 0x1F, 0x01, 0x1F, 0x01, 0x0E, 0x01, 0x0E, 0x01 },
    { 0x01, 0xE0, 0x01, 0xE0, 0x01, 0xF1, 0x01, 0xF1 },
    { 0xE0, 0x01, 0xE0, 0x01, 0xF1, 0x01, 0xF1, 0x01 },
    { 0x01, 0xFE, 0x01, 0xFE, 0x01, 0xFE, 0x01, 0xFE },
    { 0xFE, 0x01, 0xFE, 0x01, 0xFE, 0x01, 0xFE, 0x01 },
    { 0x1F, 0xE0, 0x1F, 0xE0, 0x0E, 0xF1, 0x0E, 0xF1 },
    { 0xE0, 0x1F, 0xE0, 0x1F, 0xF1, 0x0E, 0xF1, 0x0E },
    { 0x1F, 0xFE, 0x1F, 0xFE, 0x0E, 0xFE, 0x0E, 0xFE },
    { 0xFE, 0x1F, 0xFE, 0x1F, 0xFE, 0x0E, 0xFE, 0x0E },
    { 0xE0, 0xFE, 0xE0, 0xFE, 0xF1, 0xFE, 0xF1, 0xFE },
    { 0xFE, 0xE0, 0xFE, 0xE0, 0xFE, 0xF1, 0xFE, 0xF1 },
};

int mbedtls_des_key_check_weak(const unsigned char key[MBEDTLS_DES_KEY_SIZE]) {
    for (size_t i = 0; i < sizeof(des_weak_keys) / sizeof(des_weak_keys[0]); i++) {
        if (memcmp(des_weak_keys[i], key, MBEDTLS_DES_KEY_SIZE) == 0) {
            return 1;
        }
    }
    return 0;
}

static int des_setkey(cryp_des_key_t *hw_key, bool *decrypt_out, bool decrypt,
    const unsigned char *key, size_t len) {
    *decrypt_out = decrypt;
    return des_status_to_error(cryp_des_setkey(hw_key, key, len));
}

int mbedtls_des_setkey_enc(mbedtls_des_context *ctx, const unsigned char key[MBEDTLS_DES_KEY_SIZE]) {
    return des_setkey(&ctx->key, &ctx->decrypt, false, key, MBEDTLS_DES_KEY_SIZE);
}

int mbedtls_des_setkey_dec(mbedtls_des_context *ctx, const unsigned char key[MBEDTLS_DES_KEY_SIZE]) {
    return des_setkey(&ctx->key, &ctx->decrypt, true, key, MBEDTLS_DES_KEY_SIZE);
}

int mbedtls_des3_set2key_enc(mbedtls_des3_context *ctx, const unsigned char key[MBEDTLS_DES_KEY_SIZE * 2]) {
    return des_setkey(&ctx->key, &ctx->decrypt, false, key, MBEDTLS_DES_KEY_SIZE * 2);
}

int mbedtls_des3_set2key_dec(mbedtls_des3_context *ctx, const unsigned char key[MBEDTLS_DES_KEY_SIZE * 2]) {
    return des_setkey(&ctx->key, &ctx->decrypt, true, key, MBEDTLS_DES_KEY_SIZE * 2);
}

int mbedtls_des3_set3key_enc(mbedtls_des3_context *ctx, const unsigned char key[MBEDTLS_DES_KEY_SIZE * 3]) {
    return des_setkey(&ctx->key, &ctx->decrypt, false, key, MBEDTLS_DES_KEY_SIZE * 3);
}

int mbedtls_des3_set3key_dec(mbedtls_des3_context *ctx, const unsigned char key[MBEDTLS_DES_KEY_SIZE * 3]) {
    return des_setkey(&ctx->key, &ctx->decrypt, true, key, MBEDTLS_DES_KEY_SIZE * 3);
}

int mbedtls_des_crypt_ecb(mbedtls_des_context *ctx, const unsigned char input[8], unsigned char output[8]) {
    return des_status_to_error(cryp_des_ecb(&ctx->key, ctx->decrypt, input, output, 8));
}

int mbedtls_des3_crypt_ecb(mbedtls_des3_context *ctx, const unsigned char input[8], unsigned char output[8]) {
    return des_status_to_error(cryp_des_ecb(&ctx->key, ctx->decrypt, input, output, 8));
}

#if defined(MBEDTLS_CIPHER_MODE_CBC)
// The key was set for one direction (mbedTLS's contract); mode picks the chaining, and a
// caller mixing the two gets an error rather than a silently different result.
static int des_cbc(const cryp_des_key_t *key, bool key_decrypt, int mode, size_t length,
    unsigned char iv[8], const unsigned char *input, unsigned char *output) {
    if (mode != MBEDTLS_DES_ENCRYPT && mode != MBEDTLS_DES_DECRYPT) {
        return MBEDTLS_ERR_DES_INVALID_INPUT_LENGTH;
    }
    if (length % 8 != 0 || (mode == MBEDTLS_DES_DECRYPT) != key_decrypt) {
        return MBEDTLS_ERR_DES_INVALID_INPUT_LENGTH;
    }
    return des_status_to_error(cryp_des_cbc(key, key_decrypt, iv, input, output, length));
}

int mbedtls_des_crypt_cbc(mbedtls_des_context *ctx, int mode, size_t length,
    unsigned char iv[8], const unsigned char *input, unsigned char *output) {
    return des_cbc(&ctx->key, ctx->decrypt, mode, length, iv, input, output);
}

int mbedtls_des3_crypt_cbc(mbedtls_des3_context *ctx, int mode, size_t length,
    unsigned char iv[8], const unsigned char *input, unsigned char *output) {
    return des_cbc(&ctx->key, ctx->decrypt, mode, length, iv, input, output);
}
#endif // MBEDTLS_CIPHER_MODE_CBC

#endif // MBEDTLS_DES_ALT
