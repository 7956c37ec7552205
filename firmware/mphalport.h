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
// MicroPython HAL for the STM32F4 boards: ticks, delays, console.
#include "py/mpconfig.h"
#include "shared/runtime/interrupt_char.h"
#include "systick.h"

static inline mp_uint_t mp_hal_ticks_ms(void) {
    return systick_now_ms();
}

static inline mp_uint_t mp_hal_ticks_us(void) {
    return systick_us();
}

static inline mp_uint_t mp_hal_ticks_cpu(void) {
    return systick_cycles();
}

void mp_hal_delay_ms(mp_uint_t ms);
void mp_hal_delay_us(mp_uint_t us);
