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
// What this chip's CRYP and HASH can do, from the board configuration
// (boards/<board>/mpconfigboard.h): STM32F415/417 have the "v1" blocks (AES, DES, TDES;
// SHA-1, MD5, HMAC), STM32F437/439 the "v2" blocks that add AES-GCM/CCM and SHA-224/256.
#ifndef MICROPY_INCLUDED_STM32LAB_HWCRYPTO_CONFIG_H
#define MICROPY_INCLUDED_STM32LAB_HWCRYPTO_CONFIG_H

#include "mpconfigboard.h"

#ifndef MICROPY_HW_CRYP_GCM_CCM
#define MICROPY_HW_CRYP_GCM_CCM (0)
#endif
#ifndef MICROPY_HW_HASH_SHA224_256
#define MICROPY_HW_HASH_SHA224_256 (0)
#endif

#endif // MICROPY_INCLUDED_STM32LAB_HWCRYPTO_CONFIG_H
