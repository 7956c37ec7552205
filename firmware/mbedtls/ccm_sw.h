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
// mbedTLS's own CCM (library/ccm.c) under stm32lab_ccm_sw_* names (ccm_sw.c), which
// MBEDTLS_CCM_ALT (ccm_alt.c, STM32F437/439 only) keeps for everything the CRYP's CCM
// engine does not take: the streaming calls (starts/set_lengths/update_ad/update/finish),
// CCM* without a tag, AAD of 0xFF00 bytes and more (which mbedTLS refuses), lengths and
// tags mbedTLS refuses, partly overlapping buffers, other ciphers, and a one-shot
// operation the CRYP failed. Its block cipher is mbedTLS's AES, so still the CRYP through
// MBEDTLS_AES_ALT, one ECB block at a time.
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_CCM_SW_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_CCM_SW_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/cipher.h"

// Room for the software context inside mbedtls_ccm_context (ccm_sw.c checks that it fits).
#define STM32LAB_CCM_SW_CONTEXT_WORDS (24)

struct stm32lab_ccm_sw_context;

void stm32lab_ccm_sw_init(struct stm32lab_ccm_sw_context *ctx);
int stm32lab_ccm_sw_setkey(struct stm32lab_ccm_sw_context *ctx, mbedtls_cipher_id_t cipher,
    const unsigned char *key, unsigned int keybits);
void stm32lab_ccm_sw_free(struct stm32lab_ccm_sw_context *ctx);
int stm32lab_ccm_sw_encrypt_and_tag(struct stm32lab_ccm_sw_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output, unsigned char *tag, size_t tag_len);
int stm32lab_ccm_sw_star_encrypt_and_tag(struct stm32lab_ccm_sw_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output, unsigned char *tag, size_t tag_len);
int stm32lab_ccm_sw_auth_decrypt(struct stm32lab_ccm_sw_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output,
    const unsigned char *tag, size_t tag_len);
int stm32lab_ccm_sw_star_auth_decrypt(struct stm32lab_ccm_sw_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *ad, size_t ad_len,
    const unsigned char *input, unsigned char *output,
    const unsigned char *tag, size_t tag_len);
int stm32lab_ccm_sw_starts(struct stm32lab_ccm_sw_context *ctx, int mode,
    const unsigned char *iv, size_t iv_len);
int stm32lab_ccm_sw_set_lengths(struct stm32lab_ccm_sw_context *ctx, size_t total_ad_len,
    size_t plaintext_len, size_t tag_len);
int stm32lab_ccm_sw_update_ad(struct stm32lab_ccm_sw_context *ctx,
    const unsigned char *ad, size_t ad_len);
int stm32lab_ccm_sw_update(struct stm32lab_ccm_sw_context *ctx,
    const unsigned char *input, size_t input_len,
    unsigned char *output, size_t output_size, size_t *output_len);
int stm32lab_ccm_sw_finish(struct stm32lab_ccm_sw_context *ctx,
    unsigned char *tag, size_t tag_len);

// The AAD length mbedTLS's CCM takes (mbedtls_ccm_set_lengths: below 2^16 - 2^8, so that
// its encoding is two bytes, SP 800-38C A.2.2)
#define STM32LAB_CCM_MAX_AAD (0xFF00u - 1)

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_CCM_SW_H
