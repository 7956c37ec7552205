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
// Clock tree bring-up as STM32F4 firmware does it (RM0090 6 and 7): HSE on, regulator
// scale 1, PLL configured and locked, flash wait states raised, bus prescalers set, then
// the system clock switched to the PLL. Every wait has a timeout; on failure the system
// stays on (or goes back to) the 16 MHz HSI and the caller reports it.
#include <stddef.h>
#include "py/mpconfig.h"
#include "stm32f4xx.h"
#include "clock.h"
#include "systick.h"

// Timeouts as ST's HAL uses them (HSE_STARTUP_TIMEOUT, PLL_TIMEOUT_VALUE, ...)
#define HSE_TIMEOUT_MS      (100)
#define PLL_TIMEOUT_MS      (2)
#define VOS_TIMEOUT_MS      (2)
#define SWITCH_TIMEOUT_MS   (50)

clock_freqs_t clock_freqs = { CLOCK_HSI_HZ, CLOCK_HSI_HZ, CLOCK_HSI_HZ, CLOCK_HSI_HZ };

static uint32_t ahb_div_bits(uint32_t div) {
    switch (div) {
        case 2:
            return 8;
        case 4:
            return 9;
        case 8:
            return 10;
        case 16:
            return 11;
        default:
            return 0;
    }
}

static uint32_t apb_div_bits(uint32_t div) {
    switch (div) {
        case 2:
            return 4;
        case 4:
            return 5;
        case 8:
            return 6;
        case 16:
            return 7;
        default:
            return 0;
    }
}

// Back to the HSI with undivided buses; the PLL and HSE are switched off.
static void clock_fall_back_to_hsi(void) {
    RCC->CR |= RCC_CR_HSION;
    systick_wait_bits(&RCC->CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY, PLL_TIMEOUT_MS);
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_HSI;
    if (systick_wait_bits(&RCC->CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_HSI, SWITCH_TIMEOUT_MS)) {
        RCC->CFGR &= ~(RCC_CFGR_HPRE_Msk | RCC_CFGR_PPRE1_Msk | RCC_CFGR_PPRE2_Msk);
        RCC->CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON);
    }
}

const char *clock_init(void) {
    uint32_t acr;

    // The voltage regulator must be in scale 1 before the PLL drives 168 MHz.
    RCC->APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC->APB1ENR;
    PWR->CR = (PWR->CR & ~(3UL << PWR_CR_VOS_Pos)) | ((uint32_t)MICROPY_HW_PWR_VOS_SCALE1 << PWR_CR_VOS_Pos);

    // HSE: the board's crystal, or an external clock on OSC_IN (bypass: the Nucleo's
    // ST-LINK MCO), which must be selected while the HSE is off
    #if MICROPY_HW_CLK_HSE_BYPASS
    RCC->CR |= RCC_CR_HSEBYP;
    #endif
    RCC->CR |= RCC_CR_HSEON;
    if (!systick_wait_bits(&RCC->CR, RCC_CR_HSERDY, RCC_CR_HSERDY, HSE_TIMEOUT_MS)) {
        clock_fall_back_to_hsi();
        return "HSE oscillator not ready (HSERDY) after 100 ms";
    }

    // PLL: it must be off while it is configured
    if (RCC->CR & RCC_CR_PLLON) {
        RCC->CR &= ~RCC_CR_PLLON;
        if (!systick_wait_bits(&RCC->CR, RCC_CR_PLLRDY, 0, PLL_TIMEOUT_MS)) {
            clock_fall_back_to_hsi();
            return "PLL did not stop (PLLRDY)";
        }
    }
    RCC->PLLCFGR = (RCC->PLLCFGR & RCC_PLLCFGR_RESERVED)
        | ((uint32_t)MICROPY_HW_CLK_PLLM << RCC_PLLCFGR_PLLM_Pos)
        | ((uint32_t)MICROPY_HW_CLK_PLLN << RCC_PLLCFGR_PLLN_Pos)
        | ((uint32_t)(MICROPY_HW_CLK_PLLP / 2 - 1) << RCC_PLLCFGR_PLLP_Pos)
        | ((uint32_t)MICROPY_HW_CLK_PLLQ << RCC_PLLCFGR_PLLQ_Pos)
        | RCC_PLLCFGR_PLLSRC_HSE;
    RCC->CR |= RCC_CR_PLLON;
    if (!systick_wait_bits(&RCC->CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY, PLL_TIMEOUT_MS)) {
        clock_fall_back_to_hsi();
        return "PLL did not lock (PLLRDY) after 2 ms";
    }
    if (!systick_wait_bits(&PWR->CSR, PWR_CSR_VOSRDY, PWR_CSR_VOSRDY, VOS_TIMEOUT_MS)) {
        clock_fall_back_to_hsi();
        return "voltage regulator not ready for scale 1 (VOSRDY)";
    }

    // Flash wait states before the clock goes up; caches reset while they are off.
    FLASH->ACR = 0;
    FLASH->ACR = FLASH_ACR_ICRST | FLASH_ACR_DCRST;
    FLASH->ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN | MICROPY_HW_FLASH_LATENCY;
    acr = FLASH->ACR;
    if ((acr & FLASH_ACR_LATENCY_Msk) != MICROPY_HW_FLASH_LATENCY) {
        clock_fall_back_to_hsi();
        return "flash did not take the wait states (FLASH_ACR LATENCY)";
    }

    // Bus prescalers for the target clock, then the switch.
    RCC->CFGR = (RCC->CFGR & ~(RCC_CFGR_HPRE_Msk | RCC_CFGR_PPRE1_Msk | RCC_CFGR_PPRE2_Msk))
        | (ahb_div_bits(MICROPY_HW_CLK_AHB_DIV) << RCC_CFGR_HPRE_Pos)
        | (apb_div_bits(MICROPY_HW_CLK_APB1_DIV) << RCC_CFGR_PPRE1_Pos)
        | (apb_div_bits(MICROPY_HW_CLK_APB2_DIV) << RCC_CFGR_PPRE2_Pos);
    RCC->CFGR = (RCC->CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
    if (!systick_wait_bits(&RCC->CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_PLL, SWITCH_TIMEOUT_MS)) {
        clock_fall_back_to_hsi();
        return "system clock did not switch to the PLL (SWS)";
    }
    return NULL;
}

void clock_update(void) {
    static const uint8_t ahb_shift[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 7, 8, 9 };
    static const uint8_t apb_shift[8] = { 0, 0, 0, 0, 1, 2, 3, 4 };
    uint32_t cfgr = RCC->CFGR;
    uint32_t sysclk;

    switch (cfgr & RCC_CFGR_SWS_Msk) {
        case RCC_CFGR_SWS_HSE:
            sysclk = MICROPY_HW_CLK_HSE_HZ;
            break;
        case RCC_CFGR_SWS_PLL: {
            uint32_t pll = RCC->PLLCFGR;
            uint32_t in = (pll & RCC_PLLCFGR_PLLSRC_HSE) ? MICROPY_HW_CLK_HSE_HZ : CLOCK_HSI_HZ;
            uint32_t m = (pll >> RCC_PLLCFGR_PLLM_Pos) & 0x3F;
            uint32_t n = (pll >> RCC_PLLCFGR_PLLN_Pos) & 0x1FF;
            uint32_t p = (((pll >> RCC_PLLCFGR_PLLP_Pos) & 3) + 1) * 2;
            sysclk = m ? (uint32_t)((uint64_t)in / m * n / p) : CLOCK_HSI_HZ;
            break;
        }
        default:
            sysclk = CLOCK_HSI_HZ;
            break;
    }
    clock_freqs.sysclk = sysclk;
    clock_freqs.hclk = sysclk >> ahb_shift[(cfgr & RCC_CFGR_HPRE_Msk) >> RCC_CFGR_HPRE_Pos];
    clock_freqs.pclk1 = clock_freqs.hclk >> apb_shift[(cfgr & RCC_CFGR_PPRE1_Msk) >> RCC_CFGR_PPRE1_Pos];
    clock_freqs.pclk2 = clock_freqs.hclk >> apb_shift[(cfgr & RCC_CFGR_PPRE2_Msk) >> RCC_CFGR_PPRE2_Pos];
}
