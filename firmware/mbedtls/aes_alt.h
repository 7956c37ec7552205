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
// MBEDTLS_AES_ALT: the AES context of mbedTLS on the CRYP peripheral (aes_alt.c).
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_AES_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_AES_ALT_H

#include "hwcrypto/cryp.h"

// The key as the CRYP key registers take it; the CRYP derives the decryption key itself
// (key preparation), so one context serves both directions.
typedef struct mbedtls_aes_context {
    cryp_aes_key_t key;
} mbedtls_aes_context;

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_AES_ALT_H
