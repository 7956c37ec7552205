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
// MBEDTLS_GCM_ALT on the CRYP (hwcrypto/cryp.h): its GCM engine on the STM32F437/439
// (RM0090 23.3.8), its AES-CTR mode on the STM32F415/417, which has no GCM engine.
//
// The one-shot calls, mbedtls_gcm_crypt_and_tag and mbedtls_gcm_auth_decrypt, are what TLS
// records use (ssl_msg.c through the cipher layer; MBEDTLS_USE_PSA_CRYPTO is off) and what
// PSA's one-shot AEAD uses. With a 96-bit IV, on the F439 they run as one complete CRYP GCM
// operation: init, header, payload (by DMA for long records) and final phase, the key
// loaded every time and the CRYP left disabled, so other CRYP users (AES_ALT, DES_ALT,
// stm32crypto) can come in between any two calls and nothing is saved in the CRYP across
// them. A last partial block is handled by the driver as on the silicon (cryp.c,
// cryp_aead_last_block: ST's workaround for GCM encryption, CTR pass then final-phase GHASH
// of the masked block). On the F417 the payload is one complete CRYP AES-CTR operation
// (by DMA for long records) and the tag is mbedTLS's own GHASH (gcm_ctr_ghash below),
// where mbedTLS's gcm.c would ask AES_ALT for one ECB block per 16 bytes.
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

#if !MICROPY_HW_CRYP_GCM_CCM
// STM32F415/417: GCM's encryption is CTR mode from inc32(J0) (SP 800-38D 7.1), and for a
// 96-bit IV J0 = IV || 00000001, so the payload goes through the CRYP as one AES-CTR run
// from IV || 00000002 (cryp_aes_ctr: by DMA from 128 bytes). GCM's inc32 wraps the low 32
// bits alone where the CRYP (and cryp_aes_ctr across the split it makes there) carries into
// the IV; the two agree as long as the low word does not wrap, which is what
// STM32LAB_GCM_MAX_PAYLOAD (gcm_sw.h) guarantees (2 + 2^32 - 2 blocks - 1 = 2^32 - 1), and
// the caller checks it. The tag comes from mbedTLS's gcm.c (gcm_sw.c) on the same key:
// starts() computes E(K, J0) (one block through AES_ALT), update_ad() and
// stm32lab_gcm_sw_ghash_ciphertext() GHASH over the AAD and the ciphertext, finish() the
// lengths block and the tag. A decryption hashes the ciphertext before the CRYP overwrites
// it (in place). Any failure is the CRYP's: starts()' block through AES_ALT, or the CTR
// run; the lengths are checked before.
static cryp_status_t gcm_ctr_ghash(mbedtls_gcm_context *ctx, bool decrypt,
    const unsigned char iv[12], const unsigned char *add, size_t add_len,
    const unsigned char *input, unsigned char *output, size_t length,
    unsigned char tag[16]) {
    struct stm32lab_gcm_sw_context *sw = SW(ctx);
    if (stm32lab_gcm_sw_starts(sw, decrypt ? MBEDTLS_GCM_DECRYPT : MBEDTLS_GCM_ENCRYPT,
        iv, 12) != 0
        || stm32lab_gcm_sw_update_ad(sw, add, add_len) != 0
        || (decrypt && stm32lab_gcm_sw_ghash_ciphertext(sw, input, length) != 0)) {
        return CRYP_ERR_TIMEOUT;
    }
    unsigned char counter[16];
    memcpy(counter, iv, 12);
    counter[12] = counter[13] = counter[14] = 0;
    counter[15] = 2;
    cryp_status_t status = cryp_aes_ctr(&ctx->key, counter, input, output, length);
    size_t olen;
    if (status == CRYP_OK
        && ((!decrypt && stm32lab_gcm_sw_ghash_ciphertext(sw, output, length) != 0)
            || stm32lab_gcm_sw_finish(sw, NULL, 0, &olen, tag, 16) != 0)) {
        status = CRYP_ERR_PARAM;
    }
    return status;
}
#endif // !MICROPY_HW_CRYP_GCM_CCM

int mbedtls_gcm_crypt_and_tag(mbedtls_gcm_context *ctx, int mode, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *add, size_t add_len,
    const unsigned char *input, unsigned char *output, size_t tag_len, unsigned char *tag) {
    if (ctx->hw && iv_len == 12 && tag_len >= 4 && tag_len <= 16
        && (mode == MBEDTLS_GCM_ENCRYPT || mode == MBEDTLS_GCM_DECRYPT)
        && (uint64_t)length <= STM32LAB_GCM_MAX_PAYLOAD
        && gcm_buffers_ok(input, output, length)) {
        unsigned char full_tag[16];
        #if MICROPY_HW_CRYP_GCM_CCM
        cryp_status_t status = cryp_aes_gcm(&ctx->key, mode == MBEDTLS_GCM_DECRYPT, iv,
            add, add_len, input, output, length, full_tag);
        #else
        cryp_status_t status = gcm_ctr_ghash(ctx, mode == MBEDTLS_GCM_DECRYPT, iv,
            add, add_len, input, output, length, full_tag);
        #endif
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
