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
// mbedTLS's own GCM (library/gcm.c) under stm32lab_gcm_sw_* names (gcm_sw.c), which
// MBEDTLS_GCM_ALT (gcm_alt.c) keeps for everything the CRYP's GCM engine does not take:
// streaming (starts/update_ad/update/finish), IVs other than 96 bits, other ciphers; and,
// on the STM32F417, whose CRYP has no GCM engine, the one-shot calls' tag (E(K, J0) and
// GHASH) around the CRYP's AES-CTR run. Its block cipher is mbedTLS's AES, so still the
// CRYP through MBEDTLS_AES_ALT.
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_GCM_SW_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_GCM_SW_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/cipher.h"

// Room for the software context inside mbedtls_gcm_context (392 bytes with this port's
// configuration; gcm_sw.c checks that it fits).
#define STM32LAB_GCM_SW_CONTEXT_WORDS (50)

struct stm32lab_gcm_sw_context;

void stm32lab_gcm_sw_init(struct stm32lab_gcm_sw_context *ctx);
int stm32lab_gcm_sw_setkey(struct stm32lab_gcm_sw_context *ctx, mbedtls_cipher_id_t cipher,
    const unsigned char *key, unsigned int keybits);
int stm32lab_gcm_sw_starts(struct stm32lab_gcm_sw_context *ctx, int mode,
    const unsigned char *iv, size_t iv_len);
int stm32lab_gcm_sw_update_ad(struct stm32lab_gcm_sw_context *ctx,
    const unsigned char *add, size_t add_len);
int stm32lab_gcm_sw_update(struct stm32lab_gcm_sw_context *ctx,
    const unsigned char *input, size_t input_length,
    unsigned char *output, size_t output_size, size_t *output_length);
int stm32lab_gcm_sw_finish(struct stm32lab_gcm_sw_context *ctx,
    unsigned char *output, size_t output_size, size_t *output_length,
    unsigned char *tag, size_t tag_len);
int stm32lab_gcm_sw_crypt_and_tag(struct stm32lab_gcm_sw_context *ctx, int mode,
    size_t length, const unsigned char *iv, size_t iv_len,
    const unsigned char *add, size_t add_len, const unsigned char *input,
    unsigned char *output, size_t tag_len, unsigned char *tag);
void stm32lab_gcm_sw_free(struct stm32lab_gcm_sw_context *ctx);
// GCM's payload limit in bytes, 2^39 - 256 bits (SP 800-38D 5.2.1.1), as
// mbedtls_gcm_update checks it
#define STM32LAB_GCM_MAX_PAYLOAD (0xFFFFFFFE0ull)

// After starts() and update_ad(), instead of update(): fold the ciphertext (length bytes,
// which the caller en/decrypts itself) into GHASH; then finish() gives the tag.
int stm32lab_gcm_sw_ghash_ciphertext(struct stm32lab_gcm_sw_context *ctx,
    const unsigned char *input, size_t length);

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_GCM_SW_H
