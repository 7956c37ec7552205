/*
 * STM32F4xx reset and clock control (RCC), RM0090 section 7 (F405/407/415/417)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_RCC_H
#define HW_MISC_STM32F4XX_RCC_H

#include "hw/sysbus.h"
#include "hw/clock.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_RCC "stm32f4xx-rcc"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxRccState, STM32F4XX_RCC)

#define STM32F4XX_RCC_NREGS (0x88 / 4)

struct STM32F4xxRccState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;

    uint32_t regs[STM32F4XX_RCC_NREGS];

    /* Outputs: SYSCLK after the AHB prescaler, and the two APB clocks */
    Clock *hclk;
    Clock *pclk1;
    Clock *pclk2;

    uint32_t hse_frequency;
};

#endif
