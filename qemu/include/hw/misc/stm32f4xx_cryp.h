/*
 * STM32F4xx cryptographic processor (CRYP), RM0090 section 23
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_CRYP_H
#define HW_MISC_STM32F4XX_CRYP_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_CRYP "stm32f4xx-cryp"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxCrypState, STM32F4XX_CRYP)

struct STM32F4xxCrypState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;

    /* 1: STM32F415/417 block; 2: STM32F437/439 block */
    uint8_t version;
};

#endif
