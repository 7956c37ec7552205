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
// ST STM324x9I-EVAL (MB1046): STM32F439NI, 25 MHz HSE crystal, console on USART1 (CN8).
#define MICROPY_HW_BOARD_NAME       "STM324x9I-EVAL"
#define MICROPY_HW_MCU_NAME         "STM32F439NI"

// Same 168 MHz tree as the STM324xG-EVAL (the F439 could run 180 MHz with over-drive).
#define MICROPY_HW_CLK_HSE_HZ       (25000000)
#define MICROPY_HW_CLK_PLLM         (25)
#define MICROPY_HW_CLK_PLLN         (336)
#define MICROPY_HW_CLK_PLLP         (2)
#define MICROPY_HW_CLK_PLLQ         (7)
#define MICROPY_HW_CLK_AHB_DIV      (1)
#define MICROPY_HW_CLK_APB1_DIV     (4)
#define MICROPY_HW_CLK_APB2_DIV     (2)
#define MICROPY_HW_FLASH_LATENCY    (5)
// PWR_CR VOS: F42x/43x have two bits (15:14), 3 = scale 1
#define MICROPY_HW_PWR_VOS_SCALE1   (3)

// Console: USART1, TX PA9, RX PA10, alternate function 7.
#define MICROPY_HW_CONSOLE_USART    (1)
#define MICROPY_HW_CONSOLE_TX_PORT  ('A')
#define MICROPY_HW_CONSOLE_TX_PIN   (9)
#define MICROPY_HW_CONSOLE_RX_PORT  ('A')
#define MICROPY_HW_CONSOLE_RX_PIN   (10)
#define MICROPY_HW_CONSOLE_AF       (7)
#define MICROPY_HW_CONSOLE_BAUD     (115200)

// GPIO ports A..K exist on the 216-pin package, and the QEMU machine maps all of them
// (GPIOJ/GPIOK at 0x40022400/0x40022800); machine.Pin stops at port I.
#define MICROPY_HW_GPIO_LAST_PORT   ('I')

// LEDs LD1..LD4, active low.
#define MICROPY_HW_LED_ACTIVE_LOW   (1)
// (name, colour, port, pin) for each LED, applied to the macro X
#define MICROPY_HW_LEDS(X) \
    X("LED1", "green", 'G', 6) \
    X("LED2", "orange", 'G', 7) \
    X("LED3", "red", 'G', 10) \
    X("LED4", "blue", 'G', 12)

// Crypto blocks: the STM32F439's "v2" CRYP adds AES-GCM/CCM, its HASH SHA-224/256.
#define MICROPY_HW_CRYP_GCM_CCM     (1)
#define MICROPY_HW_HASH_SHA224_256  (1)
