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
// mbedTLS's software CCM for ccm_alt.c: library/ccm.c compiled a second time, without
// MBEDTLS_CCM_ALT (STM32LAB_CCM_SOFTWARE tells mbedtls_config_port.h) and with its
// public names renamed, so the fallback is mbedTLS's own tested code, not a second
// CBC-MAC. Only where ccm_alt.c is built: the STM32F437/439 hardware build.
#define STM32LAB_CCM_SOFTWARE (1)
// as for mbedTLS's own library sources (library/common.h), before any mbedTLS header
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#define mbedtls_ccm_context                 stm32lab_ccm_sw_context
#define mbedtls_ccm_init                    stm32lab_ccm_sw_init
#define mbedtls_ccm_setkey                  stm32lab_ccm_sw_setkey
#define mbedtls_ccm_free                    stm32lab_ccm_sw_free
#define mbedtls_ccm_encrypt_and_tag         stm32lab_ccm_sw_encrypt_and_tag
#define mbedtls_ccm_star_encrypt_and_tag    stm32lab_ccm_sw_star_encrypt_and_tag
#define mbedtls_ccm_auth_decrypt            stm32lab_ccm_sw_auth_decrypt
#define mbedtls_ccm_star_auth_decrypt       stm32lab_ccm_sw_star_auth_decrypt
#define mbedtls_ccm_starts                  stm32lab_ccm_sw_starts
#define mbedtls_ccm_set_lengths             stm32lab_ccm_sw_set_lengths
#define mbedtls_ccm_update_ad               stm32lab_ccm_sw_update_ad
#define mbedtls_ccm_update                  stm32lab_ccm_sw_update
#define mbedtls_ccm_finish                  stm32lab_ccm_sw_finish
#define mbedtls_ccm_self_test               stm32lab_ccm_sw_self_test

#include "hwcrypto/hwcrypto_config.h"

#if STM32LAB_HW_CRYPTO && STM32LAB_MBEDTLS_ALT && MICROPY_HW_CRYP_GCM_CCM

#include "ccm_sw.h"
#include "ccm.c"    // mbedTLS's library directory (-idirafter)

#if defined(MBEDTLS_CCM_ALT)
#error "ccm_sw.c must see mbedTLS's own CCM context (STM32LAB_CCM_SOFTWARE)"
#endif

_Static_assert(sizeof(stm32lab_ccm_sw_context) <= STM32LAB_CCM_SW_CONTEXT_WORDS * sizeof(uint64_t),
    "STM32LAB_CCM_SW_CONTEXT_WORDS too small for mbedTLS's CCM context");
_Static_assert(_Alignof(stm32lab_ccm_sw_context) <= _Alignof(uint64_t),
    "mbedTLS's CCM context needs more than 8-byte alignment");

#endif // STM32LAB_HW_CRYPTO && STM32LAB_MBEDTLS_ALT && MICROPY_HW_CRYP_GCM_CCM
