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
// The CRYP's busy time as a guest sees it: an AES-128 key preparation, then one block of
// AES-128, AES-256 and TDES ECB encryption each, written to DIN without a look at the
// flags; SR read right after the last DIN write (or the CR write of the preparation), and
// the SR reads it takes until OFNE (BUSY=0 for the preparation). tests/test_cryp_timing.py
// runs it with and without -icount: without, the core finishes within the access (BUSY
// never seen, no polls); with -icount, BUSY holds for RM0090's cycle counts in virtual
// time, longer for the longer key and for TDES, the same on every run.
#include "board.h"

#define RCC_AHB2ENR         REG(RCC_BASE + 0x34)
#define CRYP_BASE           0x50060000u
#define CRYP_CR             REG(CRYP_BASE + 0x00)
#define CRYP_SR             REG(CRYP_BASE + 0x04)
#define CRYP_DIN            REG(CRYP_BASE + 0x08)
#define CRYP_DOUT           REG(CRYP_BASE + 0x0C)
#define CRYP_K(i)           REG(CRYP_BASE + 0x20 + 4u * (i))    // K0LR, K0RR, ... K3RR
#define CR_ALGOMODE(m)      ((uint32_t)(m) << 3)
#define CR_KEYSIZE(k)       ((uint32_t)(k) << 8)
#define CR_FFLUSH           (1u << 14)
#define CR_CRYPEN           (1u << 15)
#define SR_OFNE             (1u << 2)
#define SR_BUSY             (1u << 4)
#define ALGO_TDES_ECB       0u
#define ALGO_AES_ECB        4u
#define ALGO_AES_KEY        7u

#define POLL_LIMIT          1000000u

static const uint32_t key[8] = {
    0x00010203u, 0x04050607u, 0x08090a0bu, 0x0c0d0e0fu,
    0x10111213u, 0x14151617u, 0x18191a1bu, 0x1c1d1e1fu,
};
static const uint32_t block[4] = { 0x00112233u, 0x44556677u, 0x8899aabbu, 0xccddeeffu };

static void report(const char *name, uint32_t sr, uint32_t polls) {
    console_puts("cryp ");
    console_puts(name);
    console_puts(" sr: 0x");
    console_puthex(sr, 8);
    console_puts(" polls: ");
    console_putu(polls);
}

// One block through the enabled CRYP: key words from K(first), `words` of block[]
static void run(const char *name, uint32_t cr, unsigned first, unsigned words) {
    CRYP_CR = cr | CR_FFLUSH;
    for (unsigned i = first; i < 8; i++) {
        CRYP_K(i) = key[i - first];
    }
    CRYP_CR = cr | CR_CRYPEN;
    for (unsigned i = 0; i < words; i++) {
        CRYP_DIN = block[i];
    }
    uint32_t sr = CRYP_SR;
    uint32_t polls = 0;
    while (!(CRYP_SR & SR_OFNE) && polls < POLL_LIMIT) {
        polls++;
    }
    report(name, sr, polls);
    console_puts(" out:");
    for (unsigned i = 0; i < words; i++) {
        console_puts(" ");
        console_puthex(CRYP_DOUT, 8);
    }
    console_puts("\n");
    CRYP_CR = cr;
}

int main(void) {
    const char *failed = clock_init();

    console_init(failed ? 16000000u : sysclk_hz() / 4u);
    RCC_AHB2ENR |= 1u << 4;
    (void)RCC_AHB2ENR;

    // AES-128 key preparation: CRYPEN and BUSY drop when it ends
    uint32_t cr = CR_ALGOMODE(ALGO_AES_KEY) | CR_KEYSIZE(0);
    CRYP_CR = cr;
    for (unsigned i = 4; i < 8; i++) {
        CRYP_K(i) = key[i - 4];
    }
    CRYP_CR = cr | CR_CRYPEN;
    uint32_t sr = CRYP_SR;
    uint32_t polls = 0;
    while ((CRYP_SR & SR_BUSY) && polls < POLL_LIMIT) {
        polls++;
    }
    report("key128", sr, polls);
    console_puts("\n");
    CRYP_CR = 0;

    run("aes128", CR_ALGOMODE(ALGO_AES_ECB) | CR_KEYSIZE(0), 4, 4);
    run("aes256", CR_ALGOMODE(ALGO_AES_ECB) | CR_KEYSIZE(2), 0, 4);
    run("tdes", CR_ALGOMODE(ALGO_TDES_ECB), 2, 2);          // K1, K2, K3
    console_puts("done\n");
    for (;;) {
    }
}
