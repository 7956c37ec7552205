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
// RNG driver: RNGEN, then per word poll DRDY with a timeout and check the error flags
// (RM0090 24.3). As RM0090 24.3.1 asks, the first word after enabling is kept only for
// comparison and every word is compared with the previous one.
#include <stdbool.h>
#include "stm32f4xx.h"
#include "rng.h"
#include "systick.h"

// DRDY comes 40 RNG clocks (under 1 us at 48 MHz) after enable and after each read; the
// wait is by time (see systick_wait_bits), not a poll count.
#define RNG_TIMEOUT_MS (10)

// rng_read's answer when a latched error was cleared and the generator restarted: the
// caller starts over with a fresh comparison word.
#define RNG_RESTARTED ((rng_status_t)-1)

static bool rng_primed;
static uint32_t rng_last;

static void rng_restart(void) {
    // RM0090 24.3.2: clear SEIS (written 0; the other bits are read-only), then
    // RNGEN 0 -> 1
    RNG->SR = ~RNG_SR_SEIS & (RNG_SR_SEIS | RNG_SR_CEIS);
    RNG->CR &= ~RNG_CR_RNGEN;
    RNG->CR |= RNG_CR_RNGEN;
    rng_primed = false;
}

static rng_status_t rng_read(uint32_t *word) {
    uint32_t start = systick_now_ms();
    for (uint32_t polls = 0;; polls++) {
        uint32_t elapsed = systick_now_ms() - start;
        if (elapsed > RNG_TIMEOUT_MS || (elapsed == 0 && polls > SYSTICK_POLLS_WITHOUT_TICK)) {
            break;
        }
        uint32_t sr = RNG->SR;
        if (sr & (RNG_SR_SECS | RNG_SR_SEIS)) {
            // Restart; if the noise source still misbehaves (SECS), it is an error.
            rng_restart();
            return (RNG->SR & RNG_SR_SECS) ? RNG_ERR_SEED : RNG_RESTARTED;
        }
        if (sr & RNG_SR_CECS) {
            return RNG_ERR_CLOCK;
        }
        if (sr & RNG_SR_CEIS) {
            // a past clock error, now gone: acknowledge it and go on
            RNG->SR = ~RNG_SR_CEIS & (RNG_SR_SEIS | RNG_SR_CEIS);
        }
        if (sr & RNG_SR_DRDY) {
            *word = RNG->DR;
            return RNG_OK;
        }
    }
    return RNG_ERR_TIMEOUT;
}

rng_status_t rng_get_word(uint32_t *word) {
    uint32_t value;
    rng_status_t status = RNG_ERR_SEED;

    if (!(RCC->AHB2ENR & RCC_AHB2ENR_RNGEN)) {
        RCC->AHB2ENR |= RCC_AHB2ENR_RNGEN;
        (void)RCC->AHB2ENR;
    }
    if (!(RNG->CR & RNG_CR_RNGEN)) {
        RNG->CR |= RNG_CR_RNGEN;
        rng_primed = false;
    }
    // At most one restart after a cleared error; a second one is reported.
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!rng_primed) {
            status = rng_read(&rng_last);
            if (status == RNG_RESTARTED) {
                status = RNG_ERR_SEED;
                continue;
            }
            if (status != RNG_OK) {
                return status;
            }
            rng_primed = true;
        }
        status = rng_read(&value);
        if (status == RNG_RESTARTED) {
            status = RNG_ERR_SEED;
            continue;
        }
        if (status != RNG_OK) {
            return status;
        }
        if (value == rng_last) {
            rng_restart();
            return RNG_ERR_REPEAT;
        }
        rng_last = value;
        *word = value;
        return RNG_OK;
    }
    return status;
}

const char *rng_status_str(rng_status_t status) {
    switch (status) {
        case RNG_OK:
            return "ok";
        case RNG_ERR_TIMEOUT:
            return "RNG timeout: no data ready (DRDY)";
        case RNG_ERR_SEED:
            return "RNG seed error (SECS)";
        case RNG_ERR_CLOCK:
            return "RNG clock error (CECS)";
        case RNG_ERR_REPEAT:
            return "RNG repeated a word (continuous test failed)";
        default:
            return "RNG error";
    }
}

uint32_t rng_seed_word(void) {
    uint32_t word;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (rng_get_word(&word) == RNG_OK) {
            return word;
        }
    }
    return systick_cycles();
}
