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
// Interrupt masking helpers for atomic sections (PRIMASK), usable from any header.
#ifndef MICROPY_INCLUDED_STM32LAB_IRQ_H
#define MICROPY_INCLUDED_STM32LAB_IRQ_H

#include <stdint.h>

// Priorities (4 bits, 0 = most urgent): the console receive must not lose bytes behind
// the tick, and neither blocks for long.
#define IRQ_PRI_CONSOLE_UART    (1)
#define IRQ_PRI_SYSTICK         (2)

static inline uint32_t disable_irq(void) {
    uint32_t state;
    __asm volatile ("mrs %0, primask\n cpsid i" : "=r" (state) : : "memory");
    return state;
}

static inline void enable_irq(uint32_t state) {
    __asm volatile ("msr primask, %0" : : "r" (state) : "memory");
}

#endif // MICROPY_INCLUDED_STM32LAB_IRQ_H
