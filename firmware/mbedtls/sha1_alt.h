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
// MBEDTLS_SHA1_ALT: mbedTLS's SHA-1 context on the HASH peripheral (sha1_alt.c).
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_SHA1_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_SHA1_ALT_H

#include "hwcrypto/hash.h"

// The driver context holds the partial block and the saved HASH registers, so any number
// of SHA-1 contexts can be alive and updated in any order (TLS keeps several).
typedef struct mbedtls_sha1_context {
    hash_ctx_t hash;
} mbedtls_sha1_context;

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_SHA1_ALT_H
