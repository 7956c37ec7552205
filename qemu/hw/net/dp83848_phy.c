/*
 * Texas Instruments (National) DP83848 10/100 Ethernet PHY
 *
 * DP83848C datasheet (SNOSAT2): the MII management registers a MAC reaches
 * over MDIO. The STM324xG-EVAL straps it to PHY address 1 and wires its
 * PWR_DOWN/INT pin to PB14; ST's BSP reads BMSR for the link, PHYSR (0x10)
 * for speed and duplex, and arms MICR/MISR for the link interrupt.
 *
 * Modelled: BMCR (reset, loopback, speed, auto-negotiation enable/restart,
 * duplex), BMSR, PHYIDR1/2, ANAR, ANLPAR, ANER, ANNPTR, PHYSTS, MICR, MISR
 * (latched status, clear on read), PHYCR's address bits; the INT pin, which
 * is open drain and active low. Auto-negotiation against QEMU's network
 * backend completes at once (100 Mb/s full duplex). The link follows the
 * backend (QMP set_link). Not modelled: 10BASE-T/100BASE-TX test and BIST
 * registers, energy detect, power down, the FIFO and false carrier counters.
 *
 * The PHY is a chip of its own on the board: a system reset resets it, the
 * MAC's reset (RCC ETHMACRST) does not.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/module.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#include "hw/net/mii.h"
#include "hw/net/dp83848_phy.h"
#include "migration/vmstate.h"
#include "trace.h"

/* Extended registers of the DP83848 */
#define DP83848_PHYSTS   0x10
#define DP83848_MICR     0x11
#define DP83848_MISR     0x12
#define DP83848_PHYCR    0x19

#define BMCR_WMASK       0x7d80u
#define BMSR_BASE        (MII_BMSR_100TX_FD | MII_BMSR_100TX_HD | \
                          MII_BMSR_10T_FD | MII_BMSR_10T_HD | \
                          MII_BMSR_MFPS | MII_BMSR_AUTONEG | \
                          MII_BMSR_EXTCAP)
#define ANAR_RESET       0x01e1u    /* 10/100 half/full, IEEE 802.3 */
#define ANAR_WMASK       0x2fe0u
#define ANLPAR_PARTNER   0x45e1u    /* backend: 10/100 half/full, pause, ACK */
#define ANER_NP_ABLE     (1u << 2)
#define ANER_LP_AN_ABLE  (1u << 0)
#define ANNPTR_RESET     0x2001u
#define PHYSTS_LINK      (1u << 0)
#define PHYSTS_SPEED10   (1u << 1)
#define PHYSTS_FD        (1u << 2)
#define PHYSTS_LOOPBACK  (1u << 3)
#define PHYSTS_ANC       (1u << 4)
#define PHYSTS_MIIINT    (1u << 7)
#define MICR_INT_OE      (1u << 0)
#define MICR_INTEN       (1u << 1)
#define MICR_TINT        (1u << 2)
#define MICR_WMASK       0x0007u
#define MISR_ANC_INT     (1u << 10)
#define MISR_LINK_INT    (1u << 13)
#define MISR_EN_MASK     0x007fu
#define PHYCR_MDIX_EN    (1u << 15)
#define PHYCR_ADDR_MASK  0x001fu

QEMU_BUILD_BUG_ON(BMSR_BASE != 0x7849);

static uint16_t dp83848_pending(DP83848PhyState *s)
{
    return (s->misr_status >> 8) & s->regs[DP83848_MISR] & MISR_EN_MASK;
}

static void dp83848_update_irq(DP83848PhyState *s)
{
    uint16_t micr = s->regs[DP83848_MICR];
    bool asserted = (micr & MICR_INT_OE) && (micr & MICR_INTEN) &&
                    (dp83848_pending(s) || (micr & MICR_TINT));
    bool level = !asserted;

    if (level != s->int_level) {
        s->int_level = level;
        trace_dp83848_phy_int(level);
    }
    qemu_set_irq(s->irq, level);
}

static void dp83848_reset_regs(DP83848PhyState *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    s->regs[MII_BMCR] = MII_BMCR_SPEED100 | MII_BMCR_AUTOEN | MII_BMCR_FD;
    s->regs[MII_ANAR] = ANAR_RESET;
    s->regs[MII_ANNP] = ANNPTR_RESET;
    s->regs[DP83848_PHYCR] = PHYCR_MDIX_EN | (s->phy_addr & PHYCR_ADDR_MASK);
    s->misr_status = 0;
}

static bool dp83848_an_done(DP83848PhyState *s)
{
    return !s->link_down && (s->regs[MII_BMCR] & MII_BMCR_AUTOEN);
}

bool dp83848_phy_loopback(DP83848PhyState *s)
{
    return s->regs[MII_BMCR] & MII_BMCR_LOOPBACK;
}

uint16_t dp83848_phy_read(DP83848PhyState *s, unsigned reg)
{
    uint16_t bmcr = s->regs[MII_BMCR];
    uint16_t val;

    switch (reg) {
    case MII_BMSR:
        val = BMSR_BASE;
        if (!s->link_down) {
            val |= MII_BMSR_LINK_ST;
        }
        if (dp83848_an_done(s)) {
            val |= MII_BMSR_AN_COMP;
        }
        break;
    case MII_PHYID1:
        val = 0x2000;
        break;
    case MII_PHYID2:
        val = 0x5c90;
        break;
    case MII_ANLPAR:
        val = dp83848_an_done(s) ? ANLPAR_PARTNER : 0;
        break;
    case MII_ANER:
        val = ANER_NP_ABLE | (dp83848_an_done(s) ? ANER_LP_AN_ABLE : 0);
        break;
    case DP83848_PHYSTS:
        val = s->link_down ? 0 : PHYSTS_LINK;
        if (bmcr & MII_BMCR_AUTOEN) {
            val |= PHYSTS_FD;          /* negotiated 100 Mb/s full duplex */
            if (dp83848_an_done(s)) {
                val |= PHYSTS_ANC;
            }
        } else {
            if (!(bmcr & MII_BMCR_SPEED100)) {
                val |= PHYSTS_SPEED10;
            }
            if (bmcr & MII_BMCR_FD) {
                val |= PHYSTS_FD;
            }
        }
        if (bmcr & MII_BMCR_LOOPBACK) {
            val |= PHYSTS_LOOPBACK;
        }
        if (dp83848_pending(s)) {
            val |= PHYSTS_MIIINT;
        }
        break;
    case DP83848_MISR:
        /* The latched status bits clear on read */
        val = s->misr_status | (s->regs[DP83848_MISR] & MISR_EN_MASK);
        s->misr_status = 0;
        dp83848_update_irq(s);
        break;
    default:
        val = s->regs[reg % DP83848_PHY_NREGS];
        break;
    }
    return val;
}

void dp83848_phy_write(DP83848PhyState *s, unsigned reg, uint16_t val)
{
    switch (reg) {
    case MII_BMCR:
        if (val & MII_BMCR_RESET) {
            dp83848_reset_regs(s);
            break;
        }
        s->regs[MII_BMCR] = val & BMCR_WMASK;
        if ((val & MII_BMCR_ANRESTART) && (val & MII_BMCR_AUTOEN) &&
            !s->link_down) {
            /* Negotiation against QEMU's backend finishes at once */
            s->misr_status |= MISR_ANC_INT;
        }
        break;
    case MII_BMSR:
    case MII_PHYID1:
    case MII_PHYID2:
    case MII_ANLPAR:
    case MII_ANER:
    case DP83848_PHYSTS:
        /* read-only */
        break;
    case MII_ANAR:
        s->regs[reg] = (val & ANAR_WMASK) | MII_ANAR_CSMACD;
        break;
    case DP83848_MICR:
        s->regs[reg] = val & MICR_WMASK;
        break;
    case DP83848_MISR:
        s->regs[reg] = val & MISR_EN_MASK;
        break;
    default:
        s->regs[reg % DP83848_PHY_NREGS] = val;
        break;
    }
    dp83848_update_irq(s);
}

void dp83848_phy_update_link(DP83848PhyState *s, bool link_down)
{
    s->link_down = link_down;
    /* The DP83848 interrupts on a change of link status, not on every report */
    if (s->link_seen == !link_down) {
        return;
    }
    s->link_seen = !link_down;
    s->misr_status |= MISR_LINK_INT;
    if (!link_down && (s->regs[MII_BMCR] & MII_BMCR_AUTOEN)) {
        s->misr_status |= MISR_ANC_INT;
    }
    dp83848_update_irq(s);
}

static void dp83848_phy_reset_hold(Object *obj, ResetType type)
{
    DP83848PhyState *s = DP83848_PHY(obj);

    dp83848_reset_regs(s);
    s->int_level = true;
    s->link_seen = !s->link_down;
}

static void dp83848_phy_reset_exit(Object *obj, ResetType type)
{
    DP83848PhyState *s = DP83848_PHY(obj);

    qemu_set_irq(s->irq, 1);
}

static void dp83848_phy_init(Object *obj)
{
    DP83848PhyState *s = DP83848_PHY(obj);

    qdev_init_gpio_out_named(DEVICE(obj), &s->irq, "int", 1);
}

static const VMStateDescription vmstate_dp83848_phy = {
    .name = TYPE_DP83848_PHY,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16_ARRAY(regs, DP83848PhyState, DP83848_PHY_NREGS),
        VMSTATE_UINT16(misr_status, DP83848PhyState),
        VMSTATE_BOOL(link_seen, DP83848PhyState),
        VMSTATE_BOOL(int_level, DP83848PhyState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property dp83848_phy_properties[] = {
    DEFINE_PROP_UINT8("phy-addr", DP83848PhyState, phy_addr, 1),
};

static void dp83848_phy_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
    dc->desc = "DP83848 10/100 Ethernet PHY";
    dc->vmsd = &vmstate_dp83848_phy;
    rc->phases.hold = dp83848_phy_reset_hold;
    rc->phases.exit = dp83848_phy_reset_exit;
    device_class_set_props(dc, dp83848_phy_properties);
}

static const TypeInfo dp83848_phy_types[] = {
    {
        .name = TYPE_DP83848_PHY,
        .parent = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(DP83848PhyState),
        .instance_init = dp83848_phy_init,
        .class_init = dp83848_phy_class_init,
    },
};

DEFINE_TYPES(dp83848_phy_types)
