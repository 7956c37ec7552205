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
// MBEDTLS_GCM_ALT on the STM32F437/439 CRYP (hwcrypto/cryp.h, RM0090 23.3.8).
//
// The one-shot calls, mbedtls_gcm_crypt_and_tag and mbedtls_gcm_auth_decrypt, are what TLS
// records use (ssl_msg.c through the cipher layer; MBEDTLS_USE_PSA_CRYPTO is off) and what
// PSA's one-shot AEAD uses. With a 96-bit IV they run as one complete CRYP GCM operation:
// init, header, payload (by DMA for long records) and final phase, the key loaded every
// time and the CRYP left disabled, so other CRYP users (AES_ALT, DES_ALT, stm32crypto)
// can come in between any two calls and nothing is saved in the CRYP across them. A last
// partial block is handled by the driver as on the silicon (cryp.c, cryp_aead_last_block:
// ST's workaround for GCM encryption, CTR pass then final-phase GHASH of the masked block).
//
// Everything else is mbedTLS's own software GCM on the same key (gcm_sw.c, whose block
// cipher is still the CRYP through AES_ALT): the streaming calls (starts, update_ad,
// update, finish: software GHASH, output never lags the input), IVs other than 96 bits,
// tags shorter than 4 bytes (refused there), partly overlapping buffers, and a one-shot
// operation the CRYP failed when its input is still intact (out-of-place). An in-place
// operation the CRYP failed returns MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED: never a wrong
// result.
#include <string.h>

#include "mbedtls/gcm.h"
#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/constant_time.h"

#if defined(MBEDTLS_GCM_ALT)

#define SW(ctx) ((struct stm32lab_gcm_sw_context *)(ctx)->sw)

static uint32_t gcm_counts[2];

void stm32lab_gcm_counts(uint32_t counts[2]) {
    counts[0] = gcm_counts[0];
    counts[1] = gcm_counts[1];
}

void mbedtls_gcm_init(mbedtls_gcm_context *ctx) {
    memset(ctx, 0, sizeof(*ctx));
    stm32lab_gcm_sw_init(SW(ctx));
}

void mbedtls_gcm_free(mbedtls_gcm_context *ctx) {
    if (ctx == NULL) {
        return;
    }
    stm32lab_gcm_sw_free(SW(ctx));
    mbedtls_platform_zeroize(ctx, sizeof(*ctx));
}

int mbedtls_gcm_setkey(mbedtls_gcm_context *ctx, mbedtls_cipher_id_t cipher,
    const unsigned char *key, unsigned int keybits) {
    ctx->hw = false;
    mbedtls_platform_zeroize(&ctx->key, sizeof(ctx->key));
    int ret = stm32lab_gcm_sw_setkey(SW(ctx), cipher, key, keybits);
    if (ret == 0 && cipher == MBEDTLS_CIPHER_ID_AES) {
        ctx->hw = cryp_aes_setkey(&ctx->key, key, keybits / 8) == CRYP_OK;
    }
    return ret;
}

int mbedtls_gcm_starts(mbedtls_gcm_context *ctx, int mode,
    const unsigned char *iv, size_t iv_len) {
    return stm32lab_gcm_sw_starts(SW(ctx), mode, iv, iv_len);
}

int mbedtls_gcm_update_ad(mbedtls_gcm_context *ctx, const unsigned char *add, size_t add_len) {
    return stm32lab_gcm_sw_update_ad(SW(ctx), add, add_len);
}

int mbedtls_gcm_update(mbedtls_gcm_context *ctx,
    const unsigned char *input, size_t input_length,
    unsigned char *output, size_t output_size, size_t *output_length) {
    return stm32lab_gcm_sw_update(SW(ctx), input, input_length, output, output_size,
        output_length);
}

int mbedtls_gcm_finish(mbedtls_gcm_context *ctx,
    unsigned char *output, size_t output_size, size_t *output_length,
    unsigned char *tag, size_t tag_len) {
    return stm32lab_gcm_sw_finish(SW(ctx), output, output_size, output_length, tag, tag_len);
}

// Buffers the CRYP may take: the same buffer (in place) or two that do not overlap.
static bool gcm_buffers_ok(const unsigned char *input, const unsigned char *output,
    size_t length) {
    if (length == 0 || input == output) {
        return true;
    }
    uintptr_t in = (uintptr_t)input, out = (uintptr_t)output;
    return out + length <= in || in + length <= out;
}

int mbedtls_gcm_crypt_and_tag(mbedtls_gcm_context *ctx, int mode, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *add, size_t add_len,
    const unsigned char *input, unsigned char *output, size_t tag_len, unsigned char *tag) {
    if (ctx->hw && iv_len == 12 && tag_len >= 4 && tag_len <= 16
        && (mode == MBEDTLS_GCM_ENCRYPT || mode == MBEDTLS_GCM_DECRYPT)
        && gcm_buffers_ok(input, output, length)) {
        unsigned char full_tag[16];
        cryp_status_t status = cryp_aes_gcm(&ctx->key, mode == MBEDTLS_GCM_DECRYPT, iv,
            add, add_len, input, output, length, full_tag);
        if (status == CRYP_OK) {
            memcpy(tag, full_tag, tag_len);
            mbedtls_platform_zeroize(full_tag, sizeof(full_tag));
            gcm_counts[0]++;
            return 0;
        }
        if (length != 0 && input == output) {
            // the CRYP may have overwritten part of the input: no software retry
            mbedtls_platform_zeroize(output, length);
            return MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED;
        }
    }
    gcm_counts[1]++;
    return stm32lab_gcm_sw_crypt_and_tag(SW(ctx), mode, length, iv, iv_len, add, add_len,
        input, output, tag_len, tag);
}

int mbedtls_gcm_auth_decrypt(mbedtls_gcm_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *add, size_t add_len,
    const unsigned char *tag, size_t tag_len, const unsigned char *input,
    unsigned char *output) {
    unsigned char check_tag[16];
    if (tag_len > 16) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    int ret = mbedtls_gcm_crypt_and_tag(ctx, MBEDTLS_GCM_DECRYPT, length, iv, iv_len,
        add, add_len, input, output, tag_len, check_tag);
    if (ret != 0) {
        return ret;
    }
    int diff = mbedtls_ct_memcmp(tag, check_tag, tag_len);
    mbedtls_platform_zeroize(check_tag, sizeof(check_tag));
    if (diff != 0) {
        mbedtls_platform_zeroize(output, length);
        return MBEDTLS_ERR_GCM_AUTH_FAILED;
    }
    return 0;
}

#endif // MBEDTLS_GCM_ALT
