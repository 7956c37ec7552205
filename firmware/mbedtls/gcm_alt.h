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
// MBEDTLS_GCM_ALT: the GCM context of mbedTLS on the CRYP (gcm_alt.c: the GCM engine of
// the STM32F437/439, AES-CTR on the STM32F415/417), with mbedTLS's software GCM beside it
// (gcm_sw.c).
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_GCM_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_GCM_ALT_H

#include <stdbool.h>
#include <stdint.h>

#include "hwcrypto/cryp.h"
#include "gcm_sw.h"

typedef struct mbedtls_gcm_context {
    cryp_aes_key_t key;     // the AES key for the CRYP's one-shot GCM (F439) or CTR (F417)
    bool hw;                // key set and usable by the CRYP (AES-128/192/256)
    // mbedTLS's software GCM context (struct stm32lab_gcm_sw_context), same key
    uint64_t sw[STM32LAB_GCM_SW_CONTEXT_WORDS];
} mbedtls_gcm_context;

// One-shot GCM operations (crypt_and_tag, auth_decrypt) since boot: [0] on the CRYP (its
// GCM engine on the F439; on the F417 its AES-CTR with GHASH in software), [1] in software
// (other IV lengths, overlapping buffers, a CRYP failure).
void stm32lab_gcm_counts(uint32_t counts[2]);

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_GCM_ALT_H
