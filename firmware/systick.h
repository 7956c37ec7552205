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

void systick_init(uint32_t hclk_hz);
uint32_t systick_now_ms(void);
uint32_t systick_us(void);
uint32_t systick_cycles(void);

// Polls without a SysTick tick after which a wait gives up anyway: with interrupts masked
// the millisecond count stands still (10M polls are far beyond 10 ms at 168 MHz).
#define SYSTICK_POLLS_WITHOUT_TICK (10000000)

// Poll until (*reg & mask) == value, for at most timeout_ms; false on timeout. Time rather
// than a poll count: in an emulator a flag comes from a timer of the same clock as the
// SysTick, so a busy host cannot end the wait before the flag had its chance.
bool systick_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value, uint32_t timeout_ms);

// Sleep until an interrupt, and no longer than timeout_ms (MICROPY_INTERNAL_WFE): when
// tickless idle is on and nothing is due sooner, in one long SysTick period (systick.c).
void systick_wait_for_interrupt(uint32_t timeout_ms);
// Set by interrupt handlers that may end a wait (console byte, network), so a wait that
// starts right after them returns at once and its caller looks again.
extern volatile bool systick_idle_interrupted;
// Tickless idle on (1) or off (0), -1 leaves it; returns the previous setting.
bool systick_tickless(int enable);
// SysTick interrupts since power-up; wake-ups from systick_wait_for_interrupt's WFI.
uint32_t systick_irqs(void);
uint32_t systick_wakeups(void);

#endif // MICROPY_INCLUDED_STM32LAB_SYSTICK_H
