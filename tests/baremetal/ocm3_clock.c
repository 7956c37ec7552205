// The same board brought up as libopencm3 does it (our own code, read from libopencm3's
// lib/stm32/f4/rcc.c, pwr.c, flash.c): rcc_clock_setup_pll(&rcc_hse_25mhz_3v3[168 MHz])
// with word read-modify-writes only, in libopencm3's order (HSI on and selected, HSE on,
// VOS, the prescalers, the PLL, the wait states with ICEN/DCEN, the switch, HSI off).
// Unlike ST's HAL it writes PWR_CR without turning the PWR clock on: on silicon that
// write is lost, as here (the reset value, scale 1, is what it wanted anyway).
// Then rcc_periph_clock_enable, gpio_set/gpio_clear (one BSRR word each),
// rcc_periph_reset_pulse on a GPIO port, and rcc_osc_ready_int_clear (CIR |= flag).
#include "board.h"

#define RCC_CIR             REG(RCC_BASE + 0x0C)
#define RCC_AHB1RSTR        REG(RCC_BASE + 0x10)

#define CR_HSION            (1u << 0)
#define CR_HSIRDY           (1u << 1)
#define CR_HSEON            (1u << 16)
#define CR_HSERDY           (1u << 17)
#define CR_PLLON            (1u << 24)
#define CR_PLLRDY           (1u << 25)

static void report_hex(const char *key, uint32_t value) {
    console_puts(key);
    console_puts(" 0x");
    console_puthex(value, 8);
    console_puts("\n");
}

static void cfgr_field(unsigned shift, uint32_t width_mask, uint32_t value) {
    uint32_t reg32 = RCC_CFGR;
    reg32 &= ~(width_mask << shift);
    RCC_CFGR = reg32 | (value << shift);
}

static void rcc_clock_setup_hse_168(void) {
    uint32_t reg32;

    RCC_CR |= CR_HSION;                                     // rcc_osc_on(RCC_HSI)
    while (!(RCC_CR & CR_HSIRDY)) {
    }
    cfgr_field(0, 3u, 0u);                                  // SYSCLK from HSI
    RCC_CR |= CR_HSEON;                                     // rcc_osc_on(RCC_HSE)
    while (!(RCC_CR & CR_HSERDY)) {
    }
    reg32 = PWR_CR;                                         // pwr_set_vos_scale(SCALE1)
    reg32 &= ~(3u << 14);
    PWR_CR = reg32 | (3u << 14);
    cfgr_field(4, 0xFu, 0u);                                // rcc_set_hpre(DIV_NONE)
    cfgr_field(10, 7u, 5u);                                 // rcc_set_ppre1(DIV_4)
    cfgr_field(13, 7u, 4u);                                 // rcc_set_ppre2(DIV_2)
    // rcc_set_main_pll_hse(25, 336, 2, 7, 0): pllr 0 becomes its reset value 2
    RCC_PLLCFGR = (1u << 22) | 25u | (336u << 6) | (((2u >> 1) - 1u) << 16) | (7u << 24) |
                  (2u << 28);
    RCC_CR |= CR_PLLON;                                     // rcc_osc_on(RCC_PLL)
    while (!(RCC_CR & CR_PLLRDY)) {
    }
    reg32 = FLASH_ACR;                                      // flash_set_ws(ICE|DCE|5WS)
    reg32 &= ~7u;
    reg32 |= (1u << 9) | (1u << 10) | 5u;
    FLASH_ACR = reg32;
    cfgr_field(0, 3u, 2u);                                  // SYSCLK from the PLL
    while (((RCC_CFGR >> 2) & 3u) != 2u) {                  // rcc_wait_for_sysclk_status
    }
    RCC_CR &= ~CR_HSION;                                    // rcc_osc_off(RCC_HSI)
}

int main(void) {
    uint32_t hz;

    rcc_clock_setup_hse_168();
    hz = sysclk_hz();
    systick_init(hz);
    // rcc_periph_clock_enable(RCC_GPIOC), (RCC_USART3): RCC_xENR |= bit
    console_init(hz / 4u);
    console_puts("ocm3_clock: start\n");
    console_puts("sysclk ");
    console_putu(hz);
    console_puts("\n");
    report_hex("rcc_cr", RCC_CR);
    report_hex("rcc_cfgr", RCC_CFGR);
    report_hex("rcc_pllcfgr", RCC_PLLCFGR);
    report_hex("flash_acr", FLASH_ACR);
    RCC_APB1ENR |= 1u << 28;                                // now the PWR clock, to look
    report_hex("pwr_cr", PWR_CR);

    // rcc_osc_ready_int_clear(RCC_HSE), (RCC_PLL): CIR |= the clear bit, word-wide
    report_hex("cir", RCC_CIR);
    RCC_CIR |= 1u << 19;
    RCC_CIR |= 1u << 20;
    report_hex("cir_cleared", RCC_CIR);

    // gpio_mode_setup(GPIOG, OUTPUT, PG6|PG8), gpio_set, gpio_clear
    RCC_AHB1ENR |= 1u << 6;
    GPIO_MODER('G') = (GPIO_MODER('G') & ~((3u << 12) | (3u << 16))) | (1u << 12) | (1u << 16);
    GPIO_BSRR('G') = (1u << 6) | (1u << 8);                 // gpio_set
    report_hex("gpiog_odr_set", GPIO_ODR('G'));
    GPIO_BSRR('G') = (1u << 8) << 16;                       // gpio_clear
    report_hex("gpiog_odr_clear", GPIO_ODR('G'));
    // rcc_periph_reset_pulse(RST_GPIOG): the port back at its reset values
    RCC_AHB1RSTR |= 1u << 6;
    RCC_AHB1RSTR &= ~(1u << 6);
    report_hex("gpiog_moder_after_reset", GPIO_MODER('G'));
    report_hex("gpiog_odr_after_reset", GPIO_ODR('G'));
    console_puts("DONE\n");
    for (;;) {
    }
}
