// MicroPython HAL for the STM32F4 boards: ticks, delays, console.
#include "py/mpconfig.h"
#include "shared/runtime/interrupt_char.h"
#include "systick.h"

static inline mp_uint_t mp_hal_ticks_ms(void) {
    return systick_ms;
}

static inline mp_uint_t mp_hal_ticks_us(void) {
    return systick_us();
}

static inline mp_uint_t mp_hal_ticks_cpu(void) {
    return systick_cycles();
}

void mp_hal_delay_ms(mp_uint_t ms);
void mp_hal_delay_us(mp_uint_t us);
