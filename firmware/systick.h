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
// The 1 ms system tick (SysTick from HCLK): time base for ticks_ms/us and timeouts.
#ifndef MICROPY_INCLUDED_STM32LAB_SYSTICK_H
#define MICROPY_INCLUDED_STM32LAB_SYSTICK_H

#include <stdbool.h>
#include <stdint.h>

extern volatile uint32_t systick_ms;

void systick_init(uint32_t hclk_hz);
uint32_t systick_us(void);
uint32_t systick_cycles(void);

// Polls without a SysTick tick after which a wait gives up anyway: with interrupts masked
// the millisecond count stands still (10M polls are far beyond 10 ms at 168 MHz).
#define SYSTICK_POLLS_WITHOUT_TICK (10000000)

// Poll until (*reg & mask) == value, for at most timeout_ms; false on timeout. Time rather
// than a poll count: in an emulator a flag comes from a timer of the same clock as the
// SysTick, so a busy host cannot end the wait before the flag had its chance.
bool systick_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value, uint32_t timeout_ms);

#endif // MICROPY_INCLUDED_STM32LAB_SYSTICK_H
