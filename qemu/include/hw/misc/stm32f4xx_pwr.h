/*
 * STM32F4xx power controller (PWR), RM0090 section 5.4
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_PWR_H
#define HW_MISC_STM32F4XX_PWR_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_PWR "stm32f4xx-pwr"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxPwrState, STM32F4XX_PWR)

struct STM32F4xxPwrState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    uint32_t cr;
    uint32_t csr;
};

#endif
