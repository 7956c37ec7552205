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
// The HASH's busy time as a guest sees it: SHA-1 of 4 blocks fed word by word without a
// look at the flags, then DCAL; SR read right after each DIN burst and the DCAL, and the
// SR reads it takes until DCIS. tests/test_hash_timing.py runs it with and without
// -icount: without, the core finishes within the access (BUSY never seen); with -icount,
// BUSY holds for RM0090's cycle counts in virtual time, the same on every run.
#include "board.h"

#define RCC_AHB2ENR         REG(RCC_BASE + 0x34)
#define HASH_BASE           0x50060400u
#define HASH_CR             REG(HASH_BASE + 0x00)
#define HASH_DIN            REG(HASH_BASE + 0x04)
#define HASH_STR            REG(HASH_BASE + 0x08)
#define HASH_HR(i)          REG(HASH_BASE + 0x0C + 4u * (i))
#define HASH_SR             REG(HASH_BASE + 0x24)
#define HASH_CR_INIT        (1u << 2)
#define HASH_CR_DATATYPE_8B (2u << 4)
#define HASH_STR_DCAL       (1u << 8)
#define HASH_SR_DCIS        (1u << 1)
#define HASH_SR_BUSY        (1u << 3)

#define BLOCKS              4u
#define POLL_LIMIT          1000000u

int main(void) {
    const char *failed = clock_init();
    uint32_t busy_seen = 0;

    console_init(failed ? 16000000u : sysclk_hz() / 4u);
    RCC_AHB2ENR |= 1u << 5;
    (void)RCC_AHB2ENR;
    HASH_CR = HASH_CR_DATATYPE_8B;
    HASH_CR = HASH_CR_DATATYPE_8B | HASH_CR_INIT;
    // 'a' * 256, then one more block: the 17th, 33rd, 49th word start a block
    for (uint32_t w = 0; w < 16u * BLOCKS; w++) {
        HASH_DIN = 0x61616161u;
        if (HASH_SR & HASH_SR_BUSY) {
            busy_seen++;
        }
    }
    HASH_STR = HASH_STR_DCAL;
    uint32_t sr = HASH_SR;
    uint32_t polls = 0;
    while (!(HASH_SR & HASH_SR_DCIS) && polls < POLL_LIMIT) {
        polls++;
    }
    console_puts("hash busy during feed: ");
    console_putu(busy_seen);
    console_puts("\nhash sr after dcal: 0x");
    console_puthex(sr, 8);
    console_puts("\nhash polls until dcis: ");
    console_putu(polls);
    console_puts("\nsha1:");
    for (uint32_t i = 0; i < 5; i++) {
        console_puts(" ");
        console_puthex(HASH_HR(i), 8);
    }
    console_puts("\ndone\n");
    for (;;) {
    }
}
