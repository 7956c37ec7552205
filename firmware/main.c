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
// Boot: clocks, tick, console, LEDs; then the MicroPython runtime and its REPL, again
// after every soft reset (Ctrl-D).
#include <stdio.h>
#include <string.h>
#include "py/compile.h"
#include "py/gc.h"
#include "py/builtin.h"
#include "py/lexer.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "shared/readline/readline.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"
#include "stm32f4xx.h"
#include "clock.h"
#include "machine_led.h"
#include "mpnetworkport.h"
#include "modmachine.h"
#include "systick.h"
#include "uart.h"

extern uint32_t _heap_start, _heap_end, _sstack, _estack;
void stm32lab_tls_port_init(void);

// Keep this much stack spare below the limit MicroPython checks against, for interrupt
// handlers and the C code that runs between checks.
#define STACK_SPARE (1024)

static void console_print(const char *s) {
    mp_hal_stdout_tx_strn_cooked(s, strlen(s));
}

int main(void) {
    const char *clock_error;

    // The tick first (from the 16 MHz HSI): the clock bring-up times its waits with it.
    systick_init(CLOCK_HSI_HZ);
    __enable_irq();
    machine_reset_cause_init();
    clock_error = clock_init();
    clock_update();
    systick_init(clock_freqs.hclk);

    machine_led_init();
    console_uart_init();
    if (clock_error != NULL) {
        char buf[160];
        snprintf(buf, sizeof(buf), "clock: %s; running from the %u MHz HSI\n",
            clock_error, (unsigned)(clock_freqs.sysclk / 1000000));
        console_print(buf);
    }

    #if MICROPY_PY_LWIP
    mpnetworkport_boot();
    #endif

    for (;;) {
        mp_stack_set_top(&_estack);
        mp_stack_set_limit((char *)&_estack - (char *)&_sstack - STACK_SPARE);
        gc_init(&_heap_start, &_heap_end);
        mp_init();
        #if MICROPY_PY_SSL
        stm32lab_tls_port_init();   // mbedtls/mbedtls_port.c: buffers set aside in the old heap
        #endif
        #if MICROPY_PY_LWIP
        mpnetworkport_init();
        #endif
        readline_init0();

        // --- apps ---
        // The board application (apps/app_main.py: the role in the config flash sector)
        // runs first; Ctrl-C, role=repl or an empty sector bring the REPL.
        #if MICROPY_MODULE_FROZEN_MPY && MICROPY_HW_HAS_APPS
        if (pyexec_mode_kind == PYEXEC_MODE_FRIENDLY_REPL) {
            pyexec_frozen_module("app_main.py", true);
        }
        #endif
        // --- end apps ---

        for (;;) {
            if (pyexec_mode_kind == PYEXEC_MODE_RAW_REPL) {
                if (pyexec_raw_repl() != 0) {
                    break;
                }
            } else {
                if (pyexec_friendly_repl() != 0) {
                    break;
                }
            }
        }

        console_print("MPY: soft reboot\n");
        // Finalisers close the sockets (FIN/RST still go out), then the interface comes
        // down and the Ethernet DMA stops.
        gc_sweep_all();
        #if MICROPY_PY_LWIP
        mpnetworkport_deinit();
        #endif
        mp_deinit();
    }
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

// There is no filesystem yet: only built-in and frozen modules can be imported.
mp_lexer_t *mp_lexer_new_from_file(qstr filename) {
    mp_raise_OSError(MP_ENOENT);
}

mp_import_stat_t mp_import_stat(const char *path) {
    return MP_IMPORT_STAT_NO_EXIST;
}

mp_obj_t mp_builtin_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("open: no filesystem on this board"));
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, mp_builtin_open);

void nlr_jump_fail(void *val) {
    console_print("FATAL: uncaught exception (nlr_jump_fail); resetting\n");
    NVIC_SystemReset();
}

#ifndef NDEBUG
void MP_WEAK __assert_func(const char *file, int line, const char *func, const char *expr) {
    char buf[160];
    snprintf(buf, sizeof(buf), "FATAL: assertion '%s' failed at %s:%d\n", expr, file, line);
    console_print(buf);
    NVIC_SystemReset();
}
#endif
