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
// MBEDTLS_DES_ALT: mbedTLS's DES and 3DES contexts on the CRYP peripheral (des_alt.c).
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_DES_ALT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_DES_ALT_H

#include <stdbool.h>
#include "hwcrypto/cryp.h"

// mbedTLS fixes the direction when the key is set (setkey_enc/setkey_dec): ECB calls have
// no direction argument.
typedef struct mbedtls_des_context {
    cryp_des_key_t key;
    bool decrypt;
} mbedtls_des_context;

typedef struct mbedtls_des3_context {
    cryp_des_key_t key;
    bool decrypt;
} mbedtls_des3_context;

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_DES_ALT_H
