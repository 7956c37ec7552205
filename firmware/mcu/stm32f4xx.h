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
/*
 * This file is part of the STM32F4 SSL/TLS emulation lab firmware.
 *
 * The registers of the STM32F4 blocks this firmware drives (RM0090 rev 19), and the device
 * definitions CMSIS's core_cm4.h needs. Only what the firmware uses is here; names follow
 * the reference manual so they can be checked against it.
 */
#ifndef MICROPY_INCLUDED_STM32LAB_STM32F4XX_H
#define MICROPY_INCLUDED_STM32LAB_STM32F4XX_H

#include <stdint.h>

// Interrupt numbers (RM0090 table 61/62); negative ones are Cortex-M4 exceptions.
typedef enum {
    NonMaskableInt_IRQn = -14,
    HardFault_IRQn = -13,
    MemoryManagement_IRQn = -12,
    BusFault_IRQn = -11,
    UsageFault_IRQn = -10,
    SVCall_IRQn = -5,
    DebugMonitor_IRQn = -4,
    PendSV_IRQn = -2,
    SysTick_IRQn = -1,
    USART1_IRQn = 37,
    USART2_IRQn = 38,
    USART3_IRQn = 39,
    ETH_IRQn = 61,
    USART6_IRQn = 71,
    HASH_RNG_IRQn = 80,
} IRQn_Type;

// The vector table covers the STM32F42x/43x (91 interrupts); the F405/407/415/417 has 82.
#define STM32F4_NUM_IRQS (91)

#define __CM4_REV                 (0x0001U)
#define __MPU_PRESENT             (1)
#define __NVIC_PRIO_BITS          (4)
#define __Vendor_SysTickConfig    (0)
#define __FPU_PRESENT             (1)

#include "core_cm4.h"

#define STM32_REG volatile uint32_t

typedef struct {
    STM32_REG CR;           // 0x00
    STM32_REG PLLCFGR;      // 0x04
    STM32_REG CFGR;         // 0x08
    STM32_REG CIR;          // 0x0C
    STM32_REG AHB1RSTR;     // 0x10
    STM32_REG AHB2RSTR;     // 0x14
    STM32_REG AHB3RSTR;     // 0x18
    uint32_t reserved0;     // 0x1C
    STM32_REG APB1RSTR;     // 0x20
    STM32_REG APB2RSTR;     // 0x24
    uint32_t reserved1[2];  // 0x28
    STM32_REG AHB1ENR;      // 0x30
    STM32_REG AHB2ENR;      // 0x34
    STM32_REG AHB3ENR;      // 0x38
    uint32_t reserved2;     // 0x3C
    STM32_REG APB1ENR;      // 0x40
    STM32_REG APB2ENR;      // 0x44
    uint32_t reserved3[2];  // 0x48
    STM32_REG AHB1LPENR;    // 0x50
    STM32_REG AHB2LPENR;    // 0x54
    STM32_REG AHB3LPENR;    // 0x58
    uint32_t reserved4;     // 0x5C
    STM32_REG APB1LPENR;    // 0x60
    STM32_REG APB2LPENR;    // 0x64
    uint32_t reserved5[2];  // 0x68
    STM32_REG BDCR;         // 0x70
    STM32_REG CSR;          // 0x74
} RCC_TypeDef;

typedef struct {
    STM32_REG ACR;
    STM32_REG KEYR;
    STM32_REG OPTKEYR;
    STM32_REG SR;
    STM32_REG CR;
    STM32_REG OPTCR;
} FLASH_TypeDef;

typedef struct {
    STM32_REG CR;
    STM32_REG CSR;
} PWR_TypeDef;

typedef struct {
    STM32_REG MODER;
    STM32_REG OTYPER;
    STM32_REG OSPEEDR;
    STM32_REG PUPDR;
    STM32_REG IDR;
    STM32_REG ODR;
    STM32_REG BSRR;
    STM32_REG LCKR;
    STM32_REG AFR[2];
} GPIO_TypeDef;

typedef struct {
    STM32_REG SR;
    STM32_REG DR;
    STM32_REG BRR;
    STM32_REG CR1;
    STM32_REG CR2;
    STM32_REG CR3;
    STM32_REG GTPR;
} USART_TypeDef;

typedef struct {
    STM32_REG CR;
    STM32_REG SR;
    STM32_REG DR;
} RNG_TypeDef;

// SPI (RM0090 28.5, RM0383 20.5); I2S registers not used
typedef struct {
    STM32_REG CR1;
    STM32_REG CR2;
    STM32_REG SR;
    STM32_REG DR;
    STM32_REG CRCPR;
    STM32_REG RXCRCR;
    STM32_REG TXCRCR;
} SPI_TypeDef;

#define SPI_CR1_CPHA            (1UL << 0)
#define SPI_CR1_CPOL            (1UL << 1)
#define SPI_CR1_MSTR            (1UL << 2)
#define SPI_CR1_BR_Pos          (3)
#define SPI_CR1_SPE             (1UL << 6)
#define SPI_CR1_LSBFIRST        (1UL << 7)
#define SPI_CR1_SSI             (1UL << 8)
#define SPI_CR1_SSM             (1UL << 9)
#define SPI_SR_RXNE             (1UL << 0)
#define SPI_SR_TXE              (1UL << 1)
#define SPI_SR_OVR              (1UL << 6)
#define SPI_SR_BSY              (1UL << 7)

#define USART2_BASE     (0x40004400UL)
#define USART3_BASE     (0x40004800UL)
#define PWR_BASE        (0x40007000UL)
#define USART1_BASE     (0x40011000UL)
#define SPI1_BASE       (0x40013000UL)
#define USART6_BASE     (0x40011400UL)
#define GPIOA_BASE      (0x40020000UL)
#define GPIO_STRIDE     (0x400UL)
#define RCC_BASE        (0x40023800UL)
#define FLASH_R_BASE    (0x40023C00UL)
#define RNG_BASE        (0x50060800UL)
#define UID_BASE        (0x1FFF7A10UL)

#define RCC             ((RCC_TypeDef *)RCC_BASE)
#define FLASH           ((FLASH_TypeDef *)FLASH_R_BASE)
#define PWR             ((PWR_TypeDef *)PWR_BASE)
#define RNG             ((RNG_TypeDef *)RNG_BASE)
#define GPIO_PORT(n)    ((GPIO_TypeDef *)(GPIOA_BASE + GPIO_STRIDE * (n)))

// RCC_CR
#define RCC_CR_HSION            (1UL << 0)
#define RCC_CR_HSIRDY           (1UL << 1)
#define RCC_CR_HSEON            (1UL << 16)
#define RCC_CR_HSERDY           (1UL << 17)
#define RCC_CR_HSEBYP           (1UL << 18)
#define RCC_CR_PLLON            (1UL << 24)
#define RCC_CR_PLLRDY           (1UL << 25)
// RCC_PLLCFGR
#define RCC_PLLCFGR_PLLM_Pos    (0)
#define RCC_PLLCFGR_PLLN_Pos    (6)
#define RCC_PLLCFGR_PLLP_Pos    (16)
#define RCC_PLLCFGR_PLLSRC_HSE  (1UL << 22)
#define RCC_PLLCFGR_PLLQ_Pos    (24)
#define RCC_PLLCFGR_RESERVED    (0xF0BC8000UL)  // bits to keep at their reset value
// RCC_CFGR
#define RCC_CFGR_SW_Msk         (3UL << 0)
#define RCC_CFGR_SW_HSI         (0UL << 0)
#define RCC_CFGR_SW_PLL         (2UL << 0)
#define RCC_CFGR_SWS_Pos        (2)
#define RCC_CFGR_SWS_Msk        (3UL << 2)
#define RCC_CFGR_SWS_HSI        (0UL << 2)
#define RCC_CFGR_SWS_HSE        (1UL << 2)
#define RCC_CFGR_SWS_PLL        (2UL << 2)
#define RCC_CFGR_HPRE_Pos       (4)
#define RCC_CFGR_HPRE_Msk       (0xFUL << 4)
#define RCC_CFGR_PPRE1_Pos      (10)
#define RCC_CFGR_PPRE1_Msk      (7UL << 10)
#define RCC_CFGR_PPRE2_Pos      (13)
#define RCC_CFGR_PPRE2_Msk      (7UL << 13)
// RCC enable bits
#define RCC_AHB2ENR_RNGEN       (1UL << 6)
#define RCC_APB1ENR_USART2EN    (1UL << 17)
#define RCC_APB1ENR_USART3EN    (1UL << 18)
#define RCC_APB1ENR_PWREN       (1UL << 28)
#define RCC_APB2ENR_USART1EN    (1UL << 4)
#define RCC_APB2ENR_USART6EN    (1UL << 5)
#define RCC_APB2ENR_SPI1EN      (1UL << 12)
// RCC_CSR reset flags
#define RCC_CSR_RMVF            (1UL << 24)
#define RCC_CSR_BORRSTF         (1UL << 25)
#define RCC_CSR_PINRSTF         (1UL << 26)
#define RCC_CSR_PORRSTF         (1UL << 27)
#define RCC_CSR_SFTRSTF         (1UL << 28)
#define RCC_CSR_IWDGRSTF        (1UL << 29)
#define RCC_CSR_WWDGRSTF        (1UL << 30)

// FLASH_ACR
#define FLASH_ACR_LATENCY_Msk   (0xFUL << 0)
#define FLASH_ACR_PRFTEN        (1UL << 8)
#define FLASH_ACR_ICEN          (1UL << 9)
#define FLASH_ACR_DCEN          (1UL << 10)
#define FLASH_ACR_ICRST         (1UL << 11)
#define FLASH_ACR_DCRST         (1UL << 12)

// PWR
#define PWR_CR_VOS_Pos          (14)
#define PWR_CSR_VOSRDY          (1UL << 14)

// GPIO modes
#define GPIO_MODE_INPUT         (0)
#define GPIO_MODE_OUTPUT        (1)
#define GPIO_MODE_AF            (2)
#define GPIO_MODE_ANALOG        (3)
#define GPIO_PULL_NONE          (0)
#define GPIO_PULL_UP            (1)
#define GPIO_PULL_DOWN          (2)
#define GPIO_SPEED_LOW          (0)
#define GPIO_SPEED_HIGH         (2)

// USART
#define USART_SR_ORE            (1UL << 3)
#define USART_SR_RXNE           (1UL << 5)
#define USART_SR_TC             (1UL << 6)
#define USART_SR_TXE            (1UL << 7)
#define USART_CR1_RE            (1UL << 2)
#define USART_CR1_TE            (1UL << 3)
#define USART_CR1_RXNEIE        (1UL << 5)
#define USART_CR1_UE            (1UL << 13)

// RNG
#define RNG_CR_RNGEN            (1UL << 2)
#define RNG_CR_IE               (1UL << 3)
#define RNG_SR_DRDY             (1UL << 0)
#define RNG_SR_CECS             (1UL << 1)
#define RNG_SR_SECS             (1UL << 2)
#define RNG_SR_CEIS             (1UL << 5)
#define RNG_SR_SEIS             (1UL << 6)

#endif // MICROPY_INCLUDED_STM32LAB_STM32F4XX_H
