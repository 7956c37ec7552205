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
// lwIP's execution context, timers and platform hooks; network set-up around soft resets.
// See mpnetworkport.h for the design.
#include <stdio.h>
#include <string.h>
#include "py/mpconfig.h"

#if MICROPY_PY_LWIP

#include "py/runtime.h"
#include "py/mphal.h"
#include "extmod/modnetwork.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "stm32f4xx.h"
#include "eth.h"
#include "mpnetworkport.h"
#include "rng.h"
#include "systick.h"
#include "uart.h"

void network_lan_init0(void);

static bool lwip_ready;
static uint32_t rand_state;

u32_t sys_now(void) {
    return systick_now_ms();
}

// lwIP needs unpredictable but not cryptographic numbers (initial local ports, DHCP
// transaction ids): xorshift32 seeded from the hardware RNG, so it never waits on the RNG
// from an interrupt.
uint32_t lwip_port_rand(void) {
    uint32_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return x;
}

void lwip_port_assert(const char *msg, const char *file, int line) {
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "FATAL: lwIP assertion '%s' failed at %s:%d\n", msg,
        file, line);
    console_uart_tx_strn(buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
    NVIC_SystemReset();
}

// The lwIP context: DMA events, received frames, link check, timers.
void ETH_IRQHandler(void) {
    systick_idle_interrupted = true;
    eth_service(false);
    sys_check_timeouts();
}

void mpnetworkport_systick(uint32_t ms, uint32_t elapsed) {
    if (!lwip_ready) {
        return;
    }
    // elapsed > 1: the end of a long idle period, which ends when lwIP or the link check
    // is due (mpnetworkport_idle_ms)
    if (elapsed > 1 || (ms % MPNETWORKPORT_TICK_MS) == 0 || eth_phy_irq_pending()) {
        NVIC_SetPendingIRQ(ETH_IRQn);
    }
}

// With interrupts masked (lwIP cannot run): ms until the ETH interrupt must run next.
uint32_t mpnetworkport_idle_ms(void) {
    if (!lwip_ready) {
        return UINT32_MAX;
    }
    if (NVIC_GetPendingIRQ(ETH_IRQn) || eth_phy_irq_pending()) {
        return 0;
    }
    uint32_t ms = sys_timeouts_sleeptime();     // SYS_TIMEOUTS_SLEEPTIME_INFINITE: none
    uint32_t link = eth_link_check_due_ms();
    return link < ms ? link : ms;
}

void mpnetworkport_boot(void) {
    rand_state = rng_seed_word() | 1;
    lwip_init();
    NVIC_SetPriority(ETH_IRQn, IRQ_PRI_ETH);
    NVIC_EnableIRQ(ETH_IRQn);
    lwip_ready = true;
}

void mpnetworkport_init(void) {
    mod_network_init();
    network_lan_init0();
}

void mpnetworkport_deinit(void) {
    uint32_t state = mpnetworkport_lock();
    eth_change_hook = NULL;
    eth_stop();
    mpnetworkport_unlock(state);
    mod_network_deinit();
}

const char *mpnetworkport_hostname(void) {
    return mod_network_hostname_data;
}

#endif // MICROPY_PY_LWIP
