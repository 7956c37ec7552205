/*
 * STM32F4xx Ethernet MAC with DMA (RM0090 chapter 33)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_STM32F4XX_ETH_H
#define HW_NET_STM32F4XX_ETH_H

#include "hw/sysbus.h"
#include "hw/irq.h"
#include "hw/net/dp83848_phy.h"
#include "net/net.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_ETH "stm32f4xx-eth"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxEthState, STM32F4XX_ETH)

/* MAC, MMC, PTP and DMA register blocks: 0x4002_8000 .. 0x4002_93FF */
#define STM32F4XX_ETH_MMIO_SIZE 0x1400

/* Largest frame the model moves in one piece (the MAC watchdog/jabber limit) */
#define STM32F4XX_ETH_MAX_FRAME 2048

#define STM32F4XX_ETH_RWUFF_WORDS 8
#define STM32F4XX_ETH_PTP_WORDS (0x60 / 4)

struct STM32F4xxEthState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;          /* ETH global interrupt, NVIC 61 */
    qemu_irq wkup_irq;     /* ETH wakeup through EXTI line 19, NVIC 62 */
    /* the PHY's PWR_DOWN/INT pin, active low (named GPIO out "phy-int") */
    qemu_irq phy_int;
    NICState *nic;
    NICConf conf;
    QEMUBH *tx_bh;

    /* MAC */
    uint32_t maccr;
    uint32_t macffr;
    uint32_t machthr;
    uint32_t machtlr;
    uint32_t macmiiar;
    uint32_t macmiidr;
    uint32_t macfcr;
    uint32_t macvlantr;
    uint32_t macrwuffr[STM32F4XX_ETH_RWUFF_WORDS];
    uint32_t rwuff_index;
    uint32_t macpmtcsr;
    uint32_t macimr;
    uint32_t maca_hr[4];
    uint32_t maca_lr[4];

    /* MMC */
    uint32_t mmccr;
    uint32_t mmcrimr;
    uint32_t mmctimr;
    uint32_t mmc_tgfc;
    uint32_t mmc_rgufc;

    /* PTP (stored, not modelled) */
    uint32_t ptp[STM32F4XX_ETH_PTP_WORDS];

    /* DMA */
    uint32_t dmabmr;
    int64_t sr_deadline;     /* virtual time at which DMABMR.SR clears */
    uint32_t dmardlar;
    uint32_t dmatdlar;
    uint32_t dmasr;
    uint32_t dmaomr;
    uint32_t dmaier;
    uint32_t mfc;            /* missed frames (DMAMFBOCR.MFC) */
    uint32_t dmarswtr;
    uint32_t tx_cur;         /* DMACHTDR */
    uint32_t rx_cur;         /* DMACHRDR */
    uint32_t tx_cur_buf;     /* DMACHTBAR */
    uint32_t rx_cur_buf;     /* DMACHRBAR */

    /* TX frame being gathered across descriptors */
    uint8_t tx_frame[STM32F4XX_ETH_MAX_FRAME];
    uint32_t tx_len;
    uint32_t tx_first_tdes0;
    bool tx_in_frame;
    bool tx_oversize;

    /* The board's DP83848 at MDIO address 1 */
    DP83848PhyState phy;
    IRQState phy_irq;      /* the PHY's INT pin, passed on to phy_int */

    /* What the DMA reaches: the SoC's bus matrix ("dma-memory" link) */
    MemoryRegion *dma_mr;
    AddressSpace dma_as;

    bool log_mmc_unimp;
    bool log_ptp_unimp;
    bool log_tsf_csum;
};

#endif
