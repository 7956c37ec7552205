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
// MicroPython HAL: console I/O on the board's console USART, delays on SysTick.
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "uart.h"

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    uintptr_t ret = 0;
    if ((poll_flags & MP_STREAM_POLL_RD) && console_uart_rx_any()) {
        ret |= MP_STREAM_POLL_RD;
    }
    if (poll_flags & MP_STREAM_POLL_WR) {
        ret |= MP_STREAM_POLL_WR;
    }
    return ret;
}

int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        int c = console_uart_rx_chr();
        if (c >= 0) {
            return c;
        }
        // Run scheduled callbacks (and raise a pending KeyboardInterrupt), then sleep
        // until the next interrupt: a received byte or the tick.
        mp_event_wait_indefinite();
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    return console_uart_tx_strn(str, len);
}

// Timed in microseconds so a delay is never shorter than asked (the millisecond count may
// tick right after the start); in steps of 1 s because ticks_us wraps after 71 minutes, each
// step timed from where the previous one should have ended, so a long delay does not gain
// the fraction of a millisecond each step overshoots.
void mp_hal_delay_ms(mp_uint_t ms) {
    uint32_t start = mp_hal_ticks_us();
    while (ms > 0) {
        mp_uint_t step = ms > 1000 ? 1000 : ms;
        uint32_t elapsed;
        while ((elapsed = mp_hal_ticks_us() - start) < step * 1000) {
            // pending events (a KeyboardInterrupt) run here; sleep until the next interrupt
            // or for what is left (rounded up: the wake-up is on a millisecond boundary)
            mp_event_wait_ms((step * 1000 - elapsed + 999) / 1000);
        }
        start += step * 1000;
        ms -= step;
    }
}

void mp_hal_delay_us(mp_uint_t us) {
    uint32_t start = mp_hal_ticks_us();
    while (mp_hal_ticks_us() - start < us) {
    }
}
