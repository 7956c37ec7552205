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
// SysTick at 1 ms from the CPU clock, with sub-millisecond reads for ticks_us/ticks_cpu, and
// tickless idle: a CPU waiting for an interrupt with nothing due for a while lets one long
// SysTick period run instead of many 1 ms ones.
//
// The pattern is FreeRTOS's vPortSuppressTicksAndSleep (portable/GCC/ARM_CM4F/port.c: mask
// interrupts, find the next deadline, lengthen the SysTick reload, WFI, account the elapsed
// ticks, back to the normal reload) and the wait of MicroPython's ports
// (MICROPY_INTERNAL_WFE(TIMEOUT_MS) as ports/rp2 and ports/mimxrt use it, bounded by the
// caller's time limit). Unlike FreeRTOS we never stop the counter or write VAL: a write to
// VAL loses the cycles between reading and rewriting the counter (FreeRTOS subtracts a
// constant for them, which an emulator's host-timed counter does not have), and those add
// up to a drift of ticks_ms. Only LOAD changes, and the silicon takes LOAD at the next
// reload (PM0214 4.5.2), so every period ends on the same 1 ms grid: the long period starts
// at the next millisecond boundary and is N whole milliseconds; the interrupt handler learns
// a period's length from the counter just after it reloaded and puts the 1 ms reload back.
// An interrupt that arrives during a long period (a console byte, a frame) wakes the CPU as
// usual; the clock reads stay exact (from VAL), and a wait shorter than what is left of the
// long period polls instead of sleeping.
#include "stm32f4xx.h"
#include "irq.h"
#include "systick.h"
#include "py/mpconfig.h"
#if MICROPY_PY_LWIP
#include "mpnetworkport.h"
#endif

// Milliseconds up to the start of the current SysTick period, and its length (1 but in a
// long idle period). Written by the interrupt handler only.
static volatile uint32_t systick_base_ms;
static volatile uint32_t systick_period_ms = 1;
static uint32_t systick_cycles_per_ms;
static uint32_t systick_max_period_ms;
static bool systick_tickless_on = true;
static volatile uint32_t systick_irq_count;
static uint32_t systick_wfi_count;
volatile bool systick_idle_interrupted;

// The length in ms of the period the counter has just reloaded into. LOAD still holds a
// long period's reload until the handler puts the 1 ms one back, and VAL tells whether the
// reload took it (arming may race with a reload; the handler runs well within the first
// millisecond of a long period, so VAL >= cycles_per_ms there).
static inline uint32_t systick_new_period(uint32_t val) {
    uint32_t load = SysTick->LOAD;
    if (load != systick_cycles_per_ms - 1 && val >= systick_cycles_per_ms) {
        return (load + 1) / systick_cycles_per_ms;
    }
    return 1;
}

void SysTick_Handler(void) {
    uint32_t val = SysTick->VAL;
    uint32_t ended = systick_period_ms;
    uint32_t ms = systick_base_ms + ended;
    uint32_t period = systick_new_period(val);
    systick_base_ms = ms;
    systick_period_ms = period;
    systick_irq_count++;
    if (period > 1) {
        // a long idle period has begun: the one after it is 1 ms again
        SysTick->LOAD = systick_cycles_per_ms - 1;
    }
    #if MICROPY_PY_LWIP
    // lwIP's timers and the PHY link check run in the ETH interrupt; pend it when due
    mpnetworkport_systick(ms, ended);
    #endif
}

void systick_init(uint32_t hclk_hz) {
    systick_cycles_per_ms = hclk_hz / 1000;
    // the longest period the 24-bit reload holds (99 ms at 168 MHz)
    systick_max_period_ms = (SysTick_LOAD_RELOAD_Msk + 1) / systick_cycles_per_ms;
    SysTick->CTRL = 0;
    SysTick->LOAD = systick_cycles_per_ms - 1;
    SysTick->VAL = 0;
    systick_period_ms = 1;
    NVIC_SetPriority(SysTick_IRQn, IRQ_PRI_SYSTICK);
    SysTick->CTRL = SysTick_CTRL_CLKSOURCE_Msk | SysTick_CTRL_TICKINT_Msk | SysTick_CTRL_ENABLE_Msk;
}

// Milliseconds and CPU cycles into the current millisecond, read consistently: a reload of
// the counter that the interrupt has not counted yet is counted here.
static uint32_t systick_read(uint32_t *cycles) {
    uint32_t state = disable_irq();
    uint32_t ms = systick_base_ms;
    uint32_t period = systick_period_ms;
    uint32_t val = SysTick->VAL;
    if (SCB->ICSR & SCB_ICSR_PENDSTSET_Msk) {
        val = SysTick->VAL;
        ms += period;
        period = systick_new_period(val);
    }
    enable_irq(state);
    uint32_t elapsed = period * systick_cycles_per_ms - 1 - val;
    *cycles = elapsed % systick_cycles_per_ms;
    return ms + elapsed / systick_cycles_per_ms;
}

uint32_t systick_now_ms(void) {
    if (systick_period_ms == 1) {
        // the 1 ms tick keeps the count (a tick pending behind masked interrupts aside)
        return systick_base_ms;
    }
    uint32_t cycles;
    return systick_read(&cycles);
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
    uint32_t start = systick_now_ms();
    for (uint32_t polls = 0;; polls++) {
        if ((*reg & mask) == value) {
            return true;
        }
        uint32_t elapsed = systick_now_ms() - start;
        if (elapsed > timeout_ms || (elapsed == 0 && polls > SYSTICK_POLLS_WITHOUT_TICK)) {
            // one last look: the flag may have come with the tick
            return (*reg & mask) == value;
        }
    }
}

// MICROPY_INTERNAL_WFE: sleep until an interrupt, and for no longer than timeout_ms.
void systick_wait_for_interrupt(uint32_t timeout_ms) {
    // PRIMASK masks the handlers but not the wake-up (ARMv7-M B1.5.19), so nothing that
    // arrives between the checks and the WFI is missed; the handlers run after it.
    uint32_t state = disable_irq();
    if (systick_idle_interrupted) {
        // an interrupt came since the caller last slept (its console byte, its frame):
        // the caller looks at what it waits for before it sleeps
        systick_idle_interrupted = false;
        enable_irq(state);
        return;
    }
    bool armed = false;
    if (systick_period_ms > 1) {
        // a long period began earlier and is still running: sleep through it only if the
        // caller's limit is not sooner
        uint32_t cycles;
        uint32_t now = systick_read(&cycles);
        if (timeout_ms < systick_base_ms + systick_period_ms - now) {
            enable_irq(state);
            return;
        }
    } else if (systick_tickless_on && !(SCB->ICSR & SCB_ICSR_PENDSTSET_Msk)) {
        // The long period starts at the next 1 ms boundary (< 1 ms away) and must end by
        // timeout_ms from now: 1 + (n - 1) ms, n <= timeout_ms.
        uint32_t n = timeout_ms;
        #if MICROPY_PY_LWIP
        uint32_t net = mpnetworkport_idle_ms();
        if (net < n) {
            n = net;
        }
        #endif
        if (n > systick_max_period_ms + 1) {
            n = systick_max_period_ms + 1;
        }
        if (n >= 3) {
            SysTick->LOAD = (n - 1) * systick_cycles_per_ms - 1;
            armed = true;
        }
    }
    __asm volatile ("dsb\n wfi\n isb" : : : "memory");
    systick_wfi_count++;
    if (armed && systick_period_ms == 1 && !(SCB->ICSR & SCB_ICSR_PENDSTSET_Msk)) {
        // woken before the long period began: 1 ms periods go on (if the reload happened
        // all the same, the handler sees the long period in VAL and counts it)
        SysTick->LOAD = systick_cycles_per_ms - 1;
    }
    enable_irq(state);
}

bool systick_tickless(int enable) {
    bool was = systick_tickless_on;
    if (enable >= 0) {
        systick_tickless_on = enable;
    }
    return was;
}

uint32_t systick_irqs(void) {
    return systick_irq_count;
}

uint32_t systick_wakeups(void) {
    return systick_wfi_count;
}
