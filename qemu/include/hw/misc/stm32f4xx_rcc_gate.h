/*
 * STM32F4xx RCC gate: one block's reset and clock-enable bits on the bus
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_RCC_GATE_H
#define HW_MISC_STM32F4XX_RCC_GATE_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_RCC_GATE "stm32f4xx-rcc-gate"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxRccGateState, STM32F4XX_RCC_GATE)

/* Input lines: the block's xxxENR bit and its xxxRSTR bit */
#define STM32F4XX_RCC_GATE_CLOCK "clock-enable"
#define STM32F4XX_RCC_GATE_RESET "reset"

struct STM32F4xxRccGateState {
    SysBusDevice parent_obj;

    /* The block's registers, with "off" over them while it cannot answer */
    MemoryRegion container;
    MemoryRegion off;

    DeviceState *block;
    char *bus;              /* "AHB1" .. "APB2": RCC_<bus>ENR and RCC_<bus>RSTR */
    uint8_t bit;            /* the bit in both, for the logs */
    char *label;            /* the block's name in the logs (default: QOM name) */

    bool clock_on;
    bool in_reset;
};

#endif
