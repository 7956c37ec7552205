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
// MBEDTLS_SHA256_ALT: mbedTLS's SHA-224/SHA-256 context on the HASH peripheral of the
// STM32F437/439 (sha256_alt.c). The STM32F415/417 HASH has no SHA-2: software there.
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_SHA256_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_SHA256_ALT_H

#include "hwcrypto/hash.h"

// One context type for both, as in mbedTLS (is224 picks SHA-224 at starts()).
typedef struct mbedtls_sha256_context {
    hash_ctx_t hash;
} mbedtls_sha256_context;

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_SHA256_ALT_H
