/*
 * STM32F4xx general-purpose I/O port, RM0090 section 8
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_GPIO_STM32F4XX_GPIO_H
#define HW_GPIO_STM32F4XX_GPIO_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_GPIO "stm32f4xx-gpio"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxGpioState, STM32F4XX_GPIO)

#define STM32F4XX_GPIO_NPINS 16

struct STM32F4xxGpioState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    /* Pin levels driven onto the board while the pin is an output */
    qemu_irq pin_out[STM32F4XX_GPIO_NPINS];
    /* Input levels (IDR bits) for SYSCFG's EXTI line selection, on change */
    qemu_irq exti_out[STM32F4XX_GPIO_NPINS];

    uint8_t port;           /* 0 = GPIOA: selects the reset values */

    uint32_t moder;
    uint32_t otyper;
    uint32_t ospeedr;
    uint32_t pupdr;
    uint32_t odr;
    uint32_t lckr;
    uint32_t afr[2];
    uint32_t lock_step;     /* progress through the LCKR key sequence */

    /* External drive: a bit in ext_mask means the board drives that pin */
    uint32_t ext_mask;
    uint32_t ext_level;
    /* What the pins output last, to only signal changes */
    uint32_t out_level;
    uint32_t out_valid;
    /* The IDR last signalled on exti_out */
    uint32_t exti_level;
};

#endif
