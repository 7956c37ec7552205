/*
 * This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
 *
 * The MIT License (MIT)
 *
 * Copyright (c) 2026 The STM32F4 SSL/TLS lab authors
 *
 * SPDX-License-Identifier: MIT
 * The licence text is in LICENSE at the top of the repository.
 */
// Glue between MicroPython, lwIP and the Ethernet driver: the execution context lwIP runs
// in, its timers, and network set-up/tear-down around soft resets.
//
// lwIP runs in the ETH interrupt (IRQ 61) at the lowest priority. The interrupt fires for
// the DMA (frames received, bus errors) and is also pended by SysTick every
// MPNETWORKPORT_TICK_MS for lwIP's timers and the PHY link check. Python code calls into
// lwIP with that interrupt masked through BASEPRI (MICROPY_PY_LWIP_ENTER/EXIT), so lwIP
// never runs re-entrantly, while the console, SysTick and other interrupts stay live.
#ifndef MICROPY_INCLUDED_STM32LAB_MPNETWORKPORT_H
#define MICROPY_INCLUDED_STM32LAB_MPNETWORKPORT_H

#include <stdint.h>

// NVIC priority of the ETH interrupt (4 bits, 15 = least urgent).
#define IRQ_PRI_ETH             (15)
#define MPNETWORKPORT_TICK_MS   (32)

// Mask the lwIP context (and anything less urgent); returns the previous mask. Nests.
static inline uint32_t mpnetworkport_lock(void) {
    uint32_t old;
    __asm volatile ("mrs %0, basepri" : "=r" (old) : : "memory");
    __asm volatile ("msr basepri_max, %0" : : "r" (IRQ_PRI_ETH << 4) : "memory");
    return old;
}

static inline void mpnetworkport_unlock(uint32_t old) {
    __asm volatile ("msr basepri, %0" : : "r" (old) : "memory");
}

void mpnetworkport_boot(void);           // once at power-up: lwIP itself
void mpnetworkport_init(void);           // after mp_init on every (soft) boot
void mpnetworkport_deinit(void);         // before mp_deinit: interface down, DMA stopped
void mpnetworkport_systick(uint32_t ms, uint32_t elapsed); // from the SysTick interrupt
uint32_t mpnetworkport_idle_ms(void);    // interrupts masked: ms until lwIP's next work
const char *mpnetworkport_hostname(void);

#endif // MICROPY_INCLUDED_STM32LAB_MPNETWORKPORT_H
