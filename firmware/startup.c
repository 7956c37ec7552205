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
// Vector table, reset handler and fault handlers for the STM32F4.
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "stm32f4xx.h"
#include "startup.h"
#include "uart.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sccm, _eccm, _estack;
int main(void);

void Reset_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);
void USART1_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void USART2_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void USART3_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void USART6_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void ETH_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));
void HASH_RNG_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*vector_t)(void);

// Every exception and interrupt not named here reaches Default_Handler, which reports it.
__attribute__((section(".isr_vector"), used))
const vector_t isr_vector[16 + STM32F4_NUM_IRQS] = {
    [0] = (vector_t)&_estack,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3 ... 15] = Default_Handler,
    [16 ... 16 + STM32F4_NUM_IRQS - 1] = Default_Handler,
    [3] = HardFault_Handler,
    [4] = HardFault_Handler,      // MemManage, BusFault and UsageFault are not enabled
    [5] = HardFault_Handler,      // separately: they escalate to HardFault. The slots
    [6] = HardFault_Handler,      // point there anyway in case they are.
    [7] = 0, [8] = 0, [9] = 0, [10] = 0, [13] = 0,
    [15] = SysTick_Handler,
    [16 + USART1_IRQn] = USART1_IRQHandler,
    [16 + USART2_IRQn] = USART2_IRQHandler,
    [16 + USART3_IRQn] = USART3_IRQHandler,
    [16 + ETH_IRQn] = ETH_IRQHandler,
    [16 + USART6_IRQn] = USART6_IRQHandler,
    [16 + HASH_RNG_IRQn] = HASH_RNG_IRQHandler,
};

void Reset_Handler(void) {
    // FPU: full access to CP10/CP11 before any floating-point instruction runs.
    SCB->CPACR |= (3UL << 20) | (3UL << 22);
    __DSB();
    __ISB();

    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    for (uint32_t *dst = &_sccm; dst < &_eccm;) {   // CPU-only data in CCM (lwIP's memory)
        *dst++ = 0;
    }
    SCB->VTOR = (uint32_t)isr_vector;
    // Divide by zero traps, unaligned access stays allowed (MicroPython relies on it
    // being harmless for packed data), 8-byte stack alignment on exception entry.
    SCB->CCR |= SCB_CCR_DIV_0_TRP_Msk | SCB_CCR_STKALIGN_Msk;
    __DSB();
    __ISB();

    main();
    // main never returns; if it does, start again.
    NVIC_SystemReset();
}

// --- fault reporting --------------------------------------------------------------------

static void fault_puts(const char *s) {
    console_uart_tx_strn(s, strlen(s));
}

static void fault_puthex(const char *label, uint32_t value) {
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++) {
        buf[2 + i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 0xF];
    }
    buf[10] = 0;
    fault_puts(label);
    fault_puts(buf);
}

// Report a fatal fault on the console and stop with the reason visible there. It is the
// end of the program: there is nothing left to wait for, so it halts.
static void fatal_fault(const char *what, const uint32_t *frame) {
    __disable_irq();
    fault_puts("\r\nFATAL: ");
    fault_puts(what);
    if (frame != NULL) {
        fault_puthex("\r\n  pc  ", frame[6]);
        fault_puthex("  lr  ", frame[5]);
        fault_puthex("  xpsr ", frame[7]);
    }
    fault_puthex("\r\n  CFSR ", SCB->CFSR);
    fault_puthex("  HFSR ", SCB->HFSR);
    fault_puthex("  BFAR ", SCB->BFAR);
    fault_puthex("  MMFAR ", SCB->MMFAR);
    fault_puts("\r\nHalted; press reset.\r\n");
    for (;;) {
        __WFI();
    }
}

// fault_probe_read32: see startup.h. While a probe runs, a bus fault on the probed load
// skips the load and is reported through fault_probe_faulted instead of being fatal.
static volatile bool fault_probe_active;
static volatile bool fault_probe_faulted;

bool fault_probe_read32(uintptr_t addr, uint32_t *value) {
    uint32_t v = 0;
    fault_probe_faulted = false;
    fault_probe_active = true;
    __DSB();
    __asm volatile ("ldr %0, [%1]" : "+r" (v) : "r" (addr) : "memory");
    __DSB();
    fault_probe_active = false;
    if (fault_probe_faulted) {
        return false;
    }
    *value = v;
    return true;
}

void hard_fault_report(uint32_t *frame) {
    if (fault_probe_active && (SCB->CFSR & (SCB_CFSR_PRECISERR_Msk | SCB_CFSR_IMPRECISERR_Msk))) {
        // Skip the probing load: 2 or 4 bytes depending on its Thumb encoding.
        uint16_t insn = *(const uint16_t *)frame[6];
        frame[6] += ((insn & 0xF800) >= 0xE800) ? 4 : 2;
        fault_probe_faulted = true;
        SCB->CFSR = SCB->CFSR;      // write-1-to-clear
        SCB->HFSR = SCB->HFSR;
        return;
    }
    fatal_fault("hard fault", frame);
}

__attribute__((naked)) void HardFault_Handler(void) {
    __asm volatile (
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b hard_fault_report\n"
        );
}

void NMI_Handler(void) {
    fatal_fault("NMI", NULL);
}

void Default_Handler(void) {
    static const char hex[] = "0123456789abcdef";
    char what[] = "unexpected exception 0x000";
    uint32_t ipsr = __get_IPSR();
    what[23] = hex[(ipsr >> 8) & 0xF];
    what[24] = hex[(ipsr >> 4) & 0xF];
    what[25] = hex[ipsr & 0xF];
    fatal_fault(what, NULL);
}
