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
// ST STM324xG-EVAL (MB786): STM32F417IG, 25 MHz HSE crystal, console on USART3 (CN16).
#define MICROPY_HW_BOARD_NAME       "STM324xG-EVAL"
#define MICROPY_HW_MCU_NAME         "STM32F417IG"

// Clock tree: HSE 25 MHz / M 25 * N 336 / P 2 = 168 MHz SYSCLK, / Q 7 = 48 MHz (RNG, USB).
#define MICROPY_HW_CLK_HSE_HZ       (25000000)
#define MICROPY_HW_CLK_PLLM         (25)
#define MICROPY_HW_CLK_PLLN         (336)
#define MICROPY_HW_CLK_PLLP         (2)
#define MICROPY_HW_CLK_PLLQ         (7)
#define MICROPY_HW_CLK_AHB_DIV      (1)
#define MICROPY_HW_CLK_APB1_DIV     (4)
#define MICROPY_HW_CLK_APB2_DIV     (2)
#define MICROPY_HW_FLASH_LATENCY    (5)     // wait states for 168 MHz at 2.7..3.6 V
// PWR_CR VOS: F405/407/415/417 have one bit (14), 1 = scale 1
#define MICROPY_HW_PWR_VOS_SCALE1   (1)

// Console: USART3, TX PC10, RX PC11, alternate function 7.
#define MICROPY_HW_CONSOLE_USART    (3)
#define MICROPY_HW_CONSOLE_TX_PORT  ('C')
#define MICROPY_HW_CONSOLE_TX_PIN   (10)
#define MICROPY_HW_CONSOLE_RX_PORT  ('C')
#define MICROPY_HW_CONSOLE_RX_PIN   (11)
#define MICROPY_HW_CONSOLE_AF       (7)
#define MICROPY_HW_CONSOLE_BAUD     (115200)

// GPIO ports A..I exist on the 176-pin package.
#define MICROPY_HW_GPIO_LAST_PORT   ('I')

// LEDs LD1..LD4, active high.
#define MICROPY_HW_LED_ACTIVE_LOW   (0)
// (name, colour, port, pin) for each LED, applied to the macro X
#define MICROPY_HW_LEDS(X) \
    X("LED1", "green", 'G', 6) \
    X("LED2", "orange", 'G', 8) \
    X("LED3", "red", 'I', 9) \
    X("LED4", "blue", 'C', 7)

// Crypto blocks: the STM32F417's "v1" CRYP (AES, DES, TDES) and HASH (SHA-1, MD5, HMAC).
#define MICROPY_HW_CRYP_GCM_CCM     (0)
#define MICROPY_HW_HASH_SHA224_256  (0)
