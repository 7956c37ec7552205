/*
 * Texas Instruments (National) DP83848 10/100 Ethernet PHY, MII management
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_DP83848_PHY_H
#define HW_NET_DP83848_PHY_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_DP83848_PHY "dp83848-phy"
OBJECT_DECLARE_SIMPLE_TYPE(DP83848PhyState, DP83848_PHY)

#define DP83848_PHY_NREGS 32

struct DP83848PhyState {
    SysBusDevice parent_obj;

    /* PWR_DOWN/INT pin, open drain, active low (named GPIO out "int") */
    qemu_irq irq;

    uint16_t regs[DP83848_PHY_NREGS];
    uint16_t misr_status;   /* MISR bits 15..8: latched events */
    bool link_down;         /* the cable, as the MAC's network backend says */
    bool link_seen;         /* link state last reported, for LINK_INT */
    bool int_level;

    uint8_t phy_addr;       /* PHYAD strap pins, read back in PHYCR */
};

/* The MAC's MDIO frames to this PHY's address (reg 0..31) */
uint16_t dp83848_phy_read(DP83848PhyState *s, unsigned reg);
void dp83848_phy_write(DP83848PhyState *s, unsigned reg, uint16_t val);
/* The MAC's network backend reports link up or down */
void dp83848_phy_update_link(DP83848PhyState *s, bool link_down);
/* BMCR loopback: the MAC's TX frames come back as RX frames */
bool dp83848_phy_loopback(DP83848PhyState *s);

#endif
