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
// MBEDTLS_CCM_ALT on the CCM engine of the STM32F437/439's CRYP (hwcrypto/cryp.h,
// cryp_aes_ccm: RM0090 23.3.9, the phases of STM32CubeF4's CRYP_AESCCM_Process). The
// STM32F415/417's CRYP has no CCM engine: there, and in the software builds, CCM is
// mbedTLS's own ccm.c (on the F417 its block cipher is still the CRYP through AES_ALT).
//
// The one-shot calls, mbedtls_ccm_encrypt_and_tag and mbedtls_ccm_auth_decrypt, are what
// TLS records use (ssl_msg.c through the cipher layer's AEAD calls; MBEDTLS_USE_PSA_CRYPTO
// is off) and what PSA's one-shot AEAD uses; their CCM* twins with a tag are the same
// operation. Each runs as one complete CRYP CCM operation: init phase with B0 (IV
// registers CTR1), header phase with the encoded AAD length and the AAD, payload phase
// (by DMA for long records) and final phase with CTR0, the key loaded every time and the
// CRYP left disabled, so other CRYP users (AES_ALT, DES_ALT, GCM_ALT, stm32crypto) can
// come in between any two calls and nothing is saved in the CRYP across them. A last
// partial block is handled by the driver as on the silicon (cryp.c, cryp_aead_last_block:
// for CCM decryption a CTR pass, then the zero-padded plaintext block through the header
// phase, one CBC-MAC step). The tag depends on its length (B0's flags), so the CRYP is
// asked for exactly tag_len bytes; a decryption compares them with mbedTLS's constant-time
// mbedtls_ct_memcmp and wipes the output on a mismatch, as mbedTLS's ccm.c does.
//
// Everything else is mbedTLS's own software CCM on the same key (ccm_sw.c, whose block
// cipher is still the CRYP through AES_ALT): the streaming calls (starts, set_lengths,
// update_ad, update, finish), CCM* without a tag, what mbedTLS refuses (so the errors are
// its own: AAD of 0xFF00 bytes or more, nonces outside 7..13 bytes, odd or short tags, a
// length that does not fit the length field), partly overlapping buffers, and a one-shot
// operation the CRYP failed when its input is still intact (out-of-place). An in-place
// operation the CRYP failed returns MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED: never a wrong
// result.
#include <string.h>

#include "mbedtls/ccm.h"
#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/constant_time.h"

#if defined(MBEDTLS_CCM_ALT)

#define SW(ctx) ((struct stm32lab_ccm_sw_context *)(ctx)->sw)

static uint32_t ccm_counts[2];

void stm32lab_ccm_counts(uint32_t counts[2]) {
    counts[0] = ccm_counts[0];
    counts[1] = ccm_counts[1];
}

void mbedtls_ccm_init(mbedtls_ccm_context *ctx) {
    memset(ctx, 0, sizeof(*ctx));
    stm32lab_ccm_sw_init(SW(ctx));
}

void mbedtls_ccm_free(mbedtls_ccm_context *ctx) {
    if (ctx == NULL) {
        return;
    }
    stm32lab_ccm_sw_free(SW(ctx));
    mbedtls_platform_zeroize(ctx, sizeof(*ctx));
}

int mbedtls_ccm_setkey(mbedtls_ccm_context *ctx, mbedtls_cipher_id_t cipher,
    const unsigned char *key, unsigned int keybits) {
    ctx->hw = false;
    mbedtls_platform_zeroize(&ctx->key, sizeof(ctx->key));
    int ret = stm32lab_ccm_sw_setkey(SW(ctx), cipher, key, keybits);
    if (ret == 0 && cipher == MBEDTLS_CIPHER_ID_AES) {
        ctx->hw = cryp_aes_setkey(&ctx->key, key, keybits / 8) == CRYP_OK;
    }
    return ret;
}

int mbedtls_ccm_starts(mbedtls_ccm_context *ctx, int mode,
    const unsigned char *iv, size_t iv_len) {
    return stm32lab_ccm_sw_starts(SW(ctx), mode, iv, iv_len);
}

int mbedtls_ccm_set_lengths(mbedtls_ccm_context *ctx, size_t total_ad_len,
    size_t plaintext_len, size_t tag_len) {
    return stm32lab_ccm_sw_set_lengths(SW(ctx), total_ad_len, plaintext_len, tag_len);
}

int mbedtls_ccm_update_ad(mbedtls_ccm_context *ctx, const unsigned char *ad, size_t ad_len) {
    return stm32lab_ccm_sw_update_ad(SW(ctx), ad, ad_len);
}

int mbedtls_ccm_update(mbedtls_ccm_context *ctx,
    const unsigned char *input, size_t input_len,
    unsigned char *output, size_t output_size, size_t *output_len) {
    return stm32lab_ccm_sw_update(SW(ctx), input, input_len, output, output_size, output_len);
}

int mbedtls_ccm_finish(mbedtls_ccm_context *ctx, unsigned char *tag, size_t tag_len) {
    return stm32lab_ccm_sw_finish(SW(ctx), tag, tag_len);
}

// What the CRYP's one-shot CCM takes, within what mbedTLS's CCM accepts: a nonce of 7..13
// bytes, a tag of 4..16 bytes in steps of 2 (CCM* without a tag is plain CTR: software),
// AAD below 0xFF00 bytes (mbedtls_ccm_set_lengths' limit; the CRYP would take more), a
// length that fits the 15 - nonce bytes of B0's length field, and buffers the CRYP may
// take: the same one (in place) or two that do not overlap.
static bool ccm_hw_ok(const mbedtls_ccm_context *ctx, size_t length, size_t iv_len,
    size_t ad_len, const unsigned char *input, const unsigned char *output, size_t tag_len) {
    if (!ctx->hw || iv_len < 7 || iv_len > 13 || tag_len < 4 || tag_len > 16
        || tag_len % 2 != 0 || ad_len > STM32LAB_CCM_MAX_AAD) {
        return false;
    }
    size_t q = 15 - iv_len;
    if (q < sizeof(size_t) && (length >> (8 * q)) != 0) {
        return false;
    }
    if (length == 0 || input == output) {
        return true;
    }
    uintptr_t in = (uintptr_t)input, out = (uintptr_t)output;
    return out + length <= in || in + length <= out;
}

// One CCM operation on the CRYP: 0, or MBEDTLS_ERR_CCM_AUTH_FAILED (decryption, output
// wiped), or MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED (in place, output wiped); 1: not done,
// the caller runs it in software.
static int ccm_hw(mbedtls_ccm_context *ctx, bool decrypt, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output, unsigned char *tag,
    const unsigned char *expected_tag, size_t tag_len) {
    if (!ccm_hw_ok(ctx, length, iv_len, ad_len, input, output, tag_len)) {
        return 1;
    }
    unsigned char computed[16];
    cryp_status_t status = cryp_aes_ccm(&ctx->key, decrypt, iv, iv_len, ad, ad_len,
        input, output, length, decrypt ? computed : tag, tag_len);
    if (status != CRYP_OK) {
        mbedtls_platform_zeroize(computed, sizeof(computed));
        if (length != 0 && input == output) {
            // the CRYP may have overwritten part of the input: no software retry
            mbedtls_platform_zeroize(output, length);
            return MBEDTLS_ERR_PLATFORM_HW_ACCEL_FAILED;
        }
        return 1;
    }
    ccm_counts[0]++;
    if (decrypt) {
        int diff = mbedtls_ct_memcmp(expected_tag, computed, tag_len);
        mbedtls_platform_zeroize(computed, sizeof(computed));
        if (diff != 0) {
            mbedtls_platform_zeroize(output, length);
            return MBEDTLS_ERR_CCM_AUTH_FAILED;
        }
    }
    return 0;
}

int mbedtls_ccm_encrypt_and_tag(mbedtls_ccm_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output, unsigned char *tag, size_t tag_len) {
    int ret = ccm_hw(ctx, false, length, iv, iv_len, ad, ad_len, input, output, tag, NULL,
        tag_len);
    if (ret != 1) {
        return ret;
    }
    ccm_counts[1]++;
    return stm32lab_ccm_sw_encrypt_and_tag(SW(ctx), length, iv, iv_len, ad, ad_len,
        input, output, tag, tag_len);
}

int mbedtls_ccm_star_encrypt_and_tag(mbedtls_ccm_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output, unsigned char *tag, size_t tag_len) {
    // with a tag, CCM* is CCM
    int ret = ccm_hw(ctx, false, length, iv, iv_len, ad, ad_len, input, output, tag, NULL,
        tag_len);
    if (ret != 1) {
        return ret;
    }
    ccm_counts[1]++;
    return stm32lab_ccm_sw_star_encrypt_and_tag(SW(ctx), length, iv, iv_len, ad, ad_len,
        input, output, tag, tag_len);
}

int mbedtls_ccm_auth_decrypt(mbedtls_ccm_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output,
    const unsigned char *tag, size_t tag_len) {
    int ret = ccm_hw(ctx, true, length, iv, iv_len, ad, ad_len, input, output, NULL, tag,
        tag_len);
    if (ret != 1) {
        return ret;
    }
    ccm_counts[1]++;
    return stm32lab_ccm_sw_auth_decrypt(SW(ctx), length, iv, iv_len, ad, ad_len,
        input, output, tag, tag_len);
}

int mbedtls_ccm_star_auth_decrypt(mbedtls_ccm_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output,
    const unsigned char *tag, size_t tag_len) {
    int ret = ccm_hw(ctx, true, length, iv, iv_len, ad, ad_len, input, output, NULL, tag,
        tag_len);
    if (ret != 1) {
        return ret;
    }
    ccm_counts[1]++;
    return stm32lab_ccm_sw_star_auth_decrypt(SW(ctx), length, iv, iv_len, ad, ad_len,
        input, output, tag, tag_len);
}

#endif // MBEDTLS_CCM_ALT
