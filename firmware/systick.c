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
// SysTick at 1 ms from the CPU clock, with sub-millisecond reads for ticks_us/ticks_cpu.
#include "stm32f4xx.h"
#include "irq.h"
#include "systick.h"
#include "py/mpconfig.h"
#if MICROPY_PY_LWIP
#include "mpnetworkport.h"
#endif

volatile uint32_t systick_ms;
static uint32_t systick_cycles_per_ms;

void SysTick_Handler(void) {
    systick_ms++;
    #if MICROPY_PY_LWIP
    // lwIP's timers and the PHY link check run in the ETH interrupt; pend it when due
    mpnetworkport_systick(systick_ms);
    #endif
}

void systick_init(uint32_t hclk_hz) {
    systick_cycles_per_ms = hclk_hz / 1000;
    SysTick->CTRL = 0;
    SysTick->LOAD = systick_cycles_per_ms - 1;
    SysTick->VAL = 0;
    NVIC_SetPriority(SysTick_IRQn, IRQ_PRI_SYSTICK);
    SysTick->CTRL = SysTick_CTRL_CLKSOURCE_Msk | SysTick_CTRL_TICKINT_Msk | SysTick_CTRL_ENABLE_Msk;
}

// Milliseconds and CPU cycles into the current millisecond, read consistently: a wrap of
// the counter that the interrupt has not counted yet is counted here.
static uint32_t systick_read(uint32_t *cycles) {
    uint32_t state = disable_irq();
    uint32_t ms = systick_ms;
    uint32_t val = SysTick->VAL;
    if (SCB->ICSR & SCB_ICSR_PENDSTSET_Msk) {
        val = SysTick->VAL;
        ms++;
    }
    enable_irq(state);
    *cycles = systick_cycles_per_ms - 1 - val;
    return ms;
}

uint32_t systick_us(void) {
    uint32_t cycles;
    uint32_t ms = systick_read(&cycles);
    return ms * 1000 + cycles / (systick_cycles_per_ms / 1000);
}

uint32_t systick_cycles(void) {
    uint32_t cycles;
    uint32_t ms = systick_read(&cycles);
    return ms * systick_cycles_per_ms + cycles;
}

bool systick_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value, uint32_t timeout_ms) {
    uint32_t start = systick_ms;
    for (uint32_t polls = 0;; polls++) {
        if ((*reg & mask) == value) {
            return true;
        }
        uint32_t elapsed = systick_ms - start;
        if (elapsed > timeout_ms || (elapsed == 0 && polls > SYSTICK_POLLS_WITHOUT_TICK)) {
            // one last look: the flag may have come with the tick
            return (*reg & mask) == value;
        }
    }
}
