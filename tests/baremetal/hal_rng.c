// The RNG driven as ST's HAL drives it (our own code): HAL_RNG_Init (clock enable with
// its read-back, RNGEN), HAL_RNG_GenerateRandomNumber (DRDY polled against a 2 ms
// timeout, then DR), the SECS/CECS status and SEIS/CEIS flags checked, and the recovery
// RM0090 24.3.2 prescribes (clear SEIS, RNGEN off then on). The test injects the faults
// over QMP between the steps: "STEP <name>" waits for 'n'.
#include "board.h"

#define RCC_AHB2ENR     REG(RCC_BASE + 0x34)
#define RNG_CR          REG(0x50060800u)
#define RNG_SR          REG(0x50060804u)
#define RNG_DR          REG(0x50060808u)
#define CR_RNGEN        (1u << 2)
#define SR_DRDY         (1u << 0)
#define SR_CECS         (1u << 1)
#define SR_SECS         (1u << 2)
#define SR_CEIS         (1u << 5)
#define SR_SEIS         (1u << 6)
#define RNG_TIMEOUT_MS  2u

static void report_sr(const char *key) {
    uint32_t sr = RNG_SR;
    console_puts(key);
    console_puts(" DRDY=");
    console_putu(sr & SR_DRDY ? 1 : 0);
    console_puts(" CECS=");
    console_putu(sr & SR_CECS ? 1 : 0);
    console_puts(" SECS=");
    console_putu(sr & SR_SECS ? 1 : 0);
    console_puts(" CEIS=");
    console_putu(sr & SR_CEIS ? 1 : 0);
    console_puts(" SEIS=");
    console_putu(sr & SR_SEIS ? 1 : 0);
    console_puts("\n");
}

// HAL_RNG_GenerateRandomNumber; false on timeout or an error status
static bool generate(uint32_t *out) {
    uint32_t start = ticks_ms;
    while (!(RNG_SR & SR_DRDY)) {
        if (ticks_ms - start > RNG_TIMEOUT_MS) {
            return false;
        }
    }
    if (RNG_SR & (SR_SECS | SR_CECS)) {
        return false;
    }
    *out = RNG_DR;
    return true;
}

static void generate_and_report(const char *key, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        uint32_t w;
        console_puts(key);
        if (generate(&w)) {
            console_puts(" 0x");
            console_puthex(w, 8);
            console_puts("\n");
        } else {
            console_puts(" error\n");
        }
    }
}

static void step(const char *name) {
    console_puts("STEP ");
    console_puts(name);
    console_puts("\n");
    while (console_waitc() != 'n') {
    }
}

int main(void) {
    volatile uint32_t tmp;
    uint32_t w;

    systick_init(16000000u);
    console_init(16000000u);
    console_puts("hal_rng: start\n");

    // HAL_RNG_Init: HAL_RNG_MspInit enables the clock, then __HAL_RNG_ENABLE
    RCC_AHB2ENR |= 1u << 6;
    tmp = RCC_AHB2ENR & (1u << 6);
    (void)tmp;
    RNG_CR |= CR_RNGEN;
    generate_and_report("rng", 8);

    step("seed_fault");                                     // the test sets seed-error
    console_puts("generate ");
    console_puts(generate(&w) ? "ok\n" : "failed\n");
    report_sr("seed_error");

    step("seed_recover");                                   // the test clears seed-error
    RNG_SR = ~SR_SEIS;                                      // __HAL_RNG_CLEAR_IT(SEI)
    RNG_CR &= ~CR_RNGEN;
    RNG_CR |= CR_RNGEN;
    report_sr("recovered");
    generate_and_report("rng", 4);

    step("clock_fault");                                    // the test sets clock-error
    report_sr("clock_error");
    step("clock_recover");                                  // the test clears it
    RNG_SR = ~SR_CEIS;                                      // __HAL_RNG_CLEAR_IT(CEI)
    report_sr("clock_recovered");
    generate_and_report("rng", 2);

    console_puts("DONE\n");
    for (;;) {
    }
}
