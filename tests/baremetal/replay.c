// A fixed window of guest time whose console output depends on what --deterministic pins
// down: the seeded RNG (its words) and the instruction-counted clock (how many loop turns
// fit between two SysTick interrupts). Two runs with the same seed print the same bytes;
// another seed prints other words, and without -icount the loop counts follow the host.
// The window ends with "replay: end", then the CPU sleeps with every interrupt off.
#include "board.h"

#define RCC_AHB2ENR   REG(RCC_BASE + 0x34)
#define RNG_CR        REG(0x50060800u)
#define RNG_SR        REG(0x50060804u)
#define RNG_DR        REG(0x50060808u)

#define RNG_WORDS     8u
#define SLICES        10u
#define SLICE_MS      10u

// One word from the RNG (RM0090 24.3.1: wait for DRDY, give up on a seed or clock error).
static bool rng_word(uint32_t *word) {
    for (uint32_t i = 0; i < 100000u; i++) {
        uint32_t sr = RNG_SR;
        if (sr & ((1u << 5) | (1u << 6))) {                 // CEIS, SEIS
            return false;
        }
        if (sr & 1u) {                                      // DRDY
            *word = RNG_DR;
            return true;
        }
    }
    return false;
}

int main(void) {
    const char *failed = clock_init();
    uint32_t hz = sysclk_hz();

    console_init(failed ? 16000000u : hz / 4u);
    console_puts("replay: start\n");
    if (failed) {
        console_puts("clock: timeout waiting for ");
        console_puts(failed);
        console_puts("\n");
    }

    RCC_AHB2ENR |= 1u << 6;                                 // RNGEN clock
    RNG_CR = 1u << 2;                                       // RNGEN
    console_puts("rng:");
    for (uint32_t i = 0; i < RNG_WORDS; i++) {
        uint32_t word;
        console_puts(" ");
        if (rng_word(&word)) {
            console_puthex(word, 8);
        } else {
            console_puts("error");
        }
    }
    console_puts("\n");

    systick_init(failed ? 16000000u : hz);
    uint32_t start = ticks_ms;
    for (uint32_t slice = 1; slice <= SLICES; slice++) {
        uint32_t end = start + slice * SLICE_MS, turns = 0;
        while ((int32_t)(ticks_ms - end) < 0) {
            turns++;
        }
        console_puts("slice ");
        console_putu(slice);
        console_puts(": ");
        console_putu(turns);
        console_puts(" turns, systick ");
        console_putu(SYST_CVR);
        console_puts("\n");
    }
    SYST_CSR = 0;
    console_puts("replay: end after ");
    console_putu(ticks_ms - start);
    console_puts(" ms\n");
    for (;;) {
        __asm__ volatile("cpsid i\n\twfi");
    }
}
