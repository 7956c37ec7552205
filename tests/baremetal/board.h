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
// Register access and helpers for the STM324xG-EVAL bare-metal test programs (RM0090).
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define REG16(addr) (*(volatile uint16_t *)(addr))
#define REG8(addr) (*(volatile uint8_t *)(addr))
// Cortex-M bit-band alias of a peripheral register bit (ARMv7-M B3.2.5)
#define BITBAND(addr, bit) REG(0x42000000u + ((addr) - 0x40000000u) * 32u + (bit) * 4u)

#define RCC_BASE      0x40023800u
#define RCC_CR        REG(RCC_BASE + 0x00)
#define RCC_PLLCFGR   REG(RCC_BASE + 0x04)
#define RCC_CFGR      REG(RCC_BASE + 0x08)
#define RCC_AHB1ENR   REG(RCC_BASE + 0x30)
#define RCC_APB1ENR   REG(RCC_BASE + 0x40)
#define FLASH_ACR     REG(0x40023C00u)
#define PWR_CR        REG(0x40007000u)

#define GPIO(port)    (0x40020000u + 0x400u * (uint32_t)((port) - 'A'))
#define GPIO_MODER(p) REG(GPIO(p) + 0x00)
#define GPIO_ODR(p)   REG(GPIO(p) + 0x14)
#define GPIO_BSRR(p)  REG(GPIO(p) + 0x18)
#define GPIO_AFRH(p)  REG(GPIO(p) + 0x24)

#define USART3_BASE   0x40004800u
#define USART3_SR     REG(USART3_BASE + 0x00)
#define USART3_DR     REG(USART3_BASE + 0x04)
#define USART3_BRR    REG(USART3_BASE + 0x08)
#define USART3_CR1    REG(USART3_BASE + 0x0C)

#define SYST_CSR      REG(0xE000E010u)
#define SYST_RVR      REG(0xE000E014u)
#define SYST_CVR      REG(0xE000E018u)

extern volatile uint32_t ticks_ms;

// Clock tree to 168 MHz from the 25 MHz HSE; returns the name of the step that timed out,
// or NULL.
const char *clock_init(void);
uint32_t sysclk_hz(void);
void console_init(uint32_t pclk1_hz);
void console_puts(const char *s);
void console_putu(uint32_t v);
void console_puthex(uint32_t v, int digits);
void console_putbytes(const uint8_t *b, uint32_t n);      // lower-case hex
char console_waitc(void);                                // blocks for one character
bool console_getc(char *c);
void led_init(void);
void led4_toggle(void);
void systick_init(uint32_t hclk_hz);
