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
// GPIO port/pin configuration helpers (RM0090 8).
#ifndef MICROPY_INCLUDED_STM32LAB_GPIO_H
#define MICROPY_INCLUDED_STM32LAB_GPIO_H

#include <stdbool.h>
#include <stdint.h>
#include "stm32f4xx.h"

// A port letter ('A'..) to its index and register block.
#define GPIO_INDEX(letter)  ((unsigned)((letter) - 'A'))

void gpio_clock_enable(unsigned port);
void gpio_config(unsigned port, unsigned pin, unsigned mode, unsigned pull, bool open_drain,
    unsigned speed, unsigned af);
unsigned gpio_get_mode(unsigned port, unsigned pin);
unsigned gpio_get_pull(unsigned port, unsigned pin);
bool gpio_is_open_drain(unsigned port, unsigned pin);

static inline void gpio_write(unsigned port, unsigned pin, bool high) {
    GPIO_PORT(port)->BSRR = high ? (1UL << pin) : (1UL << (pin + 16));
}

static inline bool gpio_read(unsigned port, unsigned pin) {
    return (GPIO_PORT(port)->IDR >> pin) & 1;
}

static inline bool gpio_read_output(unsigned port, unsigned pin) {
    return (GPIO_PORT(port)->ODR >> pin) & 1;
}

#endif // MICROPY_INCLUDED_STM32LAB_GPIO_H
