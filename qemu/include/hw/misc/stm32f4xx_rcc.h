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

/*
 * The peripheral reset (xxxRSTR) and clock-enable (xxxENR) bits, one output
 * line each: named GPIO outputs STM32F4XX_RCC_RESET_OUT and
 * STM32F4XX_RCC_CLOCK_OUT, line STM32F4XX_RCC_LINE(bus, bit). A block's
 * reset and enable bits have the same position (RM0090 7.3.5 .. 7.3.14).
 */
typedef enum STM32F4xxRccBus {
    STM32F4XX_RCC_AHB1,
    STM32F4XX_RCC_AHB2,
    STM32F4XX_RCC_AHB3,
    STM32F4XX_RCC_APB1,
    STM32F4XX_RCC_APB2,
    STM32F4XX_RCC_NBUSES
} STM32F4xxRccBus;

#define STM32F4XX_RCC_RESET_OUT "periph-reset"
#define STM32F4XX_RCC_CLOCK_OUT "periph-clock"
#define STM32F4XX_RCC_LINE(bus, bit) ((bus) * 32 + (bit))
#define STM32F4XX_RCC_NLINES (STM32F4XX_RCC_NBUSES * 32)

struct STM32F4xxRccState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;

    uint32_t regs[STM32F4XX_RCC_NREGS];

    /* Outputs: SYSCLK after the AHB prescaler, and the two APB clocks */
    Clock *hclk;
    Clock *pclk1;
    Clock *pclk2;

    /* Reset and clock-enable bits to the RCC gates of the blocks */
    qemu_irq periph_reset[STM32F4XX_RCC_NLINES];
    qemu_irq periph_clock[STM32F4XX_RCC_NLINES];
    /* What the lines carry, to signal changes only */
    uint32_t reset_lines[STM32F4XX_RCC_NBUSES];
    uint32_t clock_lines[STM32F4XX_RCC_NBUSES];

    uint32_t hse_frequency;
    bool gpio_jk;           /* STM32F42x/43x: GPIOJ and GPIOK bits */
    bool spi45;             /* STM32F411: SPI4 and SPI5 bits */
};

#endif
