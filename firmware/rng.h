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
// The true random number generator (RM0090 24).
#ifndef MICROPY_INCLUDED_STM32LAB_RNG_H
#define MICROPY_INCLUDED_STM32LAB_RNG_H

#include <stdint.h>

typedef enum {
    RNG_OK = 0,
    RNG_ERR_TIMEOUT,    // DRDY did not come
    RNG_ERR_SEED,       // SECS/SEIS: bad seed sequence from the noise source
    RNG_ERR_CLOCK,      // CECS/CEIS: RNG clock too slow (PLL48CLK < HCLK/16)
    RNG_ERR_REPEAT,     // two consecutive words equal (continuous test)
} rng_status_t;

// One 32-bit random word; on error *word is untouched and the generator is restarted
// so the next call can succeed.
rng_status_t rng_get_word(uint32_t *word);
const char *rng_status_str(rng_status_t status);
// For seeding the random module: a word, or a tick-based fallback if the RNG fails.
uint32_t rng_seed_word(void);

#endif // MICROPY_INCLUDED_STM32LAB_RNG_H
