/*
 * This file is part of the STM32F4 SSL/TLS emulation lab's bare-metal test programs.
 *
 * The MIT License (MIT)
 *
 * Copyright (c) 2026 The STM32F4 SSL/TLS lab authors
 *
 * SPDX-License-Identifier: MIT
 * The licence text is in LICENSE at the top of the repository.
 */
// Bring the clocks up to 168 MHz, greet on the console, echo input, blink LED4 every 200 ms.
#include "board.h"

int main(void) {
    const char *failed = clock_init();
    uint32_t hz = sysclk_hz();
    uint32_t next_blink = 200;

    console_init(failed ? 16000000u : hz / 4u);
    console_puts("hello from stm324xg-eval\n");
    if (failed) {
        console_puts("clock: timeout waiting for ");
        console_puts(failed);
        console_puts("\n");
    } else {
        console_puts("clock: SYSCLK ");
        console_putu(hz);
        console_puts(" Hz from PLL (HSE 25 MHz)\n");
    }
    led_init();
    systick_init(failed ? 16000000u : hz);
    for (;;) {
        char c;
        if (console_getc(&c)) {
            char s[2] = {c, 0};
            console_puts(s);
        }
        if ((int32_t)(ticks_ms - next_blink) >= 0) {
            next_blink += 200;
            led4_toggle();
        }
    }
}
