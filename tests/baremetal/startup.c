/*
 * This file is part of the STM32F4 SSL/TLS emulation lab's bare-metal test programs.
 *
 * The MIT License (MIT)
 *
 * Copyright (c) 2026 The STM32F4 SSL/TLS lab authors
 *
 * SPDX-License-Identifier: MIT
 * The licence text is in LICENSE at the top of the repository.
 */
// Vector table and reset handler for the bare-metal test programs.
#include <stdint.h>

extern uint32_t _estack, _etext, _sdata, _edata, _sbss, _ebss;
int main(void);
void systick_handler(void);

void reset_handler(void) {
    uint32_t *src = &_etext;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    main();
    for (;;) {
    }
}

void default_handler(void) {
    for (;;) {
    }
}

// Programs override these: a fault report, the EXTI line handlers they use.
void fault_handler(void) __attribute__((weak, alias("default_handler")));
void exti0_handler(void) __attribute__((weak, alias("default_handler")));
void exti15_10_handler(void) __attribute__((weak, alias("default_handler")));

#define IRQ(n) (16 + (n))

// Cortex-M4 exceptions, then the 91 interrupts of the STM32F4 (RM0090 table 61/62)
__attribute__((section(".isr_vector"), used))
static void (*const vectors[IRQ(91)])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = reset_handler,
    [2] = default_handler,                  // NMI
    [3 ... 6] = fault_handler,              // HardFault, MemManage, BusFault, UsageFault
    [11] = default_handler,                 // SVCall
    [12] = default_handler,                 // debug monitor
    [14] = default_handler,                 // PendSV
    [15] = systick_handler,
    [IRQ(0) ... IRQ(5)] = default_handler,
    [IRQ(6)] = exti0_handler,
    [IRQ(7) ... IRQ(39)] = default_handler,
    [IRQ(40)] = exti15_10_handler,
    [IRQ(41) ... IRQ(90)] = default_handler,
};
