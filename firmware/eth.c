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
// Ethernet for the STM32F4 evaluation boards: the MAC and its DMA (RM0090 33), the DP83848
// PHY over MII and MDIO (address 1), and the lwIP netif on top.
//
// Descriptors: normal (4-word) descriptors in ring mode, one 1524-byte buffer each, in SRAM
// (.bss; the linker script keeps .bss out of CCM, which the Ethernet DMA cannot reach, and
// eth_start checks it). RX: the DMA fills a descriptor and raises RS (IRQ 61); the lwIP
// context copies the frame into a PBUF_RAM pbuf of the frame's size (lwIP's heap, in CCM), gives the descriptor straight back (OWN) and
// issues a receive poll demand, so a suspended receiver (RBUS) resumes at once. TX: the
// frame is copied into the next free buffer, OWN set, then a transmit poll demand.
//
// Link: the PHY is polled (BMSR, then PHYSTS for speed and duplex) from the lwIP context
// every ETH_LINK_POLL_MS, and at once when the PHY's interrupt output is asserted (PB14 on
// the STM324xG-EVAL; the STM324x9I-EVAL routes it to an I/O expander, so polling only).
// The netif link follows the PHY link, so lwIP's DHCP restarts when the cable returns.
#include <string.h>
#include "py/mpconfig.h"

#if MICROPY_PY_LWIP

#include "lwip/netif.h"
#include "lwip/etharp.h"
#include "lwip/dhcp.h"
#include "netif/ethernet.h"
#include "stm32f4xx.h"
#include "clock.h"
#include "eth.h"
#include "gpio.h"
#include "irq.h"
#include "mpnetworkport.h"
#include "systick.h"

// --- registers (RM0090 33.8) ------------------------------------------------------------

#define ETH_BASE            (0x40028000UL)
#define ETH_REG(offset)     (*(volatile uint32_t *)(ETH_BASE + (offset)))
#define ETH_MACCR           ETH_REG(0x0000)
#define ETH_MACFFR          ETH_REG(0x0004)
#define ETH_MACMIIAR        ETH_REG(0x0010)
#define ETH_MACMIIDR        ETH_REG(0x0014)
#define ETH_MACFCR          ETH_REG(0x0018)
#define ETH_MACIMR          ETH_REG(0x003C)
#define ETH_MACA0HR         ETH_REG(0x0040)
#define ETH_MACA0LR         ETH_REG(0x0044)
#define ETH_MMCRIMR         ETH_REG(0x010C)
#define ETH_MMCTIMR         ETH_REG(0x0110)
#define ETH_DMABMR          ETH_REG(0x1000)
#define ETH_DMATPDR         ETH_REG(0x1004)
#define ETH_DMARPDR         ETH_REG(0x1008)
#define ETH_DMARDLAR        ETH_REG(0x100C)
#define ETH_DMATDLAR        ETH_REG(0x1010)
#define ETH_DMASR           ETH_REG(0x1014)
#define ETH_DMAOMR          ETH_REG(0x1018)
#define ETH_DMAIER          ETH_REG(0x101C)

#define MACCR_RE            (1UL << 2)
#define MACCR_TE            (1UL << 3)
#define MACCR_DM            (1UL << 11)
#define MACCR_FES           (1UL << 14)
#define MACCR_RESERVED      (0x00008000UL)  // bit 15 reads 1 at reset; keep it

#define MACMIIAR_MB         (1UL << 0)
#define MACMIIAR_MW         (1UL << 1)
#define MACMIIAR_CR_Pos     (2)
#define MACMIIAR_MR_Pos     (6)
#define MACMIIAR_PA_Pos     (11)

#define DMABMR_SR           (1UL << 0)
#define DMABMR_PBL_Pos      (8)
#define DMABMR_FB           (1UL << 16)
#define DMABMR_RDP_Pos      (17)
#define DMABMR_USP          (1UL << 23)
#define DMABMR_AAB          (1UL << 25)

#define DMASR_TS            (1UL << 0)
#define DMASR_TPSS          (1UL << 1)
#define DMASR_TBUS          (1UL << 2)
#define DMASR_RS            (1UL << 6)
#define DMASR_RBUS          (1UL << 7)
#define DMASR_RPSS          (1UL << 8)
#define DMASR_FBES          (1UL << 13)
#define DMASR_AIS           (1UL << 15)
#define DMASR_NIS           (1UL << 16)
#define DMASR_W1C           (0x0001E7FFUL)  // every write-1-to-clear status bit

#define DMAOMR_SR           (1UL << 1)
#define DMAOMR_ST           (1UL << 13)
#define DMAOMR_FTF          (1UL << 20)
#define DMAOMR_TSF          (1UL << 21)
#define DMAOMR_RSF          (1UL << 25)

#define DMAIER_RIE          (1UL << 6)
#define DMAIER_RBUIE        (1UL << 7)
#define DMAIER_FBEIE        (1UL << 13)
#define DMAIER_AISE         (1UL << 15)
#define DMAIER_NISE         (1UL << 16)

// RCC and SYSCFG bits for the MAC
#define RCC_AHB1ENR_ETHMACEN    (1UL << 25)
#define RCC_AHB1ENR_ETHMACTXEN  (1UL << 26)
#define RCC_AHB1ENR_ETHMACRXEN  (1UL << 27)
#define RCC_AHB1RSTR_ETHMACRST  (1UL << 25)
#define RCC_APB2ENR_SYSCFGEN    (1UL << 14)
#define RCC_CFGR_MCO1_Pos       (21)
#define RCC_CFGR_MCO1_Msk       (3UL << 21)
#define RCC_CFGR_MCO1_HSE       (2UL << 21)
#define RCC_CFGR_MCO1PRE_Msk    (7UL << 24)
#define SYSCFG_PMC              (*(volatile uint32_t *)(0x40013800UL + 0x04))
#define SYSCFG_PMC_MII_RMII_SEL (1UL << 23)

// Descriptor bits (RM0090 33.6.7, 33.6.8)
#define TDES0_OWN           (1UL << 31)
#define TDES0_IC            (1UL << 30)
#define TDES0_LS            (1UL << 29)
#define TDES0_FS            (1UL << 28)
#define TDES0_TER           (1UL << 21)
#define TDES0_ES            (1UL << 15)
#define RDES0_OWN           (1UL << 31)
#define RDES0_FL_Pos        (16)
#define RDES0_FL_Msk        (0x3FFFUL << 16)
#define RDES0_ES            (1UL << 15)
#define RDES0_FS            (1UL << 9)
#define RDES0_LS            (1UL << 8)
#define RDES1_RER           (1UL << 15)

// DP83848 registers
#define PHY_ADDR            (1)
#define PHY_BMCR            (0x00)
#define PHY_BMSR            (0x01)
#define PHY_IDR1            (0x02)
#define PHY_PHYSTS          (0x10)
#define PHY_MICR            (0x11)
#define PHY_MISR            (0x12)
#define BMCR_RESET          (1U << 15)
#define BMCR_ANEN           (1U << 12)
#define BMCR_ANRESTART      (1U << 9)
#define BMSR_LINK           (1U << 2)
#define BMSR_ANC            (1U << 5)
#define PHYSTS_SPEED10      (1U << 1)
#define PHYSTS_FD           (1U << 2)
#define MICR_INT_OE         (1U << 0)
#define MICR_INTEN          (1U << 1)
#define MISR_ANC_INT_EN     (1U << 2)
#define MISR_LINK_INT_EN    (1U << 5)

// --- sizes and timeouts -------------------------------------------------------------------

#define ETH_RX_DESC         (4)
#define ETH_TX_DESC         (2)
#define ETH_BUF_SIZE        (1524)  // a whole 1518-byte frame, multiple of 4
#define ETH_LINK_POLL_MS    (250)   // the link is read when the lwIP interrupt runs this long after
#define ETH_LINK_IDLE_MS    (1000)  // ... and an idle CPU wakes for it after this long at most
#define ETH_RESET_TIMEOUT_MS (20)   // DMA software reset (needs the PHY's clocks)
#define ETH_MDIO_TIMEOUT_MS (2)     // one MDIO frame takes ~26 us at 2.5 MHz
#define ETH_PHY_RESET_TIMEOUT_MS (500)
#define ETH_TX_TIMEOUT_MS   (10)
#define ETH_MTU             (1500)

// --- board wiring (set per board in the Makefile's network block) ---------------------------

#ifndef MICROPY_HW_ETH_TXD3_PORT
#define MICROPY_HW_ETH_TXD3_PORT    ('B')
#define MICROPY_HW_ETH_TXD3_PIN     (8)
#endif
#ifndef MICROPY_HW_ETH_MII_CRS_COL
#define MICROPY_HW_ETH_MII_CRS_COL  (0)
#endif

#define ETH_AF              (11)
#define MCO_AF              (0)

typedef struct {
    char port;
    uint8_t pin;
} eth_pin_t;

static const eth_pin_t eth_mii_pins[] = {
    {'A', 1},   // MII_RX_CLK
    {'A', 2},   // MDIO
    {'A', 7},   // MII_RX_DV
    {'C', 1},   // MDC
    {'C', 2},   // MII_TXD2
    {'C', 3},   // MII_TX_CLK
    {'C', 4},   // MII_RXD0
    {'C', 5},   // MII_RXD1
    {'G', 11},  // MII_TX_EN
    {'G', 13},  // MII_TXD0
    {'G', 14},  // MII_TXD1
    {'H', 6},   // MII_RXD2
    {'H', 7},   // MII_RXD3
    {MICROPY_HW_ETH_TXD3_PORT, MICROPY_HW_ETH_TXD3_PIN},   // MII_TXD3
    #if MICROPY_HW_ETH_MII_CRS_COL
    {'H', 2},   // MII_CRS
    {'H', 3},   // MII_COL
    {'I', 10},  // MII_RX_ER
    #endif
};

// --- state --------------------------------------------------------------------------------

typedef struct {
    volatile uint32_t des0;
    volatile uint32_t des1;
    volatile uint32_t des2;     // buffer 1 address
    volatile uint32_t des3;     // buffer 2 address (unused: ring mode, one buffer)
} eth_desc_t;

// DMA-visible memory: in .bss, i.e. SRAM1/SRAM2 (never CCM).
static eth_desc_t eth_rx_desc[ETH_RX_DESC] __attribute__((aligned(16)));
static eth_desc_t eth_tx_desc[ETH_TX_DESC] __attribute__((aligned(16)));
static uint8_t eth_rx_buf[ETH_RX_DESC][ETH_BUF_SIZE] __attribute__((aligned(4)));
static uint8_t eth_tx_buf[ETH_TX_DESC][ETH_BUF_SIZE] __attribute__((aligned(4)));

typedef struct {
    struct netif netif;
    uint8_t mac[6];
    bool active;
    bool phy_link;
    bool fatal;             // DMA stopped on a bus error
    uint8_t speed;          // 10/100 while linked
    bool full_duplex;
    unsigned rx_idx;
    unsigned tx_idx;
    uint32_t mdio_cr;       // MACMIIAR CR for the HCLK
    uint32_t last_link_check;
} eth_state_t;

static eth_state_t eth = {
    .mac = {0x00, 0x00, 0x00, 0x00, 0x00, 0x02},
};
eth_stats_t eth_stats;
void (*eth_change_hook)(void);

// --- MDIO ------------------------------------------------------------------------------------

static bool mdio_wait(void) {
    return systick_wait_bits(&ETH_MACMIIAR, MACMIIAR_MB, 0, ETH_MDIO_TIMEOUT_MS);
}

// A PHY register, or -1 if the management interface did not complete.
static int phy_read(unsigned reg) {
    if (!mdio_wait()) {
        return -1;
    }
    ETH_MACMIIAR = (PHY_ADDR << MACMIIAR_PA_Pos) | (reg << MACMIIAR_MR_Pos) | eth.mdio_cr
        | MACMIIAR_MB;
    if (!mdio_wait()) {
        return -1;
    }
    return ETH_MACMIIDR & 0xFFFF;
}

static bool phy_write(unsigned reg, uint16_t value) {
    if (!mdio_wait()) {
        return false;
    }
    ETH_MACMIIDR = value;
    ETH_MACMIIAR = (PHY_ADDR << MACMIIAR_PA_Pos) | (reg << MACMIIAR_MR_Pos) | eth.mdio_cr
        | MACMIIAR_MW | MACMIIAR_MB;
    return mdio_wait();
}

// MDC must stay at or below 2.5 MHz: the divider depends on HCLK (RM0090 33.8.1 MACMIIAR).
static uint32_t mdio_clock_range(uint32_t hclk) {
    if (hclk >= 150000000) {
        return 4 << MACMIIAR_CR_Pos;    // HCLK/102
    } else if (hclk >= 100000000) {
        return 1 << MACMIIAR_CR_Pos;    // HCLK/62
    } else if (hclk >= 60000000) {
        return 0 << MACMIIAR_CR_Pos;    // HCLK/42
    } else if (hclk >= 35000000) {
        return 3 << MACMIIAR_CR_Pos;    // HCLK/26
    } else {
        return 2 << MACMIIAR_CR_Pos;    // HCLK/16
    }
}

// --- bring-up ------------------------------------------------------------------------------

static void eth_gpio_init(void) {
    for (size_t i = 0; i < LWIP_ARRAYSIZE(eth_mii_pins); i++) {
        gpio_config(GPIO_INDEX(eth_mii_pins[i].port), eth_mii_pins[i].pin, GPIO_MODE_AF,
            GPIO_PULL_NONE, false, 3, ETH_AF);
    }
    // The PHY's 25 MHz reference: MCO1 (PA8) outputs the HSE crystal, as ST's boards do
    // in MII mode.
    gpio_config(GPIO_INDEX('A'), 8, GPIO_MODE_AF, GPIO_PULL_NONE, false, 3, MCO_AF);
    uint32_t state = disable_irq();
    RCC->CFGR = (RCC->CFGR & ~(RCC_CFGR_MCO1_Msk | RCC_CFGR_MCO1PRE_Msk)) | RCC_CFGR_MCO1_HSE;
    enable_irq(state);
    #ifdef MICROPY_HW_ETH_PHY_INT_PORT
    // The PHY's interrupt output is open drain, active low.
    gpio_config(GPIO_INDEX(MICROPY_HW_ETH_PHY_INT_PORT), MICROPY_HW_ETH_PHY_INT_PIN,
        GPIO_MODE_INPUT, GPIO_PULL_UP, false, 0, 0);
    #endif
}

static void eth_clocks(bool on) {
    uint32_t bits = RCC_AHB1ENR_ETHMACEN | RCC_AHB1ENR_ETHMACTXEN | RCC_AHB1ENR_ETHMACRXEN;
    uint32_t state = disable_irq();
    if (on) {
        // MII or RMII is chosen in SYSCFG while the MAC is in reset and before its clocks
        // run (RM0090 9.2.2 / 33.4.4).
        RCC->APB2ENR |= RCC_APB2ENR_SYSCFGEN;
        (void)RCC->APB2ENR;
        RCC->AHB1RSTR |= RCC_AHB1RSTR_ETHMACRST;
        SYSCFG_PMC &= ~SYSCFG_PMC_MII_RMII_SEL;
        RCC->AHB1ENR |= bits;
        (void)RCC->AHB1ENR;
        RCC->AHB1RSTR &= ~RCC_AHB1RSTR_ETHMACRST;
    } else {
        RCC->AHB1ENR &= ~bits;
    }
    enable_irq(state);
}

static void eth_write_mac_address(void) {
    ETH_MACA0HR = ((uint32_t)eth.mac[5] << 8) | eth.mac[4];
    ETH_MACA0LR = ((uint32_t)eth.mac[3] << 24) | ((uint32_t)eth.mac[2] << 16)
        | ((uint32_t)eth.mac[1] << 8) | eth.mac[0];
}

static void eth_desc_init(void) {
    for (unsigned i = 0; i < ETH_RX_DESC; i++) {
        eth_rx_desc[i].des1 = ETH_BUF_SIZE | (i == ETH_RX_DESC - 1 ? RDES1_RER : 0);
        eth_rx_desc[i].des2 = (uint32_t)eth_rx_buf[i];
        eth_rx_desc[i].des3 = 0;
        eth_rx_desc[i].des0 = RDES0_OWN;
    }
    for (unsigned i = 0; i < ETH_TX_DESC; i++) {
        eth_tx_desc[i].des0 = i == ETH_TX_DESC - 1 ? TDES0_TER : 0;
        eth_tx_desc[i].des1 = 0;
        eth_tx_desc[i].des2 = (uint32_t)eth_tx_buf[i];
        eth_tx_desc[i].des3 = 0;
    }
    eth.rx_idx = 0;
    eth.tx_idx = 0;
    __asm volatile ("dmb" : : : "memory");
    ETH_DMARDLAR = (uint32_t)eth_rx_desc;
    ETH_DMATDLAR = (uint32_t)eth_tx_desc;
}

static bool eth_in_ccm(const void *p, size_t len) {
    uint32_t a = (uint32_t)p;
    return a + len > 0x10000000UL && a < 0x10010000UL;
}

static void eth_hw_stop(void) {
    NVIC_DisableIRQ(ETH_IRQn);
    ETH_DMAIER = 0;
    // Stop transmission first, then the MAC, then reception (RM0090 33.6.4)
    ETH_DMAOMR &= ~DMAOMR_ST;
    ETH_MACCR &= ~(MACCR_TE | MACCR_RE);
    ETH_DMAOMR |= DMAOMR_FTF;
    systick_wait_bits(&ETH_DMAOMR, DMAOMR_FTF, 0, ETH_RESET_TIMEOUT_MS);
    ETH_DMAOMR &= ~DMAOMR_SR;
    ETH_DMASR = DMASR_W1C;
    NVIC_ClearPendingIRQ(ETH_IRQn);
    eth_clocks(false);
    // The ETH interrupt also runs lwIP's timers (mpnetworkport.c): keep it enabled.
    NVIC_EnableIRQ(ETH_IRQn);
}

static const char *eth_hw_start(void) {
    if (eth_in_ccm(eth_rx_desc, sizeof(eth_rx_desc)) || eth_in_ccm(eth_rx_buf, sizeof(eth_rx_buf))
        || eth_in_ccm(eth_tx_desc, sizeof(eth_tx_desc)) || eth_in_ccm(eth_tx_buf, sizeof(eth_tx_buf))) {
        return "DMA descriptors or buffers are in CCM RAM";
    }
    eth_gpio_init();
    eth_clocks(true);

    // DMA software reset: completes only once the PHY supplies the MII clocks.
    ETH_DMABMR |= DMABMR_SR;
    if (!systick_wait_bits(&ETH_DMABMR, DMABMR_SR, 0, ETH_RESET_TIMEOUT_MS)) {
        return "DMA software reset timed out (no MII clock from the PHY?)";
    }

    // PHY: present, reset, autonegotiation on, interrupts for link and AN changes.
    eth.mdio_cr = mdio_clock_range(clock_freqs.hclk);
    int id = phy_read(PHY_IDR1);
    if (id < 0) {
        return "MDIO access timed out";
    }
    if (id == 0xFFFF || id == 0) {
        return "no PHY answers at MDIO address 1";
    }
    if (!phy_write(PHY_BMCR, BMCR_RESET)) {
        return "MDIO access timed out";
    }
    uint32_t start = systick_now_ms();
    for (;;) {
        int bmcr = phy_read(PHY_BMCR);
        if (bmcr < 0) {
            return "MDIO access timed out";
        }
        if (!(bmcr & BMCR_RESET)) {
            break;
        }
        if (systick_now_ms() - start > ETH_PHY_RESET_TIMEOUT_MS) {
            return "PHY reset timed out";
        }
    }
    if (!phy_write(PHY_BMCR, BMCR_ANEN | BMCR_ANRESTART)
        || !phy_write(PHY_MISR, MISR_LINK_INT_EN | MISR_ANC_INT_EN)
        || !phy_write(PHY_MICR, MICR_INT_OE | MICR_INTEN)) {
        return "MDIO access timed out";
    }
    (void)phy_read(PHY_MISR);   // clear anything latched by the reset

    // MAC: 100 Mb/s full duplex until the PHY says otherwise; perfect filter on MACA0 plus
    // broadcast (MACFFR 0); no MMC interrupts.
    ETH_MACCR = MACCR_RESERVED | MACCR_FES | MACCR_DM;
    ETH_MACFFR = 0;
    ETH_MACFCR = 0;
    ETH_MACIMR = (1UL << 3) | (1UL << 9);   // mask PMT and time stamp trigger interrupts
    ETH_MMCRIMR = 0xFFFFFFFFUL;
    ETH_MMCTIMR = 0xFFFFFFFFUL;
    eth_write_mac_address();

    // DMA: address-aligned fixed bursts of 32 beats, store-and-forward both ways.
    ETH_DMABMR = DMABMR_AAB | DMABMR_USP | (32UL << DMABMR_RDP_Pos) | DMABMR_FB
        | (32UL << DMABMR_PBL_Pos);
    eth_desc_init();
    ETH_DMAOMR = DMAOMR_RSF | DMAOMR_TSF;
    ETH_DMASR = DMASR_W1C;
    ETH_DMAIER = DMAIER_NISE | DMAIER_RIE | DMAIER_AISE | DMAIER_RBUIE | DMAIER_FBEIE;

    // Start: transmitter, flush its FIFO, receiver, then both DMA processes.
    ETH_MACCR |= MACCR_TE;
    ETH_DMAOMR |= DMAOMR_FTF;
    if (!systick_wait_bits(&ETH_DMAOMR, DMAOMR_FTF, 0, ETH_RESET_TIMEOUT_MS)) {
        return "TX FIFO flush timed out";
    }
    ETH_MACCR |= MACCR_RE;
    ETH_DMAOMR |= DMAOMR_ST | DMAOMR_SR;

    NVIC_SetPriority(ETH_IRQn, IRQ_PRI_ETH);
    NVIC_EnableIRQ(ETH_IRQn);
    return NULL;
}

// --- frames ------------------------------------------------------------------------------

static err_t eth_netif_output(struct netif *netif, struct pbuf *p) {
    eth_desc_t *d = &eth_tx_desc[eth.tx_idx];
    if (p->tot_len > ETH_BUF_SIZE) {
        eth_stats.tx_errors++;
        return ERR_BUF;
    }
    // The DMA hands descriptors back in order; with the model a frame leaves during the
    // poll demand, on silicon within microseconds.
    if (!systick_wait_bits(&d->des0, TDES0_OWN, 0, ETH_TX_TIMEOUT_MS)) {
        eth_stats.tx_errors++;
        return ERR_IF;
    }
    pbuf_copy_partial(p, eth_tx_buf[eth.tx_idx], p->tot_len, 0);
    d->des1 = p->tot_len;
    __asm volatile ("dmb" : : : "memory");
    d->des0 = TDES0_OWN | TDES0_FS | TDES0_LS | (d->des0 & TDES0_TER);
    __asm volatile ("dsb" : : : "memory");
    eth.tx_idx = (eth.tx_idx + 1) % ETH_TX_DESC;
    if (ETH_DMASR & DMASR_TBUS) {
        ETH_DMASR = DMASR_TBUS;
    }
    ETH_DMATPDR = 0;
    eth_stats.tx_frames++;
    return ERR_OK;
}

// Frames the DMA has written: into lwIP, descriptors straight back to the DMA.
static void eth_rx_process(void) {
    bool returned = false;
    for (unsigned n = 0; n < ETH_RX_DESC; n++) {
        eth_desc_t *d = &eth_rx_desc[eth.rx_idx];
        uint32_t des0 = d->des0;
        if (des0 & RDES0_OWN) {
            break;
        }
        __asm volatile ("dmb" : : : "memory");
        uint32_t len = (des0 & RDES0_FL_Msk) >> RDES0_FL_Pos;
        if ((des0 & (RDES0_FS | RDES0_LS)) != (RDES0_FS | RDES0_LS) || (des0 & RDES0_ES)
            || len < 4 + 14) {
            eth_stats.rx_errors++;
        } else {
            len -= 4;   // the FCS
            struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);
            if (p == NULL) {
                eth_stats.rx_dropped++;
            } else {
                pbuf_take(p, eth_rx_buf[eth.rx_idx], len);
                if (eth.netif.input(p, &eth.netif) != ERR_OK) {
                    pbuf_free(p);
                    eth_stats.rx_dropped++;
                } else {
                    eth_stats.rx_frames++;
                }
            }
        }
        d->des0 = RDES0_OWN;
        returned = true;
        eth.rx_idx = (eth.rx_idx + 1) % ETH_RX_DESC;
    }
    if (returned || (ETH_DMASR & DMASR_RBUS)) {
        __asm volatile ("dsb" : : : "memory");
        if (ETH_DMASR & DMASR_RBUS) {
            ETH_DMASR = DMASR_RBUS;
            eth_stats.rx_suspended++;
        }
        ETH_DMARPDR = 0;
    }
}

// --- link --------------------------------------------------------------------------------

static void eth_notify(void) {
    if (eth_change_hook != NULL) {
        eth_change_hook();
    }
}

static void eth_link_check(void) {
    // BMSR's link bit latches low (IEEE 802.3 22.2.4.2.13): the second read is the state now.
    (void)phy_read(PHY_BMSR);
    int bmsr = phy_read(PHY_BMSR);
    if (bmsr < 0) {
        return;
    }
    bool up = (bmsr & BMSR_LINK) && (bmsr & BMSR_ANC);
    if (up == eth.phy_link) {
        return;
    }
    eth.phy_link = up;
    eth_stats.link_changes++;
    if (up) {
        int physts = phy_read(PHY_PHYSTS);
        eth.speed = (physts >= 0 && (physts & PHYSTS_SPEED10)) ? 10 : 100;
        eth.full_duplex = physts < 0 || (physts & PHYSTS_FD);
        uint32_t cr = ETH_MACCR & ~(MACCR_FES | MACCR_DM);
        ETH_MACCR = cr | (eth.speed == 100 ? MACCR_FES : 0) | (eth.full_duplex ? MACCR_DM : 0);
        netif_set_link_up(&eth.netif);
    } else {
        eth.speed = 0;
        netif_set_link_down(&eth.netif);
    }
    eth_notify();
}

// How long an idle CPU may sleep before the link must be read. The link is read whenever the
// lwIP interrupt runs ETH_LINK_POLL_MS or more after the last read (eth_service), which the
// other wake-ups of a busy or half-idle board give often enough; an idle board wakes for it
// only every ETH_LINK_IDLE_MS.
uint32_t eth_link_check_due_ms(void) {
    if (!eth.active) {
        return UINT32_MAX;
    }
    uint32_t since = systick_now_ms() - eth.last_link_check;
    return since >= ETH_LINK_IDLE_MS ? 0 : ETH_LINK_IDLE_MS - since;
}

bool eth_phy_irq_pending(void) {
    #ifdef MICROPY_HW_ETH_PHY_INT_PORT
    return eth.active && !gpio_read(GPIO_INDEX(MICROPY_HW_ETH_PHY_INT_PORT),
        MICROPY_HW_ETH_PHY_INT_PIN);
    #else
    return false;
    #endif
}

void eth_service(bool check_link) {
    if (!eth.active) {
        return;
    }
    uint32_t sr = ETH_DMASR;
    ETH_DMASR = sr & (DMASR_NIS | DMASR_AIS | DMASR_RS | DMASR_TS | DMASR_FBES);
    if (sr & DMASR_FBES) {
        // A fatal bus error stops both DMA processes; network.LAN.status() reports it and
        // active(False)/active(True) recovers.
        if (!eth.fatal) {
            eth.fatal = true;
            netif_set_link_down(&eth.netif);
            eth_notify();
        }
        return;
    }
    eth_rx_process();
    if (eth_phy_irq_pending()) {
        eth_stats.phy_interrupts++;
        (void)phy_read(PHY_MISR);   // reading MISR releases the interrupt pin
        check_link = true;
    }
    if (check_link || systick_now_ms() - eth.last_link_check >= ETH_LINK_POLL_MS) {
        eth.last_link_check = systick_now_ms();
        eth_link_check();
    }
}

// --- netif -------------------------------------------------------------------------------

static void eth_netif_status_cb(struct netif *netif) {
    eth_notify();
}

static err_t eth_netif_init(struct netif *netif) {
    netif->linkoutput = eth_netif_output;
    netif->output = etharp_output;
    netif->mtu = ETH_MTU;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, eth.mac, 6);
    netif->name[0] = 'e';
    netif->name[1] = 't';
    netif_set_status_callback(netif, eth_netif_status_cb);
    return ERR_OK;
}

const char *eth_start(const uint8_t mac[6], uint32_t ip, uint32_t netmask, uint32_t gw) {
    if (eth.active) {
        return NULL;
    }
    memcpy(eth.mac, mac, 6);
    memset(&eth_stats, 0, sizeof(eth_stats));
    eth.phy_link = false;
    eth.fatal = false;
    eth.speed = 0;
    const char *err = eth_hw_start();
    if (err != NULL) {
        eth_hw_stop();
        return err;
    }
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, ip);
    ip4_addr_set_u32(&m, netmask);
    ip4_addr_set_u32(&g, gw);
    if (netif_add(&eth.netif, &a, &m, &g, NULL, eth_netif_init, ethernet_input) == NULL) {
        eth_hw_stop();
        return "lwIP refused the interface";
    }
    netif_set_hostname(&eth.netif, mpnetworkport_hostname());
    netif_set_default(&eth.netif);
    netif_set_up(&eth.netif);
    eth.active = true;
    eth.last_link_check = systick_now_ms();
    eth_link_check();
    return NULL;
}

void eth_stop(void) {
    if (!eth.active) {
        return;
    }
    eth.active = false;
    dhcp_release_and_stop(&eth.netif);
    dhcp_cleanup(&eth.netif);
    netif_set_link_down(&eth.netif);
    netif_set_down(&eth.netif);
    netif_remove(&eth.netif);
    eth_hw_stop();
    eth.phy_link = false;
    eth.speed = 0;
}

bool eth_is_active(void) {
    return eth.active;
}

struct netif *eth_netif(void) {
    return &eth.netif;
}

void eth_set_mac(const uint8_t mac[6]) {
    memcpy(eth.mac, mac, 6);
    if (eth.active) {
        memcpy(eth.netif.hwaddr, mac, 6);
        eth_write_mac_address();
    }
}

const uint8_t *eth_get_mac(void) {
    return eth.mac;
}

int eth_link_status(void) {
    if (!eth.active) {
        return ETH_LINK_DOWN;
    }
    if (eth.fatal) {
        return ETH_LINK_FAIL;
    }
    if (!eth.phy_link) {
        return ETH_LINK_DOWN;
    }
    if (!netif_is_up(&eth.netif) || !netif_is_link_up(&eth.netif)) {
        return ETH_LINK_JOIN;
    }
    if (ip4_addr_isany_val(*netif_ip4_addr(&eth.netif))) {
        return ETH_LINK_NOIP;
    }
    return ETH_LINK_UP;
}

bool eth_phy_link_up(void) {
    return eth.active && eth.phy_link;
}

uint32_t eth_speed_mbps(void) {
    return eth.speed;
}

bool eth_full_duplex(void) {
    return eth.full_duplex;
}

#endif // MICROPY_PY_LWIP
