// HAL_ETH_Init of the STM32CubeF4 HAL generation ST's SSL applications use, with the
// STM324xG-EVAL's DP83848 at MDIO address 1, register by register (our own code):
// HAL_ETH_MspInit (MAC clocks with their read-back, the MII pins as AF11, MCO1 = HSE for
// the PHY), SYSCFG_PMC MII select, the DMABMR.SR software reset and its wait, the MDC
// clock range from HCLK in MACMIIAR, PHY reset through BCR, the link and
// auto-negotiation waits on BSR, the speed and duplex from the DP83848's PHYSTS, and the
// MACCR write the HAL does twice. The report goes to USART3.
#include "board.h"

#define RCC_AHB1ENR_ETH     ((1u << 25) | (1u << 26) | (1u << 27))
#define RCC_APB2ENR         REG(RCC_BASE + 0x44)
#define SYSCFG_PMC          REG(0x40013804u)
#define PMC_MII_RMII_SEL    (1u << 23)
#define GPIO_OSPEEDR(p)     REG(GPIO(p) + 0x08)
#define GPIO_AFRL(p)        REG(GPIO(p) + 0x20)

#define ETH_BASE            0x40028000u
#define ETH_MACCR           REG(ETH_BASE + 0x0000)
#define ETH_MACMIIAR        REG(ETH_BASE + 0x0010)
#define ETH_MACMIIDR        REG(ETH_BASE + 0x0014)
#define ETH_DMABMR          REG(ETH_BASE + 0x1000)
#define DMABMR_SR           (1u << 0)
#define MIIAR_MB            (1u << 0)
#define MIIAR_MW            (1u << 1)
#define MIIAR_CR_MASK       0xFFFFFFE3u         // the HAL's mask: keeps CR only when inverted
#define MIIAR_CR_DIV102     (4u << 2)           // HCLK 150..168 MHz
#define MACCR_CLEAR_MASK    0xFF20810Fu

#define PHY_ADDRESS         1u
#define PHY_BCR             0u
#define PHY_BSR             1u
#define PHY_IDR1            2u
#define PHY_IDR2            3u
#define PHY_SR              0x10u               // DP83848 PHYSTS
#define PHY_RESET           0x8000u
#define PHY_AUTONEGOTIATION 0x1000u
#define PHY_LINKED_STATUS   0x0004u
#define PHY_AUTONEGO_DONE   0x0020u
#define PHY_SPEED_STATUS    0x0002u             // PHYSTS: 1 = 10 Mb/s
#define PHY_DUPLEX_STATUS   0x0004u             // PHYSTS: 1 = full duplex

#define SWRESET_TIMEOUT_MS  500u
#define LINK_TIMEOUT_MS     5000u
#define PHY_RESET_DELAY_MS  0xFFu
#define PHY_TIMEOUT         0xFFFFu             // PHY_READ_TO / PHY_WRITE_TO: ticks

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

static void delay_ms(uint32_t ms) {
    uint32_t start = ticks_ms;
    while (ticks_ms - start < ms) {
    }
}

// HAL_ETH_ReadPHYRegister
static bool phy_read(uint32_t reg, uint32_t *value) {
    uint32_t start = ticks_ms;
    uint32_t miiar = ETH_MACMIIAR;
    miiar &= ~MIIAR_CR_MASK;
    miiar |= (PHY_ADDRESS << 11) & 0xF800u;
    miiar |= (reg << 6) & 0x07C0u;
    miiar &= ~MIIAR_MW;
    miiar |= MIIAR_MB;
    ETH_MACMIIAR = miiar;
    while (miiar & MIIAR_MB) {
        if (ticks_ms - start > PHY_TIMEOUT) {
            return false;
        }
        miiar = ETH_MACMIIAR;
    }
    *value = (uint16_t)ETH_MACMIIDR;
    return true;
}

// HAL_ETH_WritePHYRegister
static bool phy_write(uint32_t reg, uint32_t value) {
    uint32_t start = ticks_ms;
    uint32_t miiar = ETH_MACMIIAR;
    miiar &= ~MIIAR_CR_MASK;
    miiar |= (PHY_ADDRESS << 11) & 0xF800u;
    miiar |= (reg << 6) & 0x07C0u;
    miiar |= MIIAR_MW | MIIAR_MB;
    ETH_MACMIIDR = (uint16_t)value;
    ETH_MACMIIAR = miiar;
    while (miiar & MIIAR_MB) {
        if (ticks_ms - start > PHY_TIMEOUT) {
            return false;
        }
        miiar = ETH_MACMIIAR;
    }
    return true;
}

static bool phy_wait(uint32_t reg, uint32_t mask, uint32_t ms) {
    uint32_t start = ticks_ms, value = 0;
    do {
        if (!phy_read(reg, &value)) {
            return false;
        }
        if (ticks_ms - start > ms) {
            return false;
        }
    } while (!(value & mask));
    return true;
}

// HAL_GPIO_Init for an MII pin: alternate function 11, very high speed, no pull
static void mii_pin(char port, uint32_t pin) {
    volatile uint32_t *afr = pin < 8 ? &GPIO_AFRL(port) : &GPIO_AFRH(port);
    *afr = (*afr & ~(0xFu << (4 * (pin % 8)))) | (11u << (4 * (pin % 8)));
    GPIO_OSPEEDR(port) |= 3u << (2 * pin);
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2 * pin))) | (2u << (2 * pin));
}

static void hal_eth_msp_init(void) {
    static const struct {
        char port;
        uint8_t pin;
    } pins[] = {
        {'A', 1}, {'A', 2}, {'A', 7}, {'B', 8}, {'C', 1}, {'C', 2}, {'C', 3}, {'C', 4},
        {'C', 5}, {'G', 11}, {'G', 13}, {'G', 14}, {'H', 6}, {'H', 7}, {'I', 10},
    };
    volatile uint32_t tmp;

    RCC_AHB1ENR |= (1u << 0) | (1u << 1) | (1u << 2) | (1u << 6) | (1u << 7) | (1u << 8);
    tmp = RCC_AHB1ENR;
    for (unsigned i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
        mii_pin(pins[i].port, pins[i].pin);
    }
    // MCO1 on PA8 (AF0) carries HSE, 25 MHz, to the PHY: HAL_RCC_MCOConfig
    GPIO_MODER('A') = (GPIO_MODER('A') & ~(3u << 16)) | (2u << 16);
    RCC_CFGR = (RCC_CFGR & ~((3u << 21) | (7u << 24))) | (2u << 21);
    RCC_AHB1ENR |= RCC_AHB1ENR_ETH;                          // __HAL_RCC_ETH_CLK_ENABLE
    tmp = RCC_AHB1ENR & RCC_AHB1ENR_ETH;
    (void)tmp;
}

int main(void) {
    const char *clock_failed = clock_init();
    uint32_t hz = sysclk_hz(), value = 0, maccr, phy_sr = 0;
    volatile uint32_t tmp;
    uint32_t start;
    bool full_duplex, mb100;

    systick_init(hz);
    console_init(clock_failed ? 16000000u : hz / 4u);
    console_puts("hal_eth: start\n");
    if (clock_failed) {
        fail(clock_failed);
    }

    hal_eth_msp_init();

    // HAL_ETH_Init: SYSCFG clock, MII selected in PMC (the MAC must be in reset or off)
    RCC_APB2ENR |= 1u << 14;
    tmp = RCC_APB2ENR;
    (void)tmp;
    SYSCFG_PMC &= ~PMC_MII_RMII_SEL;
    SYSCFG_PMC |= 0u;                                        // ETH_MEDIA_INTERFACE_MII
    report_hex("pmc", SYSCFG_PMC);

    ETH_DMABMR |= DMABMR_SR;                                 // software reset of MAC + DMA
    start = ticks_ms;
    while (ETH_DMABMR & DMABMR_SR) {
        if (ticks_ms - start > SWRESET_TIMEOUT_MS) {
            fail("DMABMR.SR stuck");
            break;
        }
    }
    report_hex("dmabmr", ETH_DMABMR);

    // MDC clock range for HCLK, keeping the other MACMIIAR bits
    value = ETH_MACMIIAR;
    value &= MIIAR_CR_MASK;
    value |= MIIAR_CR_DIV102;
    ETH_MACMIIAR = value;
    report_hex("macmiiar", ETH_MACMIIAR);

    if (!phy_write(PHY_BCR, PHY_RESET)) {
        fail("PHY reset write");
    }
    delay_ms(PHY_RESET_DELAY_MS);
    if (phy_read(PHY_IDR1, &value)) {
        report_hex("phy_id1", value);
    }
    if (phy_read(PHY_IDR2, &value)) {
        report_hex("phy_id2", value);
    }
    if (!phy_wait(PHY_BSR, PHY_LINKED_STATUS, LINK_TIMEOUT_MS)) {
        fail("link");
    } else {
        console_puts("link up\n");
    }
    if (!phy_write(PHY_BCR, PHY_AUTONEGOTIATION)) {
        fail("auto-negotiation write");
    }
    if (!phy_wait(PHY_BSR, PHY_AUTONEGO_DONE, LINK_TIMEOUT_MS)) {
        fail("auto-negotiation");
    } else {
        console_puts("autoneg complete\n");
    }
    if (phy_read(PHY_BSR, &value)) {
        report_hex("phy_bsr", value);
    }
    if (!phy_read(PHY_SR, &phy_sr)) {
        fail("PHY_SR");
    }
    full_duplex = phy_sr & PHY_DUPLEX_STATUS;
    mb100 = !(phy_sr & PHY_SPEED_STATUS);
    console_puts(mb100 ? "speed 100\n" : "speed 10\n");
    console_puts(full_duplex ? "duplex full\n" : "duplex half\n");

    // ETH_MACDMAConfig: MACCR from the negotiated mode, written twice around a read
    maccr = ETH_MACCR;
    maccr &= MACCR_CLEAR_MASK;
    maccr |= (mb100 ? 1u << 14 : 0) | (full_duplex ? 1u << 11 : 0) | (1u << 10) |
             (1u << 9);                                      // FES, DM, IPCO, RD
    ETH_MACCR = maccr;
    tmp = ETH_MACCR;
    delay_ms(1);
    ETH_MACCR = maccr;
    report_hex("maccr", ETH_MACCR);

    console_puts("failures ");
    console_putu(failures);
    console_puts("\nDONE\n");
    for (;;) {
    }
}
