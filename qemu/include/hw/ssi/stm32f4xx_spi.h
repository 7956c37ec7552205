/*
 * STM32F4xx serial peripheral interface (SPI), RM0383 section 20
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_SSI_STM32F4XX_SPI_H
#define HW_SSI_STM32F4XX_SPI_H

#include "hw/sysbus.h"
#include "hw/ssi/ssi.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_SPI "stm32f4xx-spi"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxSpiState, STM32F4XX_SPI)

struct STM32F4xxSpiState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    SSIBus *ssi;
    qemu_irq irq;
    qemu_irq dma_tx;        /* TXE with CR2.TXDMAEN */
    qemu_irq dma_rx;        /* RXNE with CR2.RXDMAEN */

    uint16_t cr1;
    uint16_t cr2;
    uint16_t sr;
    uint16_t tx_buf;        /* written to DR, not yet shifted out (TXE = 0) */
    uint16_t rx_buf;        /* what a DR read returns */
    uint16_t crcpr;
    uint16_t rxcrc;
    uint16_t txcrc;
    uint16_t i2scfgr;
    uint16_t i2spr;
    bool sr_read_modf;      /* SR read with MODF set: a CR1 write clears it */
    bool dr_read_ovr;       /* DR read with OVR set: an SR read clears it */
};

#endif
