// The 1 ms system tick (SysTick from HCLK): time base for ticks_ms/us and timeouts.
#ifndef MICROPY_INCLUDED_STM32LAB_SYSTICK_H
#define MICROPY_INCLUDED_STM32LAB_SYSTICK_H

#include <stdbool.h>
#include <stdint.h>

extern volatile uint32_t systick_ms;

void systick_init(uint32_t hclk_hz);
uint32_t systick_us(void);
uint32_t systick_cycles(void);

// Poll until (*reg & mask) == value, for at most timeout_ms; false on timeout. Needs the
// SysTick interrupt running (it is from the first line of main).
bool systick_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value, uint32_t timeout_ms);

#endif // MICROPY_INCLUDED_STM32LAB_SYSTICK_H
