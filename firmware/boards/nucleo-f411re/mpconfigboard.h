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
// ST Nucleo-F411RE (MB1136): STM32F411RE, 8 MHz HSE from the ST-LINK's MCO (bypass),
// console on USART2 (the ST-LINK virtual COM port). No Ethernet MAC, no CRYP/HASH, no RNG:
// the lab's W5100 shield carries the network (issue 11, not in this firmware yet).
#define MICROPY_HW_BOARD_NAME       "NUCLEO-F411RE"
#define MICROPY_HW_MCU_NAME         "STM32F411RE"

// Clock tree: HSE 8 MHz (bypass) / M 8 * N 384 / P 4 = 96 MHz SYSCLK, / Q 8 = 48 MHz.
#define MICROPY_HW_CLK_HSE_HZ       (8000000)
#define MICROPY_HW_CLK_HSE_BYPASS   (1)
#define MICROPY_HW_CLK_PLLM         (8)
#define MICROPY_HW_CLK_PLLN         (384)
#define MICROPY_HW_CLK_PLLP         (4)
#define MICROPY_HW_CLK_PLLQ         (8)
#define MICROPY_HW_CLK_AHB_DIV      (1)
#define MICROPY_HW_CLK_APB1_DIV     (2)     // APB1 at most 50 MHz
#define MICROPY_HW_CLK_APB2_DIV     (1)
#define MICROPY_HW_FLASH_LATENCY    (3)     // wait states for 96 MHz at 2.7..3.6 V (RM0383 3.4)
// PWR_CR VOS: the F411 has two bits (15:14), 3 = scale 1
#define MICROPY_HW_PWR_VOS_SCALE1   (3)

// Console: USART2, TX PA2, RX PA3, alternate function 7 (the ST-LINK virtual COM port).
#define MICROPY_HW_CONSOLE_USART    (2)
#define MICROPY_HW_CONSOLE_TX_PORT  ('A')
#define MICROPY_HW_CONSOLE_TX_PIN   (2)
#define MICROPY_HW_CONSOLE_RX_PORT  ('A')
#define MICROPY_HW_CONSOLE_RX_PIN   (3)
#define MICROPY_HW_CONSOLE_AF       (7)
#define MICROPY_HW_CONSOLE_BAUD     (115200)

// The config sector: sector 7 (mcu/stm32f411xe.ld)
#define MICROPY_HW_CONFIG_ADDR      (0x08060000)

// GPIO ports A..E and H exist on the F411 (F and G do not); machine.Pin stops at port E.
#define MICROPY_HW_GPIO_LAST_PORT   ('E')

// LD2 (green) on PA5 (Arduino D13), active high.
#define MICROPY_HW_LED_ACTIVE_LOW   (0)
#define MICROPY_HW_LEDS(X) \
    X("LD2", "green", 'A', 5)

// SPI1 on the Arduino header (machine.SPI(1)), the W5100 shield's bus: SCK PA5 (D13, shared
// with LD2, as on the board), MISO PA6 (D12), MOSI PA7 (D11); its chip select is D10 (PB6).
#define MICROPY_HW_SPI1_SCK_PORT    ('A')
#define MICROPY_HW_SPI1_SCK_PIN     (5)
#define MICROPY_HW_SPI1_MISO_PORT   ('A')
#define MICROPY_HW_SPI1_MISO_PIN    (6)
#define MICROPY_HW_SPI1_MOSI_PORT   ('A')
#define MICROPY_HW_SPI1_MOSI_PIN    (7)

// Flash: 384 KiB for code (the last sector is the config sector) holds MicroPython, mbedTLS
// and the drivers once the native code emitters (@micropython.native/viper/asm_thumb) are
// left out.
#define MICROPY_EMIT_THUMB          (0)
#define MICROPY_EMIT_INLINE_THUMB   (0)

// No RNG on the F411: random is seeded without it, and os.urandom is not there. (What
// else the chip lacks, Ethernet and CRYP/HASH, is in mpconfigboard.mk.)
#define MICROPY_HW_HAS_RNG          (0)
