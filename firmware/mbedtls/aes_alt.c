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
// MBEDTLS_AES_ALT on the CRYP driver (hwcrypto/cryp.h): the mbedTLS AES API with each call
// a complete CRYP operation (key, IV and mode loaded every time), so any number of AES
// contexts (TLS keeps one per direction, the DRBG and cryptolib their own) interleave.
// A CRYP failure comes back as MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED, never a hang.
#include <string.h>

#include "mbedtls/aes.h"
#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"

#if defined(MBEDTLS_AES_ALT)

// One mapping from driver status to mbedTLS error for every function here.
static int aes_status_to_error(cryp_status_t status) {
    switch (status) {
        case CRYP_OK:
            return 0;
        case CRYP_ERR_PARAM:
            return MBEDTLS_ERR_AES_BAD_INPUT_DATA;
        default:
            return MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED;
    }
}

void mbedtls_aes_init(mbedtls_aes_context *ctx) {
    memset(ctx, 0, sizeof(*ctx));
}

void mbedtls_aes_free(mbedtls_aes_context *ctx) {
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

static int aes_setkey(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits) {
    if (keybits != 128 && keybits != 192 && keybits != 256) {
        return MBEDTLS_ERR_AES_INVALID_KEY_LENGTH;
    }
    return aes_status_to_error(cryp_aes_setkey(&ctx->key, key, keybits / 8));
}

int mbedtls_aes_setkey_enc(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits) {
    return aes_setkey(ctx, key, keybits);
}

int mbedtls_aes_setkey_dec(mbedtls_aes_context *ctx, const unsigned char *key, unsigned int keybits) {
    return aes_setkey(ctx, key, keybits);
}

int mbedtls_aes_crypt_ecb(mbedtls_aes_context *ctx, int mode,
    const unsigned char input[16], unsigned char output[16]) {
    if (mode != MBEDTLS_AES_ENCRYPT && mode != MBEDTLS_AES_DECRYPT) {
        return MBEDTLS_ERR_AES_BAD_INPUT_DATA;
    }
    return aes_status_to_error(cryp_aes_ecb(&ctx->key, mode == MBEDTLS_AES_DECRYPT, input, output, 16));
}

int mbedtls_internal_aes_encrypt(mbedtls_aes_context *ctx,
    const unsigned char input[16], unsigned char output[16]) {
    return mbedtls_aes_crypt_ecb(ctx, MBEDTLS_AES_ENCRYPT, input, output);
}

int mbedtls_internal_aes_decrypt(mbedtls_aes_context *ctx,
    const unsigned char input[16], unsigned char output[16]) {
    return mbedtls_aes_crypt_ecb(ctx, MBEDTLS_AES_DECRYPT, input, output);
}

#if defined(MBEDTLS_CIPHER_MODE_CBC)
int mbedtls_aes_crypt_cbc(mbedtls_aes_context *ctx, int mode, size_t length,
    unsigned char iv[16], const unsigned char *input, unsigned char *output) {
    if (mode != MBEDTLS_AES_ENCRYPT && mode != MBEDTLS_AES_DECRYPT) {
        return MBEDTLS_ERR_AES_BAD_INPUT_DATA;
    }
    if (length % 16 != 0) {
        return MBEDTLS_ERR_AES_INVALID_INPUT_LENGTH;
    }
    return aes_status_to_error(cryp_aes_cbc(&ctx->key, mode == MBEDTLS_AES_DECRYPT, iv, input, output, length));
}
#endif // MBEDTLS_CIPHER_MODE_CBC

#if defined(MBEDTLS_CIPHER_MODE_CTR)
// mbedTLS's CTR contract: *nc_off bytes of stream_block were used already; after the call
// stream_block holds the key stream of the last (partial) block and nonce_counter the next
// counter, so a message can be processed in pieces of any size.
int mbedtls_aes_crypt_ctr(mbedtls_aes_context *ctx, size_t length, size_t *nc_off,
    unsigned char nonce_counter[16], unsigned char stream_block[16],
    const unsigned char *input, unsigned char *output) {
    int ret = 0;
    size_t n = *nc_off;
    if (n > 15) {
        return MBEDTLS_ERR_AES_BAD_INPUT_DATA;
    }
    // the rest of the current key stream block
    while (n != 0 && length > 0) {
        *output++ = *input++ ^ stream_block[n];
        n = (n + 1) % 16;
        length--;
    }
    // whole blocks in one CRYP run
    size_t whole = length & ~(size_t)15;
    if (whole > 0) {
        ret = aes_status_to_error(cryp_aes_ctr(&ctx->key, nonce_counter, input, output, whole));
        if (ret != 0) {
            goto exit;
        }
        input += whole;
        output += whole;
        length -= whole;
    }
    // a last partial block: keep its key stream for the next call
    if (length > 0) {
        memset(stream_block, 0, 16);
        ret = aes_status_to_error(cryp_aes_ctr(&ctx->key, nonce_counter, stream_block, stream_block, 16));
        if (ret != 0) {
            goto exit;
        }
        for (; n < length; n++) {
            output[n] = input[n] ^ stream_block[n];
        }
    }
    *nc_off = n;
exit:
    return ret;
}
#endif // MBEDTLS_CIPHER_MODE_CTR

#endif // MBEDTLS_AES_ALT
