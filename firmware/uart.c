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
// Console USART (board-defined: USART3 on the STM324xG-EVAL, USART1 on the STM324x9I-EVAL).
//
// Receive: RXNE interrupt into a ring buffer. When the buffer is full the interrupt is
// masked and the byte stays in DR until the REPL catches up (no byte is lost to an
// overwrite; a real line would overrun, QEMU's USART holds the sender back). Ctrl-C is
// turned into a KeyboardInterrupt here when the runtime asks for it.
// Transmit: polled on TXE, with a timeout so a stalled transmitter cannot hang the board.
#include "py/mpconfig.h"
#include "py/runtime.h"
#include "shared/runtime/interrupt_char.h"
#include "stm32f4xx.h"
#include "clock.h"
#include "gpio.h"
#include "irq.h"
#include "systick.h"
#include "uart.h"

#define RX_BUF_SIZE         (512)   // a power of two
// TXE comes every 87 us at 115200 baud; give up after about 10 ms at 168 MHz.
#define TXE_POLL_LIMIT      (400000)

#if MICROPY_HW_CONSOLE_USART == 1
#define CONSOLE_USART       ((USART_TypeDef *)USART1_BASE)
#define CONSOLE_IRQn        USART1_IRQn
#define CONSOLE_IRQHandler  USART1_IRQHandler
#define CONSOLE_CLK_ENABLE() (RCC->APB2ENR |= RCC_APB2ENR_USART1EN, (void)RCC->APB2ENR)
#define CONSOLE_PCLK()      (clock_freqs.pclk2)
#elif MICROPY_HW_CONSOLE_USART == 2
#define CONSOLE_USART       ((USART_TypeDef *)USART2_BASE)
#define CONSOLE_IRQn        USART2_IRQn
#define CONSOLE_IRQHandler  USART2_IRQHandler
#define CONSOLE_CLK_ENABLE() (RCC->APB1ENR |= RCC_APB1ENR_USART2EN, (void)RCC->APB1ENR)
#define CONSOLE_PCLK()      (clock_freqs.pclk1)
#elif MICROPY_HW_CONSOLE_USART == 3
#define CONSOLE_USART       ((USART_TypeDef *)USART3_BASE)
#define CONSOLE_IRQn        USART3_IRQn
#define CONSOLE_IRQHandler  USART3_IRQHandler
#define CONSOLE_CLK_ENABLE() (RCC->APB1ENR |= RCC_APB1ENR_USART3EN, (void)RCC->APB1ENR)
#define CONSOLE_PCLK()      (clock_freqs.pclk1)
#elif MICROPY_HW_CONSOLE_USART == 6
#define CONSOLE_USART       ((USART_TypeDef *)USART6_BASE)
#define CONSOLE_IRQn        USART6_IRQn
#define CONSOLE_IRQHandler  USART6_IRQHandler
#define CONSOLE_CLK_ENABLE() (RCC->APB2ENR |= RCC_APB2ENR_USART6EN, (void)RCC->APB2ENR)
#define CONSOLE_PCLK()      (clock_freqs.pclk2)
#else
#error "MICROPY_HW_CONSOLE_USART must be 1, 2, 3 or 6"
#endif

static volatile uint8_t rx_buf[RX_BUF_SIZE];
static volatile uint32_t rx_head;   // written by the interrupt
static volatile uint32_t rx_tail;   // written by the reader
uint32_t console_uart_tx_stalls;

void console_uart_init(void) {
    USART_TypeDef *usart = CONSOLE_USART;
    uint32_t pclk;

    CONSOLE_CLK_ENABLE();
    gpio_config(GPIO_INDEX(MICROPY_HW_CONSOLE_TX_PORT), MICROPY_HW_CONSOLE_TX_PIN,
        GPIO_MODE_AF, GPIO_PULL_NONE, false, GPIO_SPEED_HIGH, MICROPY_HW_CONSOLE_AF);
    gpio_config(GPIO_INDEX(MICROPY_HW_CONSOLE_RX_PORT), MICROPY_HW_CONSOLE_RX_PIN,
        GPIO_MODE_AF, GPIO_PULL_UP, false, GPIO_SPEED_HIGH, MICROPY_HW_CONSOLE_AF);

    rx_head = rx_tail = 0;
    usart->CR1 = 0;
    // 8 data bits, no parity, 1 stop bit, 16x oversampling: BRR = PCLK / baud, rounded
    pclk = CONSOLE_PCLK();
    usart->BRR = (pclk + MICROPY_HW_CONSOLE_BAUD / 2) / MICROPY_HW_CONSOLE_BAUD;
    usart->CR2 = 0;
    usart->CR3 = 0;
    usart->CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;

    NVIC_SetPriority(CONSOLE_IRQn, IRQ_PRI_CONSOLE_UART);
    NVIC_ClearPendingIRQ(CONSOLE_IRQn);
    NVIC_EnableIRQ(CONSOLE_IRQn);
}

void CONSOLE_IRQHandler(void) {
    USART_TypeDef *usart = CONSOLE_USART;
    uint32_t sr = usart->SR;

    systick_idle_interrupted = true;
    if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
        uint32_t head = rx_head;
        int c;
        if (head - rx_tail >= RX_BUF_SIZE) {
            // Full: leave the byte in DR and stop listening until the reader drains.
            usart->CR1 &= ~USART_CR1_RXNEIE;
            return;
        }
        c = usart->DR & 0xFF;       // reading DR after SR clears RXNE and ORE
        #if MICROPY_KBD_EXCEPTION
        if (c == mp_interrupt_char) {
            mp_sched_keyboard_interrupt();
            return;
        }
        #endif
        rx_buf[head & (RX_BUF_SIZE - 1)] = c;
        rx_head = head + 1;
    }
}

bool console_uart_rx_any(void) {
    return rx_head != rx_tail;
}

int console_uart_rx_chr(void) {
    uint32_t tail = rx_tail;
    int c;
    if (rx_head == tail) {
        return -1;
    }
    c = rx_buf[tail & (RX_BUF_SIZE - 1)];
    rx_tail = tail + 1;
    if (!(CONSOLE_USART->CR1 & USART_CR1_RXNEIE)) {
        // There is room again: take the byte that waited in DR.
        uint32_t state = disable_irq();
        CONSOLE_USART->CR1 |= USART_CR1_RXNEIE;
        enable_irq(state);
    }
    return c;
}

size_t console_uart_tx_strn(const char *str, size_t len) {
    USART_TypeDef *usart = CONSOLE_USART;
    for (size_t i = 0; i < len; i++) {
        uint32_t n = 0;
        while (!(usart->SR & USART_SR_TXE)) {
            if (++n >= TXE_POLL_LIMIT) {
                console_uart_tx_stalls += len - i;
                return i;
            }
        }
        usart->DR = (uint8_t)str[i];
    }
    return len;
}
