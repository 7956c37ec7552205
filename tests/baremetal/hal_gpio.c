// The STM324xG-EVAL's LEDs and push-buttons driven as three generations of ST's drivers
// drive them, register by register (our own code):
//  - HAL_GPIO_WritePin of today's HAL: one word to BSRR (set) or BSRR << 16 (reset);
//  - HAL_GPIO_WritePin of the first STM32CubeF4 HAL: half-words to BSRRL (0x18) and
//    BSRRH (0x1A);
//  - StdPeriph GPIO_SetBits/GPIO_ResetBits (BSRRL/BSRRH) and GPIO_ToggleBits (ODR ^=);
//  - HAL_GPIO_TogglePin (BSRR from ODR), HAL_GPIO_ReadPin (IDR);
//  - BSP_LED_Init (HAL_GPIO_Init: OSPEEDR, OTYPER, PUPDR, MODER read-modify-writes) and
//    BSP_PB_Init in EXTI mode (SYSCFG_EXTICR, EXTI IMR/EMR/RTSR/FTSR, NVIC).
// After each step it prints "STEP <name> ..." and waits for 'n' while the test reads the
// LEDs over QMP; the buttons, pressed over QMP, are reported from their EXTI handlers.
#include "board.h"

#define GPIO_OSPEEDR(p)     REG(GPIO(p) + 0x08)
#define GPIO_OTYPER(p)      REG(GPIO(p) + 0x04)
#define GPIO_PUPDR(p)       REG(GPIO(p) + 0x0C)
#define GPIO_IDR(p)         REG(GPIO(p) + 0x10)
#define GPIO_BSRRL(p)       REG16(GPIO(p) + 0x18)
#define GPIO_BSRRH(p)       REG16(GPIO(p) + 0x1A)
#define RCC_APB2ENR         REG(RCC_BASE + 0x44)
#define SYSCFG_EXTICR(n)    REG(0x40013808u + 4u * (n))
#define EXTI_IMR            REG(0x40013C00u)
#define EXTI_EMR            REG(0x40013C04u)
#define EXTI_RTSR           REG(0x40013C08u)
#define EXTI_FTSR           REG(0x40013C0Cu)
#define EXTI_PR             REG(0x40013C14u)
#define NVIC_ISER(n)        REG(0xE000E100u + 4u * (n))

#define LED1_PORT 'G'
#define LED1_PIN  (1u << 6)
#define LED2_PORT 'G'
#define LED2_PIN  (1u << 8)
#define LED3_PORT 'I'
#define LED3_PIN  (1u << 9)
#define LED4_PORT 'C'
#define LED4_PIN  (1u << 7)
#define KEY_PORT  'G'
#define KEY_PIN   15u
#define WAKEUP_PORT 'A'
#define WAKEUP_PIN 0u

static volatile uint32_t key_events, wakeup_events;

// HAL_GPIO_Init for one output pin, push-pull, pull-up, fast (BSP_LED_Init)
static void bsp_led_init(char port, uint32_t pin_mask) {
    uint32_t pos = 0;
    volatile uint32_t tmp;

    while (!(pin_mask & (1u << pos))) {
        pos++;
    }
    RCC_AHB1ENR |= 1u << (port - 'A');                       // __HAL_RCC_GPIOx_CLK_ENABLE
    tmp = RCC_AHB1ENR;
    (void)tmp;
    GPIO_OSPEEDR(port) = (GPIO_OSPEEDR(port) & ~(3u << (2 * pos))) | (2u << (2 * pos));
    GPIO_OTYPER(port) &= ~(1u << pos);
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (2 * pos))) | (1u << (2 * pos));
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2 * pos))) | (1u << (2 * pos));
}

// Today's HAL_GPIO_WritePin
static void hal_write_pin(char port, uint32_t pin, bool set) {
    GPIO_BSRR(port) = set ? pin : pin << 16;
}

// The first STM32CubeF4 HAL_GPIO_WritePin: BSRRL / BSRRH half-words
static void hal_v1_write_pin(char port, uint32_t pin, bool set) {
    if (set) {
        GPIO_BSRRL(port) = (uint16_t)pin;
    } else {
        GPIO_BSRRH(port) = (uint16_t)pin;
    }
}

// StdPeriph
static void spl_set_bits(char port, uint32_t pins) {
    GPIO_BSRRL(port) = (uint16_t)pins;
}

static void spl_reset_bits(char port, uint32_t pins) {
    GPIO_BSRRH(port) = (uint16_t)pins;
}

static void spl_toggle_bits(char port, uint32_t pins) {
    GPIO_ODR(port) ^= pins;
}

// Today's HAL_GPIO_TogglePin: one BSRR word from ODR
static void hal_toggle_pin(char port, uint32_t pin) {
    uint32_t odr = GPIO_ODR(port);
    GPIO_BSRR(port) = ((odr & pin) << 16) | (~odr & pin);
}

static uint32_t hal_read_pin(char port, uint32_t pin) {
    return (GPIO_IDR(port) & (1u << pin)) ? 1u : 0u;
}

static void step(const char *name) {
    console_puts("STEP ");
    console_puts(name);
    console_puts(" G=0x");
    console_puthex(GPIO_ODR('G'), 4);
    console_puts(" I=0x");
    console_puthex(GPIO_ODR('I'), 4);
    console_puts(" C=0x");
    console_puthex(GPIO_ODR('C'), 4);
    console_puts("\n");
    while (console_waitc() != 'n') {
    }
}

// BSP_PB_Init(button, BUTTON_MODE_EXTI): input, no pull (the board has its own), EXTI
// through SYSCFG on the given edge, NVIC line enabled
static void button_exti_init(char port, uint32_t pin, bool rising, uint32_t irq) {
    uint32_t bit = 1u << pin, reg;
    volatile uint32_t tmp;

    RCC_AHB1ENR |= 1u << (port - 'A');
    tmp = RCC_AHB1ENR;
    GPIO_MODER(port) &= ~(3u << (2 * pin));
    GPIO_PUPDR(port) &= ~(3u << (2 * pin));
    RCC_APB2ENR |= 1u << 14;                                 // __HAL_RCC_SYSCFG_CLK_ENABLE
    tmp = RCC_APB2ENR;
    (void)tmp;
    reg = SYSCFG_EXTICR(pin / 4);
    reg &= ~(0xFu << (4 * (pin % 4)));
    reg |= (uint32_t)(port - 'A') << (4 * (pin % 4));
    SYSCFG_EXTICR(pin / 4) = reg;
    EXTI_IMR |= bit;
    EXTI_EMR &= ~bit;
    if (rising) {
        EXTI_RTSR |= bit;
        EXTI_FTSR &= ~bit;
    } else {
        EXTI_RTSR &= ~bit;
        EXTI_FTSR |= bit;
    }
    NVIC_ISER(irq / 32) = 1u << (irq % 32);
}

// HAL_GPIO_EXTI_IRQHandler: the pending bit is write-1-to-clear
void exti15_10_handler(void) {
    if (EXTI_PR & (1u << KEY_PIN)) {
        EXTI_PR = 1u << KEY_PIN;
        key_events++;
    }
}

void exti0_handler(void) {
    if (EXTI_PR & (1u << WAKEUP_PIN)) {
        EXTI_PR = 1u << WAKEUP_PIN;
        wakeup_events++;
    }
}

int main(void) {
    uint32_t keys = 0, wakeups = 0;

    systick_init(16000000u);
    console_init(16000000u);
    console_puts("hal_gpio: start\n");
    bsp_led_init(LED1_PORT, LED1_PIN);
    bsp_led_init(LED2_PORT, LED2_PIN);
    bsp_led_init(LED3_PORT, LED3_PIN);
    bsp_led_init(LED4_PORT, LED4_PIN);
    step("init");

    hal_write_pin(LED1_PORT, LED1_PIN, true);
    hal_write_pin(LED3_PORT, LED3_PIN, true);
    step("hal_bsrr_set");
    hal_write_pin(LED1_PORT, LED1_PIN, false);
    step("hal_bsrr_reset");

    hal_v1_write_pin(LED2_PORT, LED2_PIN, true);
    hal_v1_write_pin(LED4_PORT, LED4_PIN, true);
    step("hal_bsrrl_set");
    hal_v1_write_pin(LED2_PORT, LED2_PIN, false);
    step("hal_bsrrh_reset");

    spl_set_bits('G', LED1_PIN | LED2_PIN);
    step("spl_set_bits");
    spl_reset_bits('G', LED1_PIN | LED2_PIN);
    spl_reset_bits(LED3_PORT, LED3_PIN);
    spl_reset_bits(LED4_PORT, LED4_PIN);
    step("spl_reset_bits");

    hal_toggle_pin(LED4_PORT, LED4_PIN);
    step("hal_toggle");
    spl_toggle_bits(LED4_PORT, LED4_PIN);
    step("spl_toggle");

    // BSP_PB_Init: Key (PG15) on its falling edge, Wakeup (PA0) on its rising edge
    button_exti_init(KEY_PORT, KEY_PIN, false, 40);
    button_exti_init(WAKEUP_PORT, WAKEUP_PIN, true, 6);
    console_puts("buttons key=");
    console_putu(hal_read_pin(KEY_PORT, KEY_PIN));
    console_puts(" wakeup=");
    console_putu(hal_read_pin(WAKEUP_PORT, WAKEUP_PIN));
    console_puts("\n");
    for (;;) {
        char c;
        if (key_events != keys) {
            keys = key_events;
            console_puts("EXTI key level=");
            console_putu(hal_read_pin(KEY_PORT, KEY_PIN));
            console_puts(" count=");
            console_putu(keys);
            console_puts("\n");
        }
        if (wakeup_events != wakeups) {
            wakeups = wakeup_events;
            console_puts("EXTI wakeup level=");
            console_putu(hal_read_pin(WAKEUP_PORT, WAKEUP_PIN));
            console_puts(" count=");
            console_putu(wakeups);
            console_puts("\n");
        }
        if (console_getc(&c) && c == 'q') {
            break;
        }
    }
    console_puts("DONE\n");
    for (;;) {
    }
}
