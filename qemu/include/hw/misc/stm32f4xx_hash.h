/*
 * STM32F4xx hash processor (HASH), RM0090 section 25
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_HASH_H
#define HW_MISC_STM32F4XX_HASH_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_HASH "stm32f4xx-hash"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxHashState, STM32F4XX_HASH)

struct STM32F4xxHashState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;

    /* 1: STM32F415/417 block; 2: STM32F437/439 block */
    uint8_t version;
};

#endif
