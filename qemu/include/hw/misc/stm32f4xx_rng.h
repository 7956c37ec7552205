/*
 * STM32F4xx random number generator (RNG), RM0090 section 24
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_RNG_H
#define HW_MISC_STM32F4XX_RNG_H

#include "hw/sysbus.h"
#include "qemu/timer.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_RNG "stm32f4xx-rng"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxRngState, STM32F4XX_RNG)

struct STM32F4xxRngState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;
    QEMUTimer *ready_timer;

    uint32_t cr;
    uint32_t sr;
    uint32_t dr;
    uint64_t prng_state;    /* used when seed != 0 */
    uint64_t words;         /* numbers delivered, for the host to check */

    /* Properties */
    uint64_t seed;
    bool seed_error;        /* host-injected faults, see the .c file */
    bool clock_error;
};

#endif
