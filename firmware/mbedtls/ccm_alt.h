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
// MBEDTLS_CCM_ALT: the CCM context of mbedTLS on the CRYP's CCM engine of the
// STM32F437/439 (ccm_alt.c), with mbedTLS's software CCM beside it (ccm_sw.c).
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_CCM_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_CCM_ALT_H

#include <stdbool.h>
#include <stdint.h>

#include "hwcrypto/cryp.h"
#include "ccm_sw.h"

typedef struct mbedtls_ccm_context {
    cryp_aes_key_t key;     // the AES key for the CRYP's one-shot CCM
    bool hw;                // key set and usable by the CRYP (AES-128/192/256)
    // mbedTLS's software CCM context (struct stm32lab_ccm_sw_context), same key
    uint64_t sw[STM32LAB_CCM_SW_CONTEXT_WORDS];
} mbedtls_ccm_context;

// One-shot CCM operations (encrypt_and_tag, auth_decrypt and their CCM* twins) since boot:
// [0] on the CRYP's CCM engine, [1] in software (CCM* without a tag, lengths the CRYP or
// mbedTLS do not take, overlapping buffers, a CRYP failure).
void stm32lab_ccm_counts(uint32_t counts[2]);

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_CCM_ALT_H
