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
// mbedTLS's software GCM for gcm_alt.c: library/gcm.c compiled a second time, without
// MBEDTLS_GCM_ALT (STM32LAB_GCM_SOFTWARE tells mbedtls_config_port.h) and with its
// public names renamed, so the fallback is mbedTLS's own tested code, not a second GHASH.
#define STM32LAB_GCM_SOFTWARE (1)
// as for mbedTLS's own library sources (library/common.h), before any mbedTLS header
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#define mbedtls_gcm_context         stm32lab_gcm_sw_context
#define mbedtls_gcm_init            stm32lab_gcm_sw_init
#define mbedtls_gcm_setkey          stm32lab_gcm_sw_setkey
#define mbedtls_gcm_starts          stm32lab_gcm_sw_starts
#define mbedtls_gcm_update_ad       stm32lab_gcm_sw_update_ad
#define mbedtls_gcm_update          stm32lab_gcm_sw_update
#define mbedtls_gcm_finish          stm32lab_gcm_sw_finish
#define mbedtls_gcm_crypt_and_tag   stm32lab_gcm_sw_crypt_and_tag
#define mbedtls_gcm_auth_decrypt    stm32lab_gcm_sw_auth_decrypt
#define mbedtls_gcm_free            stm32lab_gcm_sw_free
#define mbedtls_gcm_self_test       stm32lab_gcm_sw_self_test

#include "hwcrypto/hwcrypto_config.h"

#if STM32LAB_HW_CRYPTO && STM32LAB_MBEDTLS_ALT

#include "gcm_sw.h"
#include "gcm.c"    // mbedTLS's library directory (-idirafter)

#if defined(MBEDTLS_GCM_ALT)
#error "gcm_sw.c must see mbedTLS's own GCM context (STM32LAB_GCM_SOFTWARE)"
#endif

_Static_assert(sizeof(stm32lab_gcm_sw_context) <= STM32LAB_GCM_SW_CONTEXT_WORDS * sizeof(uint64_t),
    "STM32LAB_GCM_SW_CONTEXT_WORDS too small for mbedTLS's GCM context");
_Static_assert(_Alignof(stm32lab_gcm_sw_context) <= _Alignof(uint64_t),
    "mbedTLS's GCM context needs more than 8-byte alignment");

// For gcm_alt.c's STM32F417 path, whose CRYP produces the ciphertext (CTR mode): GHASH of
// the ciphertext after starts() and update_ad(), in place of update(), whose per-block AES
// the CRYP has done. The AAD's last partial block is completed with zeros and the
// ciphertext goes through update_ad(): that is what update() folds in (GHASH over
// A || 0* || C, SP 800-38D 7.1 step 5), minus the key stream. The counts are then set as
// update() leaves them, so finish() multiplies C's pending partial block and appends
// len(A) || len(C) as usual. Once per operation, length up to 2^36 - 32 bytes as update().
int stm32lab_gcm_sw_ghash_ciphertext(stm32lab_gcm_sw_context *ctx,
    const unsigned char *input, size_t length) {
    static const unsigned char zeros[16];
    uint64_t add_len = ctx->add_len;
    if (ctx->len != 0 || (uint64_t)length > STM32LAB_GCM_MAX_PAYLOAD) {
        return MBEDTLS_ERR_GCM_BAD_INPUT;
    }
    if (length == 0) {
        return 0;       // finish() completes the AAD's partial block itself
    }
    int ret = 0;
    if (add_len % 16 != 0) {
        ret = mbedtls_gcm_update_ad(ctx, zeros, 16 - add_len % 16);
    }
    if (ret == 0) {
        ret = mbedtls_gcm_update_ad(ctx, input, length);
    }
    if (ret == 0) {
        ctx->add_len = add_len;
        ctx->len = length;
    }
    return ret;
}

#endif // STM32LAB_HW_CRYPTO && STM32LAB_MBEDTLS_ALT
