// The clock bring-up and HASH use of an STM32CubeF4 application on the STM324xG-EVAL,
// register by register: what ST's SystemClock_Config does through HAL_RCC_OscConfig and
// HAL_RCC_ClockConfig (HSE 25 MHz, PLL M=25 N=336 P=2 Q=7, flash latency 5, APB1 /4,
// APB2 /2), with the access widths of the HAL generation ST's SSL applications were
// built with: HSE through a byte write to RCC_CR+2, PLLON through its bit-band alias,
// the latency through a byte write to FLASH_ACR, the application's ready interrupts
// through the bytes of RCC_CIR. Then three digests as HAL_HASH_MD5_Start,
// HAL_HASH_SHA1_Start and HAL_HMAC_SHA1_Start compute them, each after HAL_HASH_DeInit
// (RCC_AHB2RSTR.HASHRST pulse, clock off) and HAL_HASH_Init (clock on), the algorithm
// ORed into HASH_CR: right only if the reset pulse cleared the previous one.
// Our own code; the results go to USART3 for tests/test_fidelity.py to check.
#include "board.h"

#define RCC_CR_ADDR         (RCC_BASE + 0x00)
#define RCC_CIR_ADDR        (RCC_BASE + 0x0C)
#define RCC_CIR             REG(RCC_CIR_ADDR)
#define RCC_AHB2RSTR        REG(RCC_BASE + 0x14)
#define RCC_AHB2ENR         REG(RCC_BASE + 0x34)
#define FLASH_ACR_ADDR      0x40023C00u
#define DBGMCU_IDCODE       REG(0xE0042000u)
#define USART3_BRR_ADDR     (USART3_BASE + 0x08)

#define CR_HSERDY           (1u << 17)
#define CR_PLLRDY           (1u << 25)
#define CR_PLLON_BIT        24u
#define CIR_HSERDY          0x08u           // flag (byte 0), enable (byte 1), clear (byte 2)
#define CIR_PLLRDY          0x10u
#define ACR_LATENCY         0x7u
#define ACR_PRFTEN          (1u << 8)
#define ACR_ICEN            (1u << 9)
#define ACR_DCEN            (1u << 10)
#define PWR_CR_VOS          (1u << 14)
#define APB1ENR_PWREN       (1u << 28)
#define AHB2_HASH           (1u << 5)

#define HASH_BASE           0x50060400u
#define HASH_CR             REG(HASH_BASE + 0x00)
#define HASH_DIN            REG(HASH_BASE + 0x04)
#define HASH_STR            REG(HASH_BASE + 0x08)
#define HASH_HR(i)          REG(HASH_BASE + 0x0C + 4u * (i))
#define HASH_SR             REG(HASH_BASE + 0x24)
#define HASH_CR_INIT        (1u << 2)
#define HASH_CR_DATATYPE_8B (2u << 4)
#define HASH_CR_MODE_HMAC   (1u << 6)
#define HASH_CR_ALGO_MD5    (1u << 7)
#define HASH_CR_ALGO_SHA1   0u
#define HASH_STR_NBLW       0x1Fu
#define HASH_STR_DCAL       (1u << 8)
#define HASH_SR_DCIS        (1u << 1)
#define HASH_SR_BUSY        (1u << 3)

// The HAL's timeouts, in ms of its SysTick time base
#define HSE_TIMEOUT_MS      100u
#define PLL_TIMEOUT_MS      2u
#define SWITCH_TIMEOUT_MS   5000u
#define HASH_TIMEOUT_MS     1000u

static uint32_t failures;

static void fail(const char *what) {
    failures++;
    console_puts("FAIL ");
    console_puts(what);
    console_puts("\n");
}

static void report_hex(const char *key, uint32_t value) {
    console_puts(key);
    console_puts(" 0x");
    console_puthex(value, 8);
    console_puts("\n");
}

static void report_u(const char *key, uint32_t value) {
    console_puts(key);
    console_puts(" ");
    console_putu(value);
    console_puts("\n");
}

// Poll a flag against the SysTick time base, as the HAL's ready-flag loops do
static bool wait_flag(volatile uint32_t *reg, uint32_t mask, bool set, uint32_t ms) {
    uint32_t start = ticks_ms;
    while (((*reg & mask) != 0) != set) {
        if (ticks_ms - start > ms) {
            return false;
        }
    }
    return true;
}

// SystemClock_Config: PWR scale 1, HAL_RCC_OscConfig, HAL_RCC_ClockConfig
static bool system_clock_config(void) {
    volatile uint32_t tmp;
    uint32_t start;

    // __HAL_RCC_PWR_CLK_ENABLE, with its read-back delay
    RCC_APB1ENR |= APB1ENR_PWREN;
    tmp = RCC_APB1ENR & APB1ENR_PWREN;
    // __HAL_PWR_VOLTAGESCALING_CONFIG(PWR_REGULATOR_VOLTAGE_SCALE1)
    PWR_CR = (PWR_CR & ~PWR_CR_VOS) | PWR_CR_VOS;
    tmp = PWR_CR & PWR_CR_VOS;
    (void)tmp;

    // HAL_RCC_OscConfig, HSE: the system does not run from it, so off first, then on
    if (((RCC_CFGR >> 2) & 3u) != 1u &&
        !(((RCC_CFGR >> 2) & 3u) == 2u && (RCC_PLLCFGR & (1u << 22)))) {
        REG8(RCC_CR_ADDR + 2) = 0x00;                       // __HAL_RCC_HSE_CONFIG(OFF)
        if (!wait_flag(&RCC_CR, CR_HSERDY, false, HSE_TIMEOUT_MS)) {
            fail("HSE off");
            return false;
        }
        REG8(RCC_CR_ADDR + 2) = 0x01;                       // __HAL_RCC_HSE_CONFIG(ON)
        if (!wait_flag(&RCC_CR, CR_HSERDY, true, HSE_TIMEOUT_MS)) {
            fail("HSE ready");
            return false;
        }
    }
    // PLL: not the system clock, so disable, configure, enable (bit-band PLLON)
    if (((RCC_CFGR >> 2) & 3u) != 2u) {
        BITBAND(RCC_CR_ADDR, CR_PLLON_BIT) = 0;            // __HAL_RCC_PLL_DISABLE
        if (!wait_flag(&RCC_CR, CR_PLLRDY, false, PLL_TIMEOUT_MS)) {
            fail("PLL off");
            return false;
        }
        RCC_PLLCFGR = (1u << 22) | 25u | (336u << 6) | (((2u >> 1) - 1u) << 16) | (7u << 24);
        BITBAND(RCC_CR_ADDR, CR_PLLON_BIT) = 1;            // __HAL_RCC_PLL_ENABLE
        if (!wait_flag(&RCC_CR, CR_PLLRDY, true, PLL_TIMEOUT_MS)) {
            fail("PLL ready");
            return false;
        }
    }

    // HAL_RCC_ClockConfig(&clk, FLASH_LATENCY_5): more wait states first, by a byte write
    if (5u > (FLASH_ACR & ACR_LATENCY)) {
        REG8(FLASH_ACR_ADDR) = 5u;                          // __HAL_FLASH_SET_LATENCY
        if ((FLASH_ACR & ACR_LATENCY) != 5u) {
            fail("FLASH latency");
            return false;
        }
    }
    // the highest APB dividers while HCLK changes, then HCLK = SYSCLK
    RCC_CFGR = (RCC_CFGR & ~(7u << 10)) | (7u << 10);
    RCC_CFGR = (RCC_CFGR & ~(7u << 13)) | (7u << 13);
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (0u << 4);
    if (!(RCC_CR & CR_PLLRDY)) {
        fail("PLL not ready for the switch");
        return false;
    }
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;                       // __HAL_RCC_SYSCLK_CONFIG(PLL)
    start = ticks_ms;
    while (((RCC_CFGR >> 2) & 3u) != 2u) {                  // SWS follows SW
        if (ticks_ms - start > SWITCH_TIMEOUT_MS) {
            fail("SWS PLL");
            return false;
        }
    }
    RCC_CFGR = (RCC_CFGR & ~(7u << 10)) | (5u << 10);       // APB1 /4
    RCC_CFGR = (RCC_CFGR & ~(7u << 13)) | (4u << 13);       // APB2 /2
    return true;
}

// --- HASH as HAL_HASH_* drive it -------------------------------------------------------

static void hash_msp_init(void) {
    volatile uint32_t tmp;
    RCC_AHB2ENR |= AHB2_HASH;                               // __HAL_RCC_HASH_CLK_ENABLE
    tmp = RCC_AHB2ENR & AHB2_HASH;
    (void)tmp;
}

static void hal_hash_init(void) {
    hash_msp_init();
    HASH_CR |= HASH_CR_DATATYPE_8B;                         // relies on CR's reset value
}

static void hal_hash_deinit(void) {
    RCC_AHB2RSTR |= AHB2_HASH;                              // __HAL_RCC_HASH_FORCE_RESET
    RCC_AHB2RSTR &= ~AHB2_HASH;                             // __HAL_RCC_HASH_RELEASE_RESET
    RCC_AHB2ENR &= ~AHB2_HASH;                              // __HAL_RCC_HASH_CLK_DISABLE
}

// One HAL phase: the valid bits of the last word, the words, DCAL, wait while BUSY
static bool hash_phase(const uint8_t *data, uint32_t len) {
    HASH_STR &= ~HASH_STR_NBLW;                             // __HAL_HASH_SET_NBVALIDBITS
    HASH_STR |= 8u * (len % 4u);
    for (uint32_t i = 0; i < len; i += 4) {
        HASH_DIN = *(const uint32_t *)(data + i);           // whole words, as the HAL
    }
    HASH_STR |= HASH_STR_DCAL;                              // __HAL_HASH_START_DIGEST
    return wait_flag(&HASH_SR, HASH_SR_BUSY, false, HASH_TIMEOUT_MS);
}

static bool hash_read_digest(uint8_t *out, uint32_t words) {
    if (!(HASH_SR & HASH_SR_DCIS)) {
        return false;
    }
    for (uint32_t i = 0; i < words; i++) {
        uint32_t w = HASH_HR(i);
        out[4 * i] = (uint8_t)(w >> 24);
        out[4 * i + 1] = (uint8_t)(w >> 16);
        out[4 * i + 2] = (uint8_t)(w >> 8);
        out[4 * i + 3] = (uint8_t)w;
    }
    return true;
}

// HAL_HASH_xxx_Start: CR |= ALGO | INIT, then the message
static bool hal_hash_start(uint32_t algo, const uint8_t *msg, uint32_t len, uint8_t *out,
                           uint32_t words) {
    HASH_CR |= algo | HASH_CR_INIT;
    return hash_phase(msg, len) && hash_read_digest(out, words);
}

// HAL_HMAC_xxx_Start: CR |= ALGO | MODE | INIT, then key, message, key
static bool hal_hmac_start(uint32_t algo, const uint8_t *key, uint32_t key_len,
                           const uint8_t *msg, uint32_t len, uint8_t *out, uint32_t words) {
    HASH_CR |= algo | HASH_CR_MODE_HMAC | HASH_CR_INIT;
    return hash_phase(key, key_len) && hash_phase(msg, len) && hash_phase(key, key_len) &&
           hash_read_digest(out, words);
}

static void report_digest(const char *name, const uint8_t *digest, uint32_t len) {
    console_puts(name);
    console_puts(" ");
    console_putbytes(digest, len);
    console_puts("\n");
}

// Whole words are read past the end, as the HAL does: keep the buffers padded
static const uint8_t message[48] __attribute__((aligned(4))) =
    "The quick brown fox jumps over the lazy dog";
#define MESSAGE_LEN 43u
static const uint8_t hmac_key[4] __attribute__((aligned(4))) = "key";
#define HMAC_KEY_LEN 3u

int main(void) {
    uint8_t digest[20];
    uint32_t hclk;
    bool clocks;

    // HAL_Init: caches and prefetch through read-modify-writes of FLASH_ACR, SysTick 1 ms
    FLASH_ACR |= ACR_ICEN;
    FLASH_ACR |= ACR_DCEN;
    FLASH_ACR |= ACR_PRFTEN;
    systick_init(16000000u);
    console_init(16000000u);
    console_puts("hal_clock_hash: start\n");

    // The application wants the ready interrupts: __HAL_RCC_ENABLE_IT ORs into CIR byte 1
    REG8(RCC_CIR_ADDR + 1) |= CIR_HSERDY | CIR_PLLRDY;

    clocks = system_clock_config();
    hclk = sysclk_hz();
    systick_init(hclk);                                     // HAL_InitTick
    // ST's examples: prefetch only on revision Z (HAL_GetREVID() == 0x1001)
    if ((DBGMCU_IDCODE >> 16) == 0x1001u) {
        FLASH_ACR |= ACR_PRFTEN;
    }
    // BSP_COM_Init after the clock change: the baud rate from the new PCLK1
    REG(USART3_BRR_ADDR) = (hclk / 4u + 115200u / 2u) / 115200u;

    report_u("sysclk", hclk);
    report_u("pclk1", hclk >> 2);
    report_u("pclk2", hclk >> 1);
    report_hex("rcc_cr", RCC_CR);
    report_hex("rcc_cfgr", RCC_CFGR);
    report_hex("rcc_pllcfgr", RCC_PLLCFGR);
    report_hex("flash_acr", FLASH_ACR);
    report_hex("pwr_cr", PWR_CR);
    report_hex("idcode", DBGMCU_IDCODE);

    // __HAL_RCC_GET_IT then __HAL_RCC_CLEAR_IT: a byte to CIR+2 per flag
    report_hex("cir", RCC_CIR);
    REG8(RCC_CIR_ADDR + 2) = CIR_HSERDY;
    report_hex("cir_hse_cleared", RCC_CIR);
    REG8(RCC_CIR_ADDR + 2) = CIR_PLLRDY;
    report_hex("cir_pll_cleared", RCC_CIR);
    if (!clocks) {
        fail("clock configuration");
    }

    // MD5, then SHA-1 and HMAC-SHA-1, each after DeInit/Init
    hal_hash_init();
    if (hal_hash_start(HASH_CR_ALGO_MD5, message, MESSAGE_LEN, digest, 4)) {
        report_digest("md5", digest, 16);
    } else {
        fail("md5");
    }
    report_hex("hash_cr_md5", HASH_CR);
    hal_hash_deinit();
    hal_hash_init();
    report_hex("hash_cr_after_reset", HASH_CR);
    if (hal_hash_start(HASH_CR_ALGO_SHA1, message, MESSAGE_LEN, digest, 5)) {
        report_digest("sha1", digest, 20);
    } else {
        fail("sha1");
    }
    hal_hash_deinit();
    hal_hash_init();
    if (hal_hmac_start(HASH_CR_ALGO_SHA1, hmac_key, HMAC_KEY_LEN, message, MESSAGE_LEN,
                       digest, 5)) {
        report_digest("hmac_sha1", digest, 20);
    } else {
        fail("hmac_sha1");
    }
    hal_hash_deinit();
    report_hex("hash_clock_off_cr", HASH_CR);               // clock off: reads 0

    report_u("failures", failures);
    console_puts("DONE\n");
    for (;;) {
    }
}
