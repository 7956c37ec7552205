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
// The console USART: interrupt-driven receive into a ring buffer, polled transmit.
#ifndef MICROPY_INCLUDED_STM32LAB_UART_H
#define MICROPY_INCLUDED_STM32LAB_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void console_uart_init(void);
// Next received byte, or -1 if none is waiting.
int console_uart_rx_chr(void);
bool console_uart_rx_any(void);
// Send len bytes, waiting for TXE with a timeout per byte; returns the bytes sent (fewer
// when the transmitter stalls).
size_t console_uart_tx_strn(const char *str, size_t len);
// Bytes dropped since boot because the transmitter stalled.
extern uint32_t console_uart_tx_stalls;

#endif // MICROPY_INCLUDED_STM32LAB_UART_H
