/*
 * STM32F4xx MCU debug component (DBGMCU), RM0090 section 38.16
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_DBGMCU_H
#define HW_MISC_STM32F4XX_DBGMCU_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_DBGMCU "stm32f4xx-dbgmcu"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxDbgmcuState, STM32F4XX_DBGMCU)

#define STM32F4XX_DBGMCU_BASE 0xE0042000

struct STM32F4xxDbgmcuState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;

    uint32_t cr;
    uint32_t apb1_fz;
    uint32_t apb2_fz;

    uint16_t dev_id;
    uint16_t rev_id;
};

#endif
