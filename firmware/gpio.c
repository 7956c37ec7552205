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
// GPIO configuration: clock gate, mode, output type, speed, pull and alternate function.
#include "gpio.h"
#include "irq.h"

void gpio_clock_enable(unsigned port) {
    uint32_t bit = 1UL << port;     // RCC_AHB1ENR GPIOAEN..GPIOKEN are bits 0..10
    if (!(RCC->AHB1ENR & bit)) {
        uint32_t state = disable_irq();
        RCC->AHB1ENR |= bit;
        enable_irq(state);
        // RM0090 errata: allow two AHB cycles before the port is accessed
        (void)RCC->AHB1ENR;
    }
}

void gpio_config(unsigned port, unsigned pin, unsigned mode, unsigned pull, bool open_drain,
    unsigned speed, unsigned af) {
    GPIO_TypeDef *gpio = GPIO_PORT(port);
    uint32_t state;

    gpio_clock_enable(port);
    state = disable_irq();
    // Alternate function and electrical settings first, so the pin never glitches into a
    // half-configured state when the mode changes.
    gpio->AFR[pin >> 3] = (gpio->AFR[pin >> 3] & ~(0xFUL << ((pin & 7) * 4)))
        | ((uint32_t)(af & 0xF) << ((pin & 7) * 4));
    gpio->OTYPER = (gpio->OTYPER & ~(1UL << pin)) | ((uint32_t)open_drain << pin);
    gpio->OSPEEDR = (gpio->OSPEEDR & ~(3UL << (pin * 2))) | ((uint32_t)(speed & 3) << (pin * 2));
    gpio->PUPDR = (gpio->PUPDR & ~(3UL << (pin * 2))) | ((uint32_t)(pull & 3) << (pin * 2));
    gpio->MODER = (gpio->MODER & ~(3UL << (pin * 2))) | ((uint32_t)(mode & 3) << (pin * 2));
    enable_irq(state);
}

unsigned gpio_get_mode(unsigned port, unsigned pin) {
    return (GPIO_PORT(port)->MODER >> (pin * 2)) & 3;
}

unsigned gpio_get_pull(unsigned port, unsigned pin) {
    return (GPIO_PORT(port)->PUPDR >> (pin * 2)) & 3;
}

bool gpio_is_open_drain(unsigned port, unsigned pin) {
    return (GPIO_PORT(port)->OTYPER >> pin) & 1;
}
