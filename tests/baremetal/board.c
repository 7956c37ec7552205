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
// Board bring-up shared by the bare-metal test programs: what any STM32F4 firmware does.
#include "board.h"

#define TIMEOUT 100000u

volatile uint32_t ticks_ms;

void systick_handler(void) {
    ticks_ms++;
}

static bool wait_set(volatile uint32_t *reg, uint32_t mask, uint32_t value) {
    for (uint32_t i = 0; i < TIMEOUT; i++) {
        if ((*reg & mask) == value) {
            return true;
        }
    }
    return false;
}

const char *clock_init(void) {
    RCC_CR |= 1u << 16;                                     // HSEON
    if (!wait_set(&RCC_CR, 1u << 17, 1u << 17)) {
        return "HSE";
    }
    RCC_APB1ENR |= 1u << 28;                                // PWREN
    PWR_CR |= 1u << 14;                                     // VOS: scale 1
    // M=25 (1 MHz), N=336, P=2 -> 168 MHz, Q=7 -> 48 MHz, source HSE
    RCC_PLLCFGR = 25u | (336u << 6) | (0u << 16) | (1u << 22) | (7u << 24);
    RCC_CR |= 1u << 24;                                     // PLLON
    if (!wait_set(&RCC_CR, 1u << 25, 1u << 25)) {
        return "PLL";
    }
    FLASH_ACR = (1u << 8) | (1u << 9) | (1u << 10) | 5u;    // prefetch, caches, 5 WS
    if ((FLASH_ACR & 7u) != 5u) {
        return "FLASH";
    }
    // AHB /1, APB1 /4, APB2 /2, then system clock from the PLL
    RCC_CFGR = (RCC_CFGR & ~0xFCF3u) | (5u << 10) | (4u << 13) | 2u;
    if (!wait_set(&RCC_CFGR, 3u << 2, 2u << 2)) {
        return "SWS";
    }
    return 0;
}

uint32_t sysclk_hz(void) {
    uint32_t sws = (RCC_CFGR >> 2) & 3u, cfg = RCC_PLLCFGR;
    uint32_t in, m, n, p;
    if (sws == 0) {
        return 16000000u;
    }
    if (sws == 1) {
        return 25000000u;
    }
    in = (cfg & (1u << 22)) ? 25000000u : 16000000u;
    m = cfg & 0x3Fu;
    n = (cfg >> 6) & 0x1FFu;
    p = (((cfg >> 16) & 3u) + 1u) * 2u;
    return in / m * n / p;
}

void console_init(uint32_t pclk1_hz) {
    RCC_AHB1ENR |= 1u << 2;                                 // GPIOC
    RCC_APB1ENR |= 1u << 18;                                // USART3
    // PC10 TX, PC11 RX: alternate function 7
    GPIO_MODER('C') = (GPIO_MODER('C') & ~(0xFu << 20)) | (0xAu << 20);
    GPIO_AFRH('C') = (GPIO_AFRH('C') & ~(0xFFu << 8)) | (0x77u << 8);
    USART3_BRR = (pclk1_hz + 115200u / 2u) / 115200u;
    USART3_CR1 = (1u << 13) | (1u << 3) | (1u << 2);        // UE, TE, RE
}

void console_puts(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') {
            console_puts("\r");
        }
        wait_set(&USART3_SR, 1u << 7, 1u << 7);             // TXE
        USART3_DR = (uint8_t)*s;
    }
}

void console_putu(uint32_t v) {
    char buf[11];
    int i = sizeof(buf) - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    console_puts(&buf[i]);
}

void console_puthex(uint32_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    char buf[9];
    int i;
    for (i = 0; i < digits && i < 8; i++) {
        buf[i] = hex[(v >> (4 * (digits - 1 - i))) & 0xFu];
    }
    buf[i] = 0;
    console_puts(buf);
}

void console_putbytes(const uint8_t *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        console_puthex(b[i], 2);
    }
}

char console_waitc(void) {
    char c;
    while (!console_getc(&c)) {
    }
    return c;
}

// A fault reports where it happened (SCB CFSR, BFAR) instead of hanging silently
void fault_handler(void) {
    console_puts("\nFAULT CFSR=0x");
    console_puthex(REG(0xE000ED28u), 8);
    console_puts(" BFAR=0x");
    console_puthex(REG(0xE000ED38u), 8);
    console_puts("\n");
    for (;;) {
    }
}

bool console_getc(char *c) {
    if (USART3_SR & (1u << 5)) {                            // RXNE
        *c = (char)USART3_DR;
        return true;
    }
    return false;
}

void led_init(void) {
    RCC_AHB1ENR |= (1u << 2) | (1u << 6) | (1u << 8);       // GPIOC, GPIOG, GPIOI
    GPIO_MODER('C') = (GPIO_MODER('C') & ~(3u << 14)) | (1u << 14);   // PC7 LED4
}

void led4_toggle(void) {
    GPIO_BSRR('C') = (GPIO_ODR('C') & (1u << 7)) ? (1u << (7 + 16)) : (1u << 7);
}

void systick_init(uint32_t hclk_hz) {
    SYST_RVR = hclk_hz / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u;                                          // CPU clock, interrupt, enable
}
