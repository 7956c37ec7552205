/*
 * STM32F4xx Ethernet MAC with DMA (RM0090 chapter 33) and a DP83848 PHY
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_STM32F4XX_ETH_H
#define HW_NET_STM32F4XX_ETH_H

#include "hw/sysbus.h"
#include "net/net.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_ETH "stm32f4xx-eth"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxEthState, STM32F4XX_ETH)

/* MAC, MMC, PTP and DMA register blocks: 0x4002_8000 .. 0x4002_93FF */
#define STM32F4XX_ETH_MMIO_SIZE 0x1400

struct STM32F4xxEthState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;          /* ETH global interrupt, NVIC 61 */
    qemu_irq wkup_irq;     /* ETH wakeup through EXTI line 19, NVIC 62 */
    /* DP83848 PWR_DOWN/INT pin, active low (named GPIO out "phy-int") */
    qemu_irq phy_int;
    NICState *nic;
    NICConf conf;
};

#endif
