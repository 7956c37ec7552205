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
// The board's user LEDs.
#ifndef MICROPY_INCLUDED_STM32LAB_MACHINE_LED_H
#define MICROPY_INCLUDED_STM32LAB_MACHINE_LED_H

#include <stdbool.h>

// Configure every LED pin as an output, LEDs off.
void machine_led_init(void);
// LED n (1-based) on or off; out-of-range numbers are ignored.
void machine_led_set(unsigned n, bool on);

#endif // MICROPY_INCLUDED_STM32LAB_MACHINE_LED_H
