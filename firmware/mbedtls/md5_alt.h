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
// MBEDTLS_MD5_ALT: mbedTLS's MD5 context on the HASH peripheral (md5_alt.c).
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_MD5_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_MD5_ALT_H

#include "hwcrypto/hash.h"

// Like SHA-1: partial block and saved HASH registers per context, so contexts interleave.
typedef struct mbedtls_md5_context {
    hash_ctx_t hash;
} mbedtls_md5_context;

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_MD5_ALT_H
