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
// Clock tree bring-up (HSE -> PLL -> 168 MHz) and the resulting bus frequencies.
#ifndef MICROPY_INCLUDED_STM32LAB_CLOCK_H
#define MICROPY_INCLUDED_STM32LAB_CLOCK_H

#include <stdint.h>

#define CLOCK_HSI_HZ (16000000)

typedef struct _clock_freqs_t {
    uint32_t sysclk;
    uint32_t hclk;
    uint32_t pclk1;
    uint32_t pclk2;
} clock_freqs_t;

extern clock_freqs_t clock_freqs;

// Switch the system clock to the PLL from the HSE as the board configures it. Returns NULL
// on success, or a description of the step that failed; the system then runs from the
// 16 MHz HSI with all buses undivided.
const char *clock_init(void);

// Recompute clock_freqs from the RCC registers.
void clock_update(void);

#endif // MICROPY_INCLUDED_STM32LAB_CLOCK_H
