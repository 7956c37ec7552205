/*
 * STM32F4xx embedded flash memory interface registers, RM0090 section 3.9
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_FLASH_H
#define HW_MISC_STM32F4XX_FLASH_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_FLASH "stm32f4xx-flash-if"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxFlashState, STM32F4XX_FLASH)

struct STM32F4xxFlashState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;

    uint32_t acr;
    uint32_t sr;
    uint32_t cr;
    uint32_t optcr;
    /* Unlock sequence progress for CR (KEYR) and OPTCR (OPTKEYR) */
    uint8_t key_state;
    uint8_t optkey_state;
    /* A wrong key locks the register until the next reset */
    bool key_blocked;
    bool optkey_blocked;
};

#endif
