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
// The port part of the machine module (included by extmod/modmachine.c through
// MICROPY_PY_MACHINE_INCLUDEFILE): reset, reset_cause, unique_id, freq, idle, sleeps.
#include "py/mperrno.h"
#include "stm32f4xx.h"
#include "clock.h"
#include "startup.h"
#include "systick.h"

static mp_int_t machine_reset_cause_value;

void machine_reset_cause_init(void) {
    uint32_t csr = RCC->CSR;
    // Most specific first: a power-on also sets PINRSTF, a software reset pulses the pin.
    if (csr & (RCC_CSR_IWDGRSTF | RCC_CSR_WWDGRSTF)) {
        machine_reset_cause_value = MACHINE_WDT_RESET;
    } else if (csr & (RCC_CSR_PORRSTF | RCC_CSR_BORRSTF)) {
        machine_reset_cause_value = MACHINE_PWRON_RESET;
    } else if (csr & RCC_CSR_SFTRSTF) {
        machine_reset_cause_value = MACHINE_SOFT_RESET;
    } else {
        machine_reset_cause_value = MACHINE_HARD_RESET;
    }
    RCC->CSR |= RCC_CSR_RMVF;
}

static void mp_machine_idle(void) {
    __WFI();
}

NORETURN static void mp_machine_reset(void) {
    NVIC_SystemReset();
}

static mp_int_t mp_machine_reset_cause(void) {
    return machine_reset_cause_value;
}

// The 96-bit unique device ID (RM0090 39.1) at 0x1FFF7A10. Read through the fault probe:
// an emulator that does not map the system memory area gives an OSError, not a crash.
static mp_obj_t mp_machine_unique_id(void) {
    uint32_t id[3];
    for (int i = 0; i < 3; i++) {
        if (!fault_probe_read32(UID_BASE + 4 * i, &id[i])) {
            mp_raise_msg(&mp_type_OSError,
                MP_ERROR_TEXT("unique ID at 0x1FFF7A10 not readable (system memory not mapped)"));
        }
    }
    return mp_obj_new_bytes((const byte *)id, sizeof(id));
}

static mp_obj_t mp_machine_get_freq(void) {
    return mp_obj_new_int_from_uint(clock_freqs.sysclk);
}

static void mp_machine_set_freq(size_t n_args, const mp_obj_t *args) {
    mp_raise_msg(&mp_type_NotImplementedError,
        MP_ERROR_TEXT("the clock is fixed at boot; machine.freq() only reads it"));
}

static void mp_machine_lightsleep(size_t n_args, const mp_obj_t *args) {
    if (n_args == 0) {
        __WFI();
    } else {
        mp_hal_delay_ms(mp_obj_get_int(args[0]));
    }
}

// Deep sleep ends in a reset on this chip (standby); without a wake-up source modelled,
// sleep for the time given, then reset.
NORETURN static void mp_machine_deepsleep(size_t n_args, const mp_obj_t *args) {
    mp_machine_lightsleep(n_args, args);
    NVIC_SystemReset();
}

// tickless([on]): tickless idle (systick.c) on or off; returns the setting before the call.
// Off, an idle board takes the 1 ms tick as before (for comparison: bench/idle.py).
static mp_obj_t machine_tickless(size_t n_args, const mp_obj_t *args) {
    return mp_obj_new_bool(systick_tickless(n_args > 0 ? mp_obj_is_true(args[0]) : -1));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(machine_tickless_obj, 0, 1, machine_tickless);

// idle_stats(): (SysTick interrupts, wake-ups of the idle wait) since power-up; with the
// 1 ms tick an idle board has about 1000 of each per second.
static mp_obj_t machine_idle_stats(void) {
    mp_obj_t items[2] = {
        mp_obj_new_int_from_uint(systick_irqs()),
        mp_obj_new_int_from_uint(systick_wakeups()),
    };
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(machine_idle_stats_obj, machine_idle_stats);
