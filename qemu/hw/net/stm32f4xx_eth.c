/*
 * STM32F4xx Ethernet MAC with DMA (RM0090 chapter 33)
 *
 * RM0090 rev 19, section 33.8 (register map) and 33.6 (DMA descriptors).
 * The MAC's MII management frames reach a DP83848 PHY (dp83848_phy.c) at
 * MDIO address 1, as on the STM324xG-EVAL; other addresses read 0xffff.
 * The DMA masters the bus through the "dma-memory" region the SoC links in
 * (its bus matrix, which has no CCM RAM): an access outside it is a fatal
 * bus error.
 *
 * Modelled: MAC configuration, frame filter (perfect, hash, promiscuous,
 * broadcast/multicast controls, SA filter), MII management to the PHY,
 * normal and enhanced descriptors in ring and chained mode, TX/RX DMA
 * processes with suspend/poll demand, checksum insertion and RX checksum
 * status, FCS handling, DMA status and interrupts, MMC frame counters.
 * Not modelled: PTP time stamping, PMT wake-up (IRQ 1 never rises), flow
 * control frames, half duplex collisions, VLAN tag filtering, FIFO timing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "qemu/timer.h"
#include "migration/vmstate.h"
#include "system/dma.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "hw/net/stm32f4xx_eth.h"
#include "hw/net/dp83848_phy.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"
#include <zlib.h>

/* MAC registers */
REG32(MACCR, 0x00)
    FIELD(MACCR, RE, 2, 1)
    FIELD(MACCR, TE, 3, 1)
    FIELD(MACCR, DC, 4, 1)
    FIELD(MACCR, APCS, 7, 1)
    FIELD(MACCR, IPCO, 10, 1)
    FIELD(MACCR, DM, 11, 1)
    FIELD(MACCR, LM, 12, 1)
    FIELD(MACCR, FES, 14, 1)
    FIELD(MACCR, JD, 22, 1)
    FIELD(MACCR, WD, 23, 1)
    FIELD(MACCR, CSTF, 25, 1)
REG32(MACFFR, 0x04)
    FIELD(MACFFR, PM, 0, 1)
    FIELD(MACFFR, HU, 1, 1)
    FIELD(MACFFR, HM, 2, 1)
    FIELD(MACFFR, DAIF, 3, 1)
    FIELD(MACFFR, PAM, 4, 1)
    FIELD(MACFFR, BFD, 5, 1)
    FIELD(MACFFR, PCF, 6, 2)
    FIELD(MACFFR, SAIF, 8, 1)
    FIELD(MACFFR, SAF, 9, 1)
    FIELD(MACFFR, HPF, 10, 1)
    FIELD(MACFFR, RA, 31, 1)
REG32(MACHTHR, 0x08)
REG32(MACHTLR, 0x0c)
REG32(MACMIIAR, 0x10)
    FIELD(MACMIIAR, MB, 0, 1)
    FIELD(MACMIIAR, MW, 1, 1)
    FIELD(MACMIIAR, CR, 2, 3)
    FIELD(MACMIIAR, MR, 6, 5)
    FIELD(MACMIIAR, PA, 11, 5)
REG32(MACMIIDR, 0x14)
REG32(MACFCR, 0x18)
    FIELD(MACFCR, FCB, 0, 1)
REG32(MACVLANTR, 0x1c)
REG32(MACRWUFFR, 0x28)
REG32(MACPMTCSR, 0x2c)
    FIELD(MACPMTCSR, PD, 0, 1)
    FIELD(MACPMTCSR, WFFRPR, 31, 1)
REG32(MACDBGR, 0x34)
REG32(MACSR, 0x38)
REG32(MACIMR, 0x3c)
REG32(MACA0HR, 0x40)
REG32(MACA0LR, 0x44)
REG32(MACA1HR, 0x48)
    FIELD(MACA1HR, MBC, 24, 6)
    FIELD(MACA1HR, SA, 30, 1)
    FIELD(MACA1HR, AE, 31, 1)
REG32(MACA1LR, 0x4c)
REG32(MACA2HR, 0x50)
REG32(MACA2LR, 0x54)
REG32(MACA3HR, 0x58)
REG32(MACA3LR, 0x5c)

/* MMC registers */
REG32(MMCCR, 0x100)
    FIELD(MMCCR, CR, 0, 1)
    FIELD(MMCCR, CSR, 1, 1)
    FIELD(MMCCR, ROR, 2, 1)
    FIELD(MMCCR, MCF, 3, 1)
REG32(MMCRIR, 0x104)
REG32(MMCTIR, 0x108)
REG32(MMCRIMR, 0x10c)
REG32(MMCTIMR, 0x110)
REG32(MMCTGFSCCR, 0x14c)
REG32(MMCTGFMSCCR, 0x150)
REG32(MMCTGFCR, 0x168)
REG32(MMCRFCECR, 0x194)
REG32(MMCRFAECR, 0x198)
REG32(MMCRGUFCR, 0x1c4)

/* PTP registers (stored only) */
REG32(PTPTSCR, 0x700)
REG32(PTPPPSCR, 0x744)
#define PTP_BASE            0x700
#define PTP_END             (PTP_BASE + STM32F4XX_ETH_PTP_WORDS * 4)
#define PTPTSCR_RESET       0x00002000
/* TSSTI, TSSTU, TSARU self-clear once the (unmodelled) update is done */
#define PTPTSCR_SELF_CLEAR  0x0000002c

/* DMA registers */
REG32(DMABMR, 0x1000)
    FIELD(DMABMR, SR, 0, 1)
    FIELD(DMABMR, DSL, 2, 5)
    FIELD(DMABMR, EDFE, 7, 1)
REG32(DMATPDR, 0x1004)
REG32(DMARPDR, 0x1008)
REG32(DMARDLAR, 0x100c)
REG32(DMATDLAR, 0x1010)
REG32(DMASR, 0x1014)
    FIELD(DMASR, TS, 0, 1)
    FIELD(DMASR, TPSS, 1, 1)
    FIELD(DMASR, TBUS, 2, 1)
    FIELD(DMASR, TJTS, 3, 1)
    FIELD(DMASR, ROS, 4, 1)
    FIELD(DMASR, TUS, 5, 1)
    FIELD(DMASR, RS, 6, 1)
    FIELD(DMASR, RBUS, 7, 1)
    FIELD(DMASR, RPSS, 8, 1)
    FIELD(DMASR, RWTS, 9, 1)
    FIELD(DMASR, ETS, 10, 1)
    FIELD(DMASR, FBES, 13, 1)
    FIELD(DMASR, ERS, 14, 1)
    FIELD(DMASR, AIS, 15, 1)
    FIELD(DMASR, NIS, 16, 1)
    FIELD(DMASR, RPS, 17, 3)
    FIELD(DMASR, TPS, 20, 3)
    FIELD(DMASR, EBS, 23, 3)
REG32(DMAOMR, 0x1018)
    FIELD(DMAOMR, SR, 1, 1)
    FIELD(DMAOMR, ST, 13, 1)
    FIELD(DMAOMR, FTF, 20, 1)
    FIELD(DMAOMR, TSF, 21, 1)
REG32(DMAIER, 0x101c)
    FIELD(DMAIER, AISE, 15, 1)
    FIELD(DMAIER, NISE, 16, 1)
REG32(DMAMFBOCR, 0x1020)
REG32(DMARSWTR, 0x1024)
REG32(DMACHTDR, 0x1048)
REG32(DMACHRDR, 0x104c)
REG32(DMACHTBAR, 0x1050)
REG32(DMACHRBAR, 0x1054)

/* Writable bits and reset values (RM0090 33.8) */
#define MACCR_RESET         0x00008000  /* bit 15 reserved, reads 1 */
#define MACCR_WMASK         0x02cf7efc
#define MACFFR_WMASK        0x800007ff
#define MACMIIAR_WMASK      0x0000ffdf
#define MACFCR_WMASK        0xffff00bf
#define MACVLANTR_WMASK     0x0001ffff
#define MACPMTCSR_WMASK     0x00000207
#define MACIMR_WMASK        0x00000208
#define MACA0HR_RESET       0x8000ffff  /* MO (bit 31) always reads 1 */
#define MACAXHR_RESET       0x0000ffff
#define MACAXLR_RESET       0xffffffff
#define MACAXHR_WMASK       0xff00ffff
#define MMCCR_WMASK         0x0000003f
#define MMCRIMR_WMASK       0x00020060
#define MMCTIMR_WMASK       0x0020c000
#define DMABMR_RESET        0x00020101  /* SR reads 1 until reset completes */
#define DMABMR_SR_NS        1000        /* how long a reset takes */
#define DMABMR_WMASK        0x07ffffff
#define DMAOMR_WMASK        0x0731e0de
#define DMAIER_WMASK        0x0001e7ff
#define DMASR_W1C           0x0001e7ff
#define DMARSWTR_WMASK      0x000000ff

/* Summary groups of DMASR */
#define DMASR_NORMAL  (R_DMASR_TS_MASK | R_DMASR_TBUS_MASK | R_DMASR_RS_MASK | \
                       R_DMASR_ERS_MASK)
#define DMASR_ABNORMAL (R_DMASR_TPSS_MASK | R_DMASR_TJTS_MASK | \
                        R_DMASR_ROS_MASK | R_DMASR_TUS_MASK | \
                        R_DMASR_RBUS_MASK | R_DMASR_RPSS_MASK | \
                        R_DMASR_RWTS_MASK | R_DMASR_ETS_MASK | \
                        R_DMASR_FBES_MASK)

/* DMASR.TPS / RPS process states */
#define TPS_STOPPED     0
#define TPS_SUSPENDED   6
#define RPS_STOPPED     0
#define RPS_WAITING     3
#define RPS_SUSPENDED   4

/* DMASR.EBS: which access raised FBES */
#define EBS_TX          (1u << 0)
#define EBS_READ        (1u << 1)
#define EBS_DESC        (1u << 2)

/* Transmit descriptor TDES0 (normal and enhanced) */
#define TDES0_OWN       (1u << 31)
#define TDES0_IC        (1u << 30)
#define TDES0_LS        (1u << 29)
#define TDES0_FS        (1u << 28)
#define TDES0_DC        (1u << 27)
#define TDES0_DP        (1u << 26)
#define TDES0_CIC_SHIFT 22
#define TDES0_CIC_MASK  (3u << TDES0_CIC_SHIFT)
#define TDES0_TER       (1u << 21)
#define TDES0_TCH       (1u << 20)
#define TDES0_IHE       (1u << 16)
#define TDES0_ES        (1u << 15)
#define TDES0_JT        (1u << 14)
#define TDES0_IPE       (1u << 12)
#define TDES0_VF        (1u << 7)
#define TDES0_STATUS    0x0003ffffu
#define TDES1_TBS1(x)   ((x) & 0x1fff)
#define TDES1_TBS2(x)   (((x) >> 16) & 0x1fff)

/* Receive descriptor RDES0 */
#define RDES0_OWN       (1u << 31)
#define RDES0_AFM       (1u << 30)
#define RDES0_FL_SHIFT  16
#define RDES0_FL_MASK   (0x3fffu << RDES0_FL_SHIFT)
#define RDES0_ES        (1u << 15)
#define RDES0_DE        (1u << 14)
#define RDES0_SAF       (1u << 13)
#define RDES0_VLAN      (1u << 10)
#define RDES0_FS        (1u << 9)
#define RDES0_LS        (1u << 8)
#define RDES0_IPHCE     (1u << 7)    /* giant frame when IPCO is clear */
#define RDES0_FT        (1u << 5)
#define RDES0_RWT       (1u << 4)
#define RDES0_PCE       (1u << 0)    /* ESA with enhanced descriptors */
#define RDES1_DIC       (1u << 31)
#define RDES1_RER       (1u << 15)
#define RDES1_RCH       (1u << 14)
#define RDES1_RBS1(x)   ((x) & 0x1fff)
#define RDES1_RBS2(x)   (((x) >> 16) & 0x1fff)
/* Enhanced RDES4: extended status */
#define RDES4_IPV6PR    (1u << 7)
#define RDES4_IPV4PR    (1u << 6)
#define RDES4_IPCB      (1u << 5)
#define RDES4_IPPE      (1u << 4)
#define RDES4_IPHE      (1u << 3)
#define RDES4_IPPT_UDP  1
#define RDES4_IPPT_TCP  2
#define RDES4_IPPT_ICMP 3

/* Bounds on every descriptor walk */
#define MAX_DESC_PER_RUN 256
#define MIN_FRAME        60      /* without FCS */
#define FCS_LEN          4
#define ETH_P_MIN_TYPE   0x0600  /* below: IEEE 802.3 length field */

#define PHY_ADDR         1

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */

static void eth_update_irq(STM32F4xxEthState *s)
{
    uint32_t enabled = s->dmasr & s->dmaier;
    bool level;

    /* The summary bits are sticky: set by any enabled source, W1C only */
    if (enabled & DMASR_NORMAL) {
        s->dmasr |= R_DMASR_NIS_MASK;
    }
    if (enabled & DMASR_ABNORMAL) {
        s->dmasr |= R_DMASR_AIS_MASK;
    }
    level = ((s->dmasr & R_DMASR_NIS_MASK) &&
             (s->dmaier & R_DMAIER_NISE_MASK)) ||
            ((s->dmasr & R_DMASR_AIS_MASK) &&
             (s->dmaier & R_DMAIER_AISE_MASK));
    trace_stm32f4xx_eth_irq(s->dmasr, s->dmaier, level);
    qemu_set_irq(s->irq, level);
}

static void eth_set_status(STM32F4xxEthState *s, uint32_t bits)
{
    s->dmasr |= bits;
    eth_update_irq(s);
}

static unsigned eth_tps(STM32F4xxEthState *s)
{
    return FIELD_EX32(s->dmasr, DMASR, TPS);
}

static unsigned eth_rps(STM32F4xxEthState *s)
{
    return FIELD_EX32(s->dmasr, DMASR, RPS);
}

static void eth_set_tps(STM32F4xxEthState *s, unsigned state)
{
    s->dmasr = FIELD_DP32(s->dmasr, DMASR, TPS, state);
    trace_stm32f4xx_eth_dma_state("tx", state);
}

static void eth_set_rps(STM32F4xxEthState *s, unsigned state)
{
    s->dmasr = FIELD_DP32(s->dmasr, DMASR, RPS, state);
    trace_stm32f4xx_eth_dma_state("rx", state);
}

/*
 * A fatal bus error stops the DMA engine that hit it until the guest
 * restarts it (in practice: a DMABMR software reset).
 */
static void eth_fatal_bus_error(STM32F4xxEthState *s, unsigned ebs,
                                uint32_t addr, const char *what)
{
    qemu_log_mask(LOG_GUEST_ERROR,
                  "stm32f4xx_eth: %s DMA %s access to 0x%08" PRIx32
                  " failed (fatal bus error, DMA stopped)\n",
                  (ebs & EBS_TX) ? "TX" : "RX", what, addr);
    s->dmasr = FIELD_DP32(s->dmasr, DMASR, EBS, ebs);
    if (ebs & EBS_TX) {
        eth_set_tps(s, TPS_STOPPED);
        s->tx_in_frame = false;
        s->tx_len = 0;
    } else {
        eth_set_rps(s, RPS_STOPPED);
    }
    eth_set_status(s, R_DMASR_FBES_MASK);
}

static bool eth_dma_read(STM32F4xxEthState *s, uint32_t addr, void *buf,
                         uint32_t len, unsigned ebs)
{
    if (dma_memory_read(&s->dma_as, addr, buf, len,
                        MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        eth_fatal_bus_error(s, ebs | EBS_READ, addr,
                            (ebs & EBS_DESC) ? "descriptor read" :
                            "buffer read");
        return false;
    }
    return true;
}

static bool eth_dma_write(STM32F4xxEthState *s, uint32_t addr,
                          const void *buf, uint32_t len, unsigned ebs)
{
    if (dma_memory_write(&s->dma_as, addr, buf, len,
                         MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        eth_fatal_bus_error(s, ebs, addr,
                            (ebs & EBS_DESC) ? "descriptor write" :
                            "buffer write");
        return false;
    }
    return true;
}

static bool eth_read_desc(STM32F4xxEthState *s, uint32_t addr,
                          uint32_t desc[4], unsigned ebs)
{
    uint32_t raw[4];
    int i;

    if (!eth_dma_read(s, addr, raw, sizeof(raw), ebs | EBS_DESC)) {
        return false;
    }
    for (i = 0; i < 4; i++) {
        desc[i] = le32_to_cpu(raw[i]);
    }
    return true;
}

static bool eth_write_word(STM32F4xxEthState *s, uint32_t addr,
                           uint32_t value, unsigned ebs)
{
    uint32_t raw = cpu_to_le32(value);

    return eth_dma_write(s, addr, &raw, sizeof(raw), ebs | EBS_DESC);
}

static uint32_t eth_desc_size(STM32F4xxEthState *s)
{
    return FIELD_EX32(s->dmabmr, DMABMR, EDFE) ? 32 : 16;
}

/* Next descriptor in ring mode: skip DSL words after this descriptor */
static uint32_t eth_ring_next(STM32F4xxEthState *s, uint32_t addr)
{
    return addr + eth_desc_size(s) + FIELD_EX32(s->dmabmr, DMABMR, DSL) * 4;
}

/* ------------------------------------------------------------------ */
/* MII management                                                      */

static void eth_mdio_access(STM32F4xxEthState *s)
{
    unsigned pa = FIELD_EX32(s->macmiiar, MACMIIAR, PA);
    unsigned mr = FIELD_EX32(s->macmiiar, MACMIIAR, MR);

    if (FIELD_EX32(s->macmiiar, MACMIIAR, MW)) {
        uint16_t val = s->macmiidr & 0xffff;

        trace_stm32f4xx_eth_mdio_write(pa, mr, val);
        if (pa == PHY_ADDR) {
            dp83848_phy_write(&s->phy, mr, val);
        }
    } else {
        /* Nothing drives MDIO for other addresses: the pull-up reads 1s */
        uint16_t val = pa == PHY_ADDR ? dp83848_phy_read(&s->phy, mr) : 0xffff;

        trace_stm32f4xx_eth_mdio_read(pa, mr, val);
        s->macmiidr = val;
    }
    /* The management frame completes before the guest can look */
    s->macmiiar &= ~R_MACMIIAR_MB_MASK;
}

static void eth_set_link(NetClientState *nc)
{
    STM32F4xxEthState *s = qemu_get_nic_opaque(nc);

    trace_stm32f4xx_eth_link(!nc->link_down);
    dp83848_phy_update_link(&s->phy, nc->link_down);
}

/* ------------------------------------------------------------------ */
/* Checksum offload                                                    */

typedef struct EthL3Info {
    unsigned l3;          /* offset of the IP header */
    unsigned l4;          /* offset of the transport header */
    unsigned l4_len;      /* transport header + payload */
    uint8_t proto;
    bool ipv4;
    bool ipv6;
    bool hdr_error;
    bool len_error;       /* payload length disagrees with the frame */
    bool bypass;          /* fragment or unsupported payload */
} EthL3Info;

static uint16_t eth_ethertype(const uint8_t *f, size_t len, unsigned *l3)
{
    uint16_t type;

    if (len < ETH_HLEN) {
        return 0;
    }
    type = lduw_be_p(f + 12);
    *l3 = ETH_HLEN;
    if (type == ETH_P_VLAN && len >= ETH_HLEN + 4) {
        type = lduw_be_p(f + 16);
        *l3 = ETH_HLEN + 4;
    }
    return type;
}

static bool eth_parse_l3(const uint8_t *f, size_t len, EthL3Info *info)
{
    uint16_t type;

    memset(info, 0, sizeof(*info));
    type = eth_ethertype(f, len, &info->l3);
    if (type == ETH_P_IP) {
        const uint8_t *ip = f + info->l3;
        unsigned ihl, total;

        info->ipv4 = true;
        if (len < info->l3 + 20 || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5) {
            info->hdr_error = true;
            return true;
        }
        ihl = (ip[0] & 0xf) * 4;
        total = lduw_be_p(ip + 2);
        if (len < info->l3 + ihl || total < ihl) {
            info->hdr_error = true;
            return true;
        }
        info->proto = ip[9];
        info->l4 = info->l3 + ihl;
        info->l4_len = total - ihl;
        if (info->l3 + total > len) {
            info->len_error = true;
        }
        if (lduw_be_p(ip + 6) & 0x3fff) {
            info->bypass = true;      /* fragment */
        }
        return true;
    }
    if (type == ETH_P_IPV6) {
        const uint8_t *ip = f + info->l3;

        info->ipv6 = true;
        if (len < info->l3 + 40 || (ip[0] >> 4) != 6) {
            info->hdr_error = true;
            return true;
        }
        info->proto = ip[6];
        info->l4 = info->l3 + 40;
        info->l4_len = lduw_be_p(ip + 4);
        if (info->l4 + info->l4_len > len) {
            info->len_error = true;
        }
        return true;
    }
    return false;
}

/* Offset of the checksum field inside the transport header, or -1 */
static int eth_l4_csum_offset(const EthL3Info *info)
{
    switch (info->proto) {
    case IP_PROTO_TCP:
        return 16;
    case IP_PROTO_UDP:
        return 6;
    case 1:     /* ICMP */
        return info->ipv4 ? 2 : -1;
    case 58:    /* ICMPv6 */
        return info->ipv6 ? 2 : -1;
    default:
        return -1;
    }
}

static uint32_t eth_pseudo_sum(const uint8_t *f, const EthL3Info *info)
{
    const uint8_t *ip = f + info->l3;
    uint32_t sum;

    if (info->ipv4) {
        if (info->proto == 1) {
            return 0;       /* ICMP has no pseudo header */
        }
        sum = net_checksum_add(8, (uint8_t *)ip + 12);
    } else {
        sum = net_checksum_add(32, (uint8_t *)ip + 8);
    }
    return sum + info->proto + info->l4_len;
}

/* TX checksum insertion, TDES0.CIC (RM0090 33.5.8); returns TDES0 errors */
static uint32_t eth_tx_csum(uint8_t *f, size_t len, unsigned cic)
{
    EthL3Info info;
    uint32_t sum;
    int off;

    if (!eth_parse_l3(f, len, &info)) {
        return 0;
    }
    if (info.hdr_error) {
        return TDES0_IHE;
    }
    if (info.ipv4) {
        uint8_t *ip = f + info.l3;
        unsigned ihl = info.l4 - info.l3;

        stw_be_p(ip + 10, 0);
        stw_be_p(ip + 10, net_raw_checksum(ip, ihl));
    }
    if (cic < 2) {
        return 0;
    }
    if (info.len_error) {
        return TDES0_IPE;
    }
    off = eth_l4_csum_offset(&info);
    if (info.bypass || off < 0 || info.l4_len < (unsigned)off + 2) {
        return 0;
    }
    if (cic == 3) {
        /* The MAC computes the pseudo header itself */
        stw_be_p(f + info.l4 + off, 0);
        sum = eth_pseudo_sum(f, &info);
    } else {
        /* The guest left the pseudo-header sum in the field */
        sum = 0;
    }
    sum += net_checksum_add(info.l4_len, f + info.l4);
    if (info.proto == IP_PROTO_UDP) {
        stw_be_p(f + info.l4 + off, net_checksum_finish_nozero(sum));
    } else {
        stw_be_p(f + info.l4 + off, net_checksum_finish(sum));
    }
    return 0;
}

/* RX checksum check when MACCR.IPCO is set: RDES0 bits and RDES4 */
static void eth_rx_csum(STM32F4xxEthState *s, const uint8_t *f, size_t len,
                        uint32_t *rdes0, uint32_t *rdes4)
{
    bool enhanced = FIELD_EX32(s->dmabmr, DMABMR, EDFE);
    bool hdr_err = false, pay_err = false, bypass = false;
    EthL3Info info;
    unsigned l3;
    uint16_t type = eth_ethertype(f, len, &l3);
    int off;

    *rdes4 = 0;
    if (type < ETH_P_MIN_TYPE) {
        *rdes0 &= ~RDES0_FT;         /* 802.3 length frame */
        return;
    }
    if (!eth_parse_l3(f, len, &info)) {
        /* Type frame, neither IPv4 nor IPv6: engine bypassed */
        if (!enhanced) {
            *rdes0 = (*rdes0 & ~RDES0_FT) | RDES0_IPHCE | RDES0_PCE;
        }
        return;
    }
    *rdes4 |= info.ipv4 ? RDES4_IPV4PR : RDES4_IPV6PR;
    if (info.hdr_error) {
        hdr_err = true;
    } else {
        if (info.ipv4 && net_raw_checksum((uint8_t *)f + info.l3,
                                          info.l4 - info.l3) != 0) {
            hdr_err = true;
        }
        off = eth_l4_csum_offset(&info);
        if (info.bypass || off < 0) {
            bypass = true;
        } else if (info.len_error || info.l4_len < (unsigned)off + 2) {
            pay_err = true;
        } else {
            uint32_t sum = eth_pseudo_sum(f, &info) +
                           net_checksum_add(info.l4_len,
                                            (uint8_t *)f + info.l4);
            bool udp_none = info.proto == IP_PROTO_UDP && info.ipv4 &&
                            lduw_be_p(f + info.l4 + off) == 0;

            if (!udp_none && net_checksum_finish(sum) != 0) {
                pay_err = true;
            }
            switch (info.proto) {
            case IP_PROTO_UDP:
                *rdes4 |= RDES4_IPPT_UDP;
                break;
            case IP_PROTO_TCP:
                *rdes4 |= RDES4_IPPT_TCP;
                break;
            default:
                *rdes4 |= RDES4_IPPT_ICMP;
                break;
            }
        }
    }
    if (hdr_err) {
        *rdes4 |= RDES4_IPHE;
    }
    if (pay_err) {
        *rdes4 |= RDES4_IPPE;
    }
    if (bypass) {
        *rdes4 |= RDES4_IPCB;
    }
    if (enhanced) {
        *rdes0 |= RDES0_FT | RDES0_PCE;     /* PCE is ESA here */
        if (hdr_err) {
            *rdes0 |= RDES0_IPHCE;
        }
        return;
    }
    /* Normal descriptors: encoding of bits 5/7/0 (RM0090 table 192) */
    if (bypass && !hdr_err) {
        *rdes0 = (*rdes0 & ~RDES0_FT) | RDES0_PCE;
        return;
    }
    *rdes0 |= RDES0_FT;
    if (hdr_err) {
        *rdes0 |= RDES0_IPHCE;
    }
    if (pay_err) {
        *rdes0 |= RDES0_PCE;
    }
}

/* ------------------------------------------------------------------ */
/* Receive                                                             */

static void eth_mac_addr(STM32F4xxEthState *s, int n, uint8_t mac[6])
{
    stl_le_p(mac, s->maca_lr[n]);
    stw_le_p(mac + 4, s->maca_hr[n] & 0xffff);
}

/* Perfect filter against MACA0 and the enabled MACA1..3 */
static bool eth_perfect_match(STM32F4xxEthState *s, const uint8_t *addr,
                              bool source)
{
    uint8_t mac[6];
    int n, i;

    for (n = 0; n < 4; n++) {
        unsigned mbc = 0;

        if (n > 0) {
            if (!FIELD_EX32(s->maca_hr[n], MACA1HR, AE) ||
                FIELD_EX32(s->maca_hr[n], MACA1HR, SA) != source) {
                continue;
            }
            mbc = FIELD_EX32(s->maca_hr[n], MACA1HR, MBC);
        } else if (source) {
            continue;
        }
        eth_mac_addr(s, n, mac);
        for (i = 0; i < 6; i++) {
            if (!(mbc & (1u << i)) && mac[i] != addr[i]) {
                break;
            }
        }
        if (i == 6) {
            return true;
        }
    }
    return false;
}

static bool eth_hash_match(STM32F4xxEthState *s, const uint8_t *addr)
{
    /* Upper 6 bits of the bit-reversed CRC-32 of the destination address */
    unsigned idx = revbit32(crc32(0, addr, 6)) >> 26;
    uint32_t table = idx & 0x20 ? s->machthr : s->machtlr;

    return table & (1u << (idx & 0x1f));
}

/* Frame filter (RM0090 33.5.6); returns false to drop, sets AFM/SAF */
static bool eth_rx_filter(STM32F4xxEthState *s, const uint8_t *f,
                          uint32_t *rdes0)
{
    uint32_t ffr = s->macffr;
    const uint8_t *da = f, *sa = f + 6;
    bool da_pass, sa_pass = true;

    if (FIELD_EX32(ffr, MACFFR, PM)) {
        return true;
    }
    if (is_broadcast_ether_addr(da)) {
        da_pass = !FIELD_EX32(ffr, MACFFR, BFD);
    } else if (is_multicast_ether_addr(da)) {
        if (FIELD_EX32(ffr, MACFFR, PAM)) {
            da_pass = true;
        } else if (FIELD_EX32(ffr, MACFFR, HM)) {
            da_pass = eth_hash_match(s, da) ||
                      (FIELD_EX32(ffr, MACFFR, HPF) &&
                       eth_perfect_match(s, da, false));
        } else {
            da_pass = eth_perfect_match(s, da, false);
        }
        if (FIELD_EX32(ffr, MACFFR, DAIF) && !FIELD_EX32(ffr, MACFFR, PAM)) {
            da_pass = !da_pass;
        }
    } else {
        if (FIELD_EX32(ffr, MACFFR, HU)) {
            da_pass = eth_hash_match(s, da) ||
                      (FIELD_EX32(ffr, MACFFR, HPF) &&
                       eth_perfect_match(s, da, false));
        } else {
            da_pass = eth_perfect_match(s, da, false);
        }
        if (FIELD_EX32(ffr, MACFFR, DAIF)) {
            da_pass = !da_pass;
        }
    }
    if (FIELD_EX32(ffr, MACFFR, SAF) || FIELD_EX32(ffr, MACFFR, SAIF)) {
        sa_pass = eth_perfect_match(s, sa, true);
        if (FIELD_EX32(ffr, MACFFR, SAIF)) {
            sa_pass = !sa_pass;
        }
    }
    if (!da_pass) {
        *rdes0 |= RDES0_AFM;
    }
    if (!sa_pass) {
        *rdes0 |= RDES0_SAF;
    }
    if (FIELD_EX32(ffr, MACFFR, RA)) {
        return true;
    }
    return da_pass && (sa_pass || !FIELD_EX32(ffr, MACFFR, SAF));
}

/*
 * Fetch the current RX descriptor; a descriptor the DMA does not own
 * suspends the receive process with RBUS. Returns true if owned.
 */
static bool eth_rx_fetch(STM32F4xxEthState *s)
{
    uint32_t desc[4];

    if (eth_rps(s) == RPS_STOPPED) {
        return false;
    }
    if (!eth_read_desc(s, s->rx_cur, desc, 0)) {
        return false;
    }
    if (!(desc[0] & RDES0_OWN)) {
        if (eth_rps(s) != RPS_SUSPENDED) {
            eth_set_rps(s, RPS_SUSPENDED);
            eth_set_status(s, R_DMASR_RBUS_MASK);
        }
        return false;
    }
    eth_set_rps(s, RPS_WAITING);
    return true;
}

static bool eth_rx_ready(STM32F4xxEthState *s)
{
    switch (eth_rps(s)) {
    case RPS_WAITING:
        return true;
    case RPS_SUSPENDED:
        /* A new frame makes the DMA look at the descriptor again */
        return eth_rx_fetch(s);
    default:
        return false;
    }
}

static void eth_rx_flush(STM32F4xxEthState *s)
{
    if (FIELD_EX32(s->maccr, MACCR, RE) && eth_rps(s) == RPS_WAITING) {
        qemu_flush_queued_packets(qemu_get_queue(s->nic));
    }
}

static bool eth_can_receive(NetClientState *nc)
{
    STM32F4xxEthState *s = qemu_get_nic_opaque(nc);

    if (!FIELD_EX32(s->maccr, MACCR, RE)) {
        return true;        /* receiver off: frames are dropped on the wire */
    }
    return eth_rx_ready(s);
}

typedef struct RxSlot {
    uint32_t addr;
    uint32_t rdes1;
    uint32_t buf[2];
    uint32_t size[2];
} RxSlot;

/*
 * Store one frame (FCS included) through the RX descriptors.
 * Returns false if there was no descriptor for it.
 */
static bool eth_rx_dma(STM32F4xxEthState *s, const uint8_t *frame,
                       size_t len, uint32_t status, uint32_t rdes4)
{
    RxSlot slots[MAX_DESC_PER_RUN];
    unsigned nslots = 0, i;
    uint32_t addr = s->rx_cur;
    size_t space = 0, done, stored;
    bool truncated = false;

    /* Collect the owned descriptors this frame needs, without writing */
    while (space < len) {
        uint32_t desc[4];
        RxSlot *slot;

        if (nslots == MAX_DESC_PER_RUN) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "stm32f4xx_eth: RX frame needs more than %d "
                          "descriptors, truncated\n", MAX_DESC_PER_RUN);
            truncated = true;
            break;
        }
        if (!eth_read_desc(s, addr, desc, 0)) {
            return true;    /* FBES: frame lost, DMA stopped */
        }
        if (!(desc[0] & RDES0_OWN)) {
            if (nslots == 0) {
                eth_set_rps(s, RPS_SUSPENDED);
                eth_set_status(s, R_DMASR_RBUS_MASK);
                return false;
            }
            truncated = true;
            break;
        }
        slot = &slots[nslots++];
        slot->addr = addr;
        slot->rdes1 = desc[1];
        slot->buf[0] = desc[2];
        slot->size[0] = RDES1_RBS1(desc[1]);
        if (desc[1] & RDES1_RCH) {
            slot->buf[1] = 0;
            slot->size[1] = 0;
        } else {
            slot->buf[1] = desc[3];
            slot->size[1] = RDES1_RBS2(desc[1]);
        }
        space += slot->size[0] + slot->size[1];
        if (desc[1] & RDES1_RER) {
            addr = s->dmardlar;
        } else if (desc[1] & RDES1_RCH) {
            addr = desc[3];
        } else {
            addr = eth_ring_next(s, addr);
        }
        addr &= ~3u;
    }

    /* Copy the data and close the descriptors */
    done = 0;
    for (i = 0; i < nslots; i++) {
        RxSlot *slot = &slots[i];
        bool last = (i == nslots - 1);
        uint32_t rdes0;
        int b;

        for (b = 0; b < 2 && done < len; b++) {
            uint32_t n = MIN(slot->size[b], len - done);

            if (n == 0) {
                continue;
            }
            s->rx_cur_buf = slot->buf[b] + n;
            if (!eth_dma_write(s, slot->buf[b], frame + done, n, 0)) {
                return true;
            }
            done += n;
        }
        rdes0 = (i == 0) ? RDES0_FS : 0;
        if (last) {
            stored = truncated ? done : len;
            rdes0 |= status | RDES0_LS;
            if (truncated) {
                rdes0 |= RDES0_DE | RDES0_ES;
            }
            rdes0 |= (stored << RDES0_FL_SHIFT) & RDES0_FL_MASK;
            if (FIELD_EX32(s->dmabmr, DMABMR, EDFE) &&
                !eth_write_word(s, slot->addr + 16, rdes4, 0)) {
                return true;
            }
        } else {
            rdes0 |= (done << RDES0_FL_SHIFT) & RDES0_FL_MASK;
        }
        if (!eth_write_word(s, slot->addr, rdes0, 0)) {
            return true;
        }
        trace_stm32f4xx_eth_rx_desc(slot->addr, rdes0);
    }

    /* Next descriptor: after the last used one */
    if (nslots) {
        RxSlot *slot = &slots[nslots - 1];

        if (slot->rdes1 & RDES1_RER) {
            s->rx_cur = s->dmardlar;
        } else {
            s->rx_cur = addr;
        }
        if (!(slot->rdes1 & RDES1_DIC)) {
            s->dmasr |= R_DMASR_RS_MASK;
        }
    }
    eth_update_irq(s);
    /* The DMA fetches the next descriptor right away */
    eth_rx_fetch(s);
    return true;
}

/*
 * Frame from the wire (or from loopback) into the MAC: pad, add FCS,
 * filter, strip, check, and hand to the RX DMA.
 * Returns false if the frame should be kept by the sender for later.
 */
static bool eth_rx_frame(STM32F4xxEthState *s, const uint8_t *buf,
                         size_t size)
{
    uint8_t frame[STM32F4XX_ETH_MAX_FRAME];
    uint32_t status = 0, rdes4 = 0;
    size_t len = size, wire_len;
    uint16_t type;
    unsigned l3;
    uint32_t fcs;

    if (!FIELD_EX32(s->maccr, MACCR, RE)) {
        trace_stm32f4xx_eth_rx_drop(size, "receiver disabled");
        return true;
    }
    if (len < ETH_HLEN) {
        trace_stm32f4xx_eth_rx_drop(size, "runt");
        return true;
    }
    if (!eth_rx_ready(s)) {
        return false;
    }

    /* The sender pads short frames and appends the FCS */
    if (len > STM32F4XX_ETH_MAX_FRAME - FCS_LEN) {
        len = STM32F4XX_ETH_MAX_FRAME - FCS_LEN;
        status |= RDES0_RWT | RDES0_ES;
        eth_set_status(s, R_DMASR_RWTS_MASK);
    }
    memcpy(frame, buf, len);
    if (len < MIN_FRAME) {
        memset(frame + len, 0, MIN_FRAME - len);
        len = MIN_FRAME;
    }
    fcs = crc32(0, frame, len);
    stl_le_p(frame + len, fcs);
    wire_len = len + FCS_LEN;

    if (!eth_rx_filter(s, frame, &status)) {
        trace_stm32f4xx_eth_rx_drop(size, "address filter");
        return true;
    }

    type = eth_ethertype(frame, len, &l3);
    if (type >= ETH_P_MIN_TYPE) {
        status |= RDES0_FT;
    }
    if (type == ETH_P_VLAN || lduw_be_p(frame + 12) == ETH_P_VLAN) {
        status |= RDES0_VLAN;
    }
    if (!FIELD_EX32(s->maccr, MACCR, IPCO) &&
        len > (lduw_be_p(frame + 12) == ETH_P_VLAN ? 1518u : 1514u)) {
        status |= RDES0_IPHCE | RDES0_ES;    /* giant frame */
    }
    if (FIELD_EX32(s->maccr, MACCR, IPCO)) {
        eth_rx_csum(s, frame, len, &status, &rdes4);
    }

    /* FCS/pad stripping: FL counts what reaches memory */
    if (type >= ETH_P_MIN_TYPE) {
        if (FIELD_EX32(s->maccr, MACCR, CSTF)) {
            wire_len = len;
        }
    } else if (FIELD_EX32(s->maccr, MACCR, APCS) && type <= 1500) {
        wire_len = MIN(len, (size_t)l3 + type);
    }

    if (!eth_rx_dma(s, frame, wire_len, status, rdes4)) {
        return false;
    }
    if (!is_multicast_ether_addr(frame) && !(status & RDES0_ES) &&
        !FIELD_EX32(s->mmccr, MMCCR, MCF)) {
        s->mmc_rgufc++;
    }
    trace_stm32f4xx_eth_rx_frame(size, wire_len, status);
    return true;
}

static ssize_t eth_receive(NetClientState *nc, const uint8_t *buf,
                           size_t size)
{
    STM32F4xxEthState *s = qemu_get_nic_opaque(nc);

    if (!eth_rx_frame(s, buf, size)) {
        return 0;       /* queued by QEMU until eth_rx_flush() */
    }
    return size;
}

/* ------------------------------------------------------------------ */
/* Transmit                                                            */

static void eth_tx_send(STM32F4xxEthState *s, uint32_t ls_addr,
                        uint32_t ls_tdes0)
{
    uint32_t ctrl = s->tx_first_tdes0;
    uint32_t status = 0;
    size_t len = s->tx_len;
    unsigned cic = (ctrl & TDES0_CIC_MASK) >> TDES0_CIC_SHIFT;
    bool loop;

    if (s->tx_oversize) {
        /* Longer than the jabber limit: cut off, nothing usable sent */
        status |= TDES0_JT | TDES0_ES;
        eth_set_status(s, R_DMASR_TJTS_MASK);
        trace_stm32f4xx_eth_tx_drop(len, "jabber");
        goto writeback;
    }
    if (len < ETH_HLEN) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "stm32f4xx_eth: TX frame of %zu bytes dropped\n", len);
        goto writeback;
    }
    if (!(ctrl & TDES0_DP) && len < MIN_FRAME) {
        /* Padding forces the FCS in, whatever DC says */
        memset(s->tx_frame + len, 0, MIN_FRAME - len);
        len = MIN_FRAME;
    } else if ((ctrl & TDES0_DC) && len >= ETH_HLEN + FCS_LEN) {
        /* The guest supplied its own FCS; the backend wants none */
        len -= FCS_LEN;
    }
    if (lduw_be_p(s->tx_frame + 12) == ETH_P_VLAN) {
        status |= TDES0_VF;
    }
    if (cic) {
        if (FIELD_EX32(s->dmaomr, DMAOMR, TSF)) {
            status |= eth_tx_csum(s->tx_frame, len, cic);
        } else if (!s->log_tsf_csum) {
            s->log_tsf_csum = true;
            qemu_log_mask(LOG_GUEST_ERROR,
                          "stm32f4xx_eth: checksum insertion requested "
                          "without DMAOMR.TSF: bypassed as on silicon\n");
        }
    }
    if (status & (TDES0_IHE | TDES0_IPE)) {
        status |= TDES0_ES;
    }

    loop = FIELD_EX32(s->maccr, MACCR, LM) ||
           dp83848_phy_loopback(&s->phy);
    trace_stm32f4xx_eth_tx_frame(len, ls_addr, loop);
    if (loop) {
        if (!eth_rx_frame(s, s->tx_frame, len)) {
            s->mfc = MIN(s->mfc + 1, 0x10000);
        }
    } else {
        qemu_send_packet(qemu_get_queue(s->nic), s->tx_frame, len);
    }
    if (!FIELD_EX32(s->mmccr, MMCCR, MCF)) {
        s->mmc_tgfc++;
    }

writeback:
    eth_write_word(s, ls_addr, (ls_tdes0 & ~(TDES0_OWN | TDES0_STATUS)) |
                   status, EBS_TX);
    if ((ls_tdes0 | ctrl) & TDES0_IC) {
        s->dmasr |= R_DMASR_TS_MASK;
    }
    s->tx_len = 0;
    s->tx_in_frame = false;
    s->tx_oversize = false;
    eth_update_irq(s);
}

static bool eth_tx_gather(STM32F4xxEthState *s, uint32_t addr, uint32_t len)
{
    uint32_t n;

    if (len == 0) {
        return true;
    }
    s->tx_cur_buf = addr;
    n = MIN(len, STM32F4XX_ETH_MAX_FRAME - s->tx_len);
    if (n < len) {
        s->tx_oversize = true;
    }
    if (n && !eth_dma_read(s, addr, s->tx_frame + s->tx_len, n, EBS_TX)) {
        return false;
    }
    s->tx_len += n;
    s->tx_cur_buf = addr + len;
    return true;
}

/* Walk the TX descriptors from DMACHTDR until one is not ours */
static void eth_tx_run(STM32F4xxEthState *s)
{
    int count;

    for (count = 0; count < MAX_DESC_PER_RUN; count++) {
        uint32_t desc[4];
        uint32_t addr = s->tx_cur;
        uint32_t next;

        if (eth_tps(s) == TPS_STOPPED || eth_tps(s) == TPS_SUSPENDED ||
            !FIELD_EX32(s->maccr, MACCR, TE)) {
            return;
        }
        if (!eth_read_desc(s, addr, desc, EBS_TX)) {
            return;
        }
        if (!(desc[0] & TDES0_OWN)) {
            eth_set_tps(s, TPS_SUSPENDED);
            eth_set_status(s, R_DMASR_TBUS_MASK);
            return;
        }
        if (desc[0] & TDES0_FS) {
            if (s->tx_in_frame) {
                qemu_log_mask(LOG_GUEST_ERROR,
                              "stm32f4xx_eth: TX descriptor 0x%08" PRIx32
                              " starts a frame before the last one ended\n",
                              addr);
            }
            s->tx_in_frame = true;
            s->tx_len = 0;
            s->tx_oversize = false;
            s->tx_first_tdes0 = desc[0];
        } else if (!s->tx_in_frame) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "stm32f4xx_eth: TX descriptor 0x%08" PRIx32
                          " continues a frame that has no FS\n", addr);
            s->tx_in_frame = true;
            s->tx_len = 0;
            s->tx_oversize = false;
            s->tx_first_tdes0 = desc[0];
        }
        if (!eth_tx_gather(s, desc[2], TDES1_TBS1(desc[1]))) {
            return;
        }
        if (!(desc[0] & TDES0_TCH) &&
            !eth_tx_gather(s, desc[3], TDES1_TBS2(desc[1]))) {
            return;
        }
        if (desc[0] & TDES0_TER) {
            next = s->dmatdlar;
        } else if (desc[0] & TDES0_TCH) {
            next = desc[3];
        } else {
            next = eth_ring_next(s, addr);
        }
        s->tx_cur = next & ~3u;
        if (desc[0] & TDES0_LS) {
            eth_tx_send(s, addr, desc[0]);
        } else {
            eth_write_word(s, addr, desc[0] & ~TDES0_OWN, EBS_TX);
        }
    }
    /* Long lists continue from the main loop so the guest keeps running */
    qemu_bh_schedule(s->tx_bh);
}

static void eth_tx_bh(void *opaque)
{
    eth_tx_run(opaque);
}

static void eth_tx_resume(STM32F4xxEthState *s)
{
    if (eth_tps(s) == TPS_SUSPENDED) {
        eth_set_tps(s, 1);  /* running: fetching descriptor */
    }
    eth_tx_run(s);
}

/* ------------------------------------------------------------------ */
/* DMA control                                                         */

static void eth_dma_omr_write(STM32F4xxEthState *s, uint32_t val)
{
    uint32_t old = s->dmaomr;

    s->dmaomr = val & DMAOMR_WMASK & ~R_DMAOMR_FTF_MASK;   /* flush done */

    /* Receive first, so a frame looped back by the new TX run has a home */
    if (!(old & R_DMAOMR_SR_MASK) && (val & R_DMAOMR_SR_MASK)) {
        eth_set_rps(s, RPS_WAITING);
        if (eth_rx_fetch(s)) {
            eth_rx_flush(s);
        }
    } else if ((old & R_DMAOMR_SR_MASK) && !(val & R_DMAOMR_SR_MASK)) {
        eth_set_rps(s, RPS_STOPPED);
        eth_set_status(s, R_DMASR_RPSS_MASK);
    }

    if (!(old & R_DMAOMR_ST_MASK) && (val & R_DMAOMR_ST_MASK)) {
        eth_set_tps(s, 1);
        eth_tx_run(s);
    } else if ((old & R_DMAOMR_ST_MASK) && !(val & R_DMAOMR_ST_MASK)) {
        eth_set_tps(s, TPS_STOPPED);
        s->tx_in_frame = false;
        s->tx_len = 0;
        eth_set_status(s, R_DMASR_TPSS_MASK);
    }
}

static void eth_mac_dma_reset(STM32F4xxEthState *s)
{
    int i;

    s->maccr = MACCR_RESET;
    s->macffr = 0;
    s->machthr = 0;
    s->machtlr = 0;
    s->macmiiar = 0;
    s->macmiidr = 0;
    s->macfcr = 0;
    s->macvlantr = 0;
    memset(s->macrwuffr, 0, sizeof(s->macrwuffr));
    s->rwuff_index = 0;
    s->macpmtcsr = 0;
    s->macimr = 0;
    s->maca_hr[0] = MACA0HR_RESET;
    s->maca_lr[0] = MACAXLR_RESET;
    for (i = 1; i < 4; i++) {
        s->maca_hr[i] = MACAXHR_RESET;
        s->maca_lr[i] = MACAXLR_RESET;
    }
    s->mmccr = 0;
    s->mmcrimr = 0;
    s->mmctimr = 0;
    s->mmc_tgfc = 0;
    s->mmc_rgufc = 0;
    memset(s->ptp, 0, sizeof(s->ptp));
    s->ptp[0] = PTPTSCR_RESET;
    s->dmabmr = DMABMR_RESET;
    s->sr_deadline = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + DMABMR_SR_NS;
    s->dmardlar = 0;
    s->dmatdlar = 0;
    s->dmasr = 0;
    s->dmaomr = 0;
    s->dmaier = 0;
    s->mfc = 0;
    s->dmarswtr = 0;
    s->tx_cur = 0;
    s->rx_cur = 0;
    s->tx_cur_buf = 0;
    s->rx_cur_buf = 0;
    s->tx_len = 0;
    s->tx_first_tdes0 = 0;
    s->tx_in_frame = false;
    s->tx_oversize = false;
}

/* ------------------------------------------------------------------ */
/* MMIO                                                                */

static uint32_t eth_mmc_counter(STM32F4xxEthState *s, uint32_t *counter)
{
    uint32_t val = *counter;

    if (FIELD_EX32(s->mmccr, MMCCR, ROR)) {
        *counter = 0;
    }
    return val;
}

/* RM0090 33.8: the Ethernet registers take word accesses only */
static uint64_t stm32f4xx_eth_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxEthState *s = opaque;
    uint32_t val = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                false)) {
        return 0;
    }
    switch (addr) {
    case A_MACCR:
        val = s->maccr;
        break;
    case A_MACFFR:
        val = s->macffr;
        break;
    case A_MACHTHR:
        val = s->machthr;
        break;
    case A_MACHTLR:
        val = s->machtlr;
        break;
    case A_MACMIIAR:
        val = s->macmiiar;
        break;
    case A_MACMIIDR:
        val = s->macmiidr;
        break;
    case A_MACFCR:
        val = s->macfcr;
        break;
    case A_MACVLANTR:
        val = s->macvlantr;
        break;
    case A_MACRWUFFR:
        val = s->macrwuffr[s->rwuff_index];
        s->rwuff_index = (s->rwuff_index + 1) % STM32F4XX_ETH_RWUFF_WORDS;
        break;
    case A_MACPMTCSR:
        val = s->macpmtcsr;
        break;
    case A_MACDBGR:
    case A_MACSR:
        val = 0;    /* FIFOs idle, no MMC/PMT/time stamp events */
        break;
    case A_MACIMR:
        val = s->macimr;
        break;
    case A_MACA0HR:
    case A_MACA1HR:
    case A_MACA2HR:
    case A_MACA3HR:
        val = s->maca_hr[(addr - A_MACA0HR) / 8];
        break;
    case A_MACA0LR:
    case A_MACA1LR:
    case A_MACA2LR:
    case A_MACA3LR:
        val = s->maca_lr[(addr - A_MACA0LR) / 8];
        break;
    case A_MMCCR:
        val = s->mmccr;
        break;
    case A_MMCRIR:
    case A_MMCTIR:
        val = 0;    /* counters never reach half range here */
        break;
    case A_MMCRIMR:
        val = s->mmcrimr;
        break;
    case A_MMCTIMR:
        val = s->mmctimr;
        break;
    case A_MMCTGFSCCR:
    case A_MMCTGFMSCCR:
    case A_MMCRFCECR:
    case A_MMCRFAECR:
        val = 0;    /* full duplex, no collisions, no CRC/alignment errors */
        break;
    case A_MMCTGFCR:
        val = eth_mmc_counter(s, &s->mmc_tgfc);
        break;
    case A_MMCRGUFCR:
        val = eth_mmc_counter(s, &s->mmc_rgufc);
        break;
    case PTP_BASE ... PTP_END - 1:
        if (!s->log_ptp_unimp) {
            s->log_ptp_unimp = true;
            qemu_log_mask(LOG_UNIMP, "%s: PTP time stamping not modelled\n",
                          __func__);
        }
        val = s->ptp[(addr - PTP_BASE) / 4];
        break;
    case A_DMABMR:
        if ((s->dmabmr & R_DMABMR_SR_MASK) &&
            qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) >= s->sr_deadline) {
            s->dmabmr &= ~R_DMABMR_SR_MASK;
        }
        val = s->dmabmr;
        break;
    case A_DMATPDR:
    case A_DMARPDR:
        val = 0;
        break;
    case A_DMARDLAR:
        val = s->dmardlar;
        break;
    case A_DMATDLAR:
        val = s->dmatdlar;
        break;
    case A_DMASR:
        val = s->dmasr;
        break;
    case A_DMAOMR:
        val = s->dmaomr;
        break;
    case A_DMAIER:
        val = s->dmaier;
        break;
    case A_DMAMFBOCR:
        /* MFC with its overflow bit; both clear on read */
        val = (s->mfc & 0xffff) | (s->mfc > 0xffff ? (1u << 16) : 0);
        s->mfc = 0;
        break;
    case A_DMARSWTR:
        val = s->dmarswtr;
        break;
    case A_DMACHTDR:
        val = s->tx_cur;
        break;
    case A_DMACHRDR:
        val = s->rx_cur;
        break;
    case A_DMACHTBAR:
        val = s->tx_cur_buf;
        break;
    case A_DMACHRBAR:
        val = s->rx_cur_buf;
        break;
    default:
        if (addr >= 0x100 && addr < 0x200) {
            if (!s->log_mmc_unimp) {
                s->log_mmc_unimp = true;
                qemu_log_mask(LOG_UNIMP,
                              "%s: MMC register 0x%03" HWADDR_PRIx
                              " reads as zero\n", __func__, addr);
            }
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: read of reserved offset 0x%04" HWADDR_PRIx "\n",
                          __func__, addr);
        }
        val = 0;
        break;
    }
    trace_stm32f4xx_eth_read(addr, val);
    return val;
}

static void stm32f4xx_eth_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    STM32F4xxEthState *s = opaque;
    uint32_t val = val64;
    uint32_t old;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                true)) {
        return;
    }
    trace_stm32f4xx_eth_write(addr, val);

    switch (addr) {
    case A_MACCR:
        old = s->maccr;
        s->maccr = MACCR_RESET | (val & MACCR_WMASK);
        if (!FIELD_EX32(old, MACCR, TE) && FIELD_EX32(s->maccr, MACCR, TE)) {
            eth_tx_run(s);
        }
        if (!FIELD_EX32(old, MACCR, RE) && FIELD_EX32(s->maccr, MACCR, RE)) {
            eth_rx_flush(s);
        }
        break;
    case A_MACFFR:
        s->macffr = val & MACFFR_WMASK;
        break;
    case A_MACHTHR:
        s->machthr = val;
        break;
    case A_MACHTLR:
        s->machtlr = val;
        break;
    case A_MACMIIAR:
        if (s->macmiiar & R_MACMIIAR_MB_MASK) {
            break;      /* busy: ignored (never true, accesses are instant) */
        }
        s->macmiiar = val & MACMIIAR_WMASK;
        if (val & R_MACMIIAR_MB_MASK) {
            eth_mdio_access(s);
        }
        break;
    case A_MACMIIDR:
        s->macmiidr = val & 0xffff;
        break;
    case A_MACFCR:
        s->macfcr = val & MACFCR_WMASK;
        if (FIELD_EX32(s->macfcr, MACFCR, FCB)) {
            qemu_log_mask(LOG_UNIMP, "%s: pause frames not sent\n", __func__);
            s->macfcr &= ~R_MACFCR_FCB_MASK;
        }
        break;
    case A_MACVLANTR:
        s->macvlantr = val & MACVLANTR_WMASK;
        break;
    case A_MACRWUFFR:
        s->macrwuffr[s->rwuff_index] = val;
        s->rwuff_index = (s->rwuff_index + 1) % STM32F4XX_ETH_RWUFF_WORDS;
        break;
    case A_MACPMTCSR:
        if (FIELD_EX32(val, MACPMTCSR, WFFRPR)) {
            s->rwuff_index = 0;
        }
        s->macpmtcsr = val & MACPMTCSR_WMASK;
        if (FIELD_EX32(val, MACPMTCSR, PD)) {
            qemu_log_mask(LOG_UNIMP, "%s: power-down/wake-up not modelled\n",
                          __func__);
        }
        break;
    case A_MACIMR:
        s->macimr = val & MACIMR_WMASK;
        break;
    case A_MACA0HR:
        s->maca_hr[0] = MACA0HR_RESET & ~0xffffu;
        s->maca_hr[0] |= val & 0xffff;
        break;
    case A_MACA1HR:
    case A_MACA2HR:
    case A_MACA3HR:
        s->maca_hr[(addr - A_MACA0HR) / 8] = val & MACAXHR_WMASK;
        break;
    case A_MACA0LR:
    case A_MACA1LR:
    case A_MACA2LR:
    case A_MACA3LR:
        s->maca_lr[(addr - A_MACA0LR) / 8] = val;
        if (addr == A_MACA0LR) {
            uint8_t mac[6];

            /* Writing the low word latches MAC address 0 */
            eth_mac_addr(s, 0, mac);
            qemu_format_nic_info_str(qemu_get_queue(s->nic), mac);
        }
        break;
    case A_MACDBGR:
    case A_MACSR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read-only register 0x%02"
                      HWADDR_PRIx "\n", __func__, addr);
        break;
    case A_MMCCR:
        s->mmccr = val & MMCCR_WMASK;
        if (FIELD_EX32(val, MMCCR, CR)) {
            s->mmc_tgfc = 0;
            s->mmc_rgufc = 0;
            s->mmccr &= ~R_MMCCR_CR_MASK;
        }
        break;
    case A_MMCRIMR:
        s->mmcrimr = val & MMCRIMR_WMASK;
        break;
    case A_MMCTIMR:
        s->mmctimr = val & MMCTIMR_WMASK;
        break;
    case A_MMCRIR:
    case A_MMCTIR:
    case A_MMCTGFSCCR:
    case A_MMCTGFMSCCR:
    case A_MMCTGFCR:
    case A_MMCRFCECR:
    case A_MMCRFAECR:
    case A_MMCRGUFCR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read-only MMC register 0x%03"
                      HWADDR_PRIx "\n", __func__, addr);
        break;
    case PTP_BASE ... PTP_END - 1:
        if (!s->log_ptp_unimp) {
            s->log_ptp_unimp = true;
            qemu_log_mask(LOG_UNIMP, "%s: PTP time stamping not modelled\n",
                          __func__);
        }
        if (addr == A_PTPTSCR) {
            val &= ~PTPTSCR_SELF_CLEAR;
        }
        s->ptp[(addr - PTP_BASE) / 4] = val;
        break;
    case A_DMABMR:
        if (FIELD_EX32(val, DMABMR, SR)) {
            /*
             * Software reset of MAC and DMA registers; SR reads 1 for a
             * microsecond of virtual time, as drivers poll for it to clear.
             */
            trace_stm32f4xx_eth_reset("software");
            qemu_bh_cancel(s->tx_bh);
            eth_mac_dma_reset(s);
            eth_update_irq(s);
            break;
        }
        /* SR is cleared by the hardware only */
        s->dmabmr = (val & DMABMR_WMASK & ~R_DMABMR_SR_MASK) |
                    (s->dmabmr & R_DMABMR_SR_MASK);
        break;
    case A_DMATPDR:
        eth_tx_resume(s);
        break;
    case A_DMARPDR:
        if (eth_rps(s) != RPS_STOPPED && eth_rx_fetch(s)) {
            eth_rx_flush(s);
        }
        break;
    case A_DMARDLAR:
        if (eth_rps(s) != RPS_STOPPED) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: DMARDLAR written while RX is running\n",
                          __func__);
        }
        s->dmardlar = val & ~3u;
        s->rx_cur = s->dmardlar;
        break;
    case A_DMATDLAR:
        if (eth_tps(s) != TPS_STOPPED) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: DMATDLAR written while TX is running\n",
                          __func__);
        }
        s->dmatdlar = val & ~3u;
        s->tx_cur = s->dmatdlar;
        break;
    case A_DMASR:
        s->dmasr &= ~(val & DMASR_W1C);
        eth_update_irq(s);
        break;
    case A_DMAOMR:
        eth_dma_omr_write(s, val);
        break;
    case A_DMAIER:
        s->dmaier = val & DMAIER_WMASK;
        eth_update_irq(s);
        break;
    case A_DMARSWTR:
        s->dmarswtr = val & DMARSWTR_WMASK;
        break;
    case A_DMAMFBOCR:
    case A_DMACHTDR:
    case A_DMACHRDR:
    case A_DMACHTBAR:
    case A_DMACHRBAR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read-only register 0x%04"
                      HWADDR_PRIx "\n", __func__, addr);
        break;
    default:
        if (addr >= 0x100 && addr < 0x200) {
            if (!s->log_mmc_unimp) {
                s->log_mmc_unimp = true;
                qemu_log_mask(LOG_UNIMP, "%s: MMC register 0x%03"
                              HWADDR_PRIx " not modelled\n", __func__, addr);
            }
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: write to reserved offset 0x%04" HWADDR_PRIx
                          "\n", __func__, addr);
        }
        break;
    }
}

static const MemoryRegionOps stm32f4xx_eth_ops = {
    .read = stm32f4xx_eth_read,
    .write = stm32f4xx_eth_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

/* ------------------------------------------------------------------ */
/* Device                                                              */

static NetClientInfo net_stm32f4xx_eth_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = eth_can_receive,
    .receive = eth_receive,
    .link_status_changed = eth_set_link,
};

/*
 * A device reset is the MAC and DMA's (the RCC's ETHMACRST resets this
 * device). The DP83848 is a chip of its own on the board: it comes out of
 * reset with the board, a system reset, not with ETHMACRST.
 */
static void stm32f4xx_eth_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxEthState *s = STM32F4XX_ETH(obj);

    trace_stm32f4xx_eth_reset("device");
    if (s->tx_bh) {
        qemu_bh_cancel(s->tx_bh);
    }
    eth_mac_dma_reset(s);
}

static void stm32f4xx_eth_reset_exit(Object *obj, ResetType type)
{
    STM32F4xxEthState *s = STM32F4XX_ETH(obj);

    qemu_set_irq(s->irq, 0);
    qemu_set_irq(s->wkup_irq, 0);
}

/* The PHY's INT pin goes out through the MAC's "phy-int" to the board */
static void eth_phy_int(void *opaque, int n, int level)
{
    STM32F4xxEthState *s = opaque;

    qemu_set_irq(s->phy_int, level);
}

static void stm32f4xx_eth_init(Object *obj)
{
    STM32F4xxEthState *s = STM32F4XX_ETH(obj);

    object_initialize_child(obj, "phy", &s->phy, TYPE_DP83848_PHY);
}

static void stm32f4xx_eth_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxEthState *s = STM32F4XX_ETH(dev);

    if (!s->dma_mr) {
        error_setg(errp, "stm32f4xx-eth: 'dma-memory' link not set");
        return;
    }
    address_space_init(&s->dma_as, s->dma_mr, "stm32f4xx-eth-dma");
    qdev_prop_set_uint8(DEVICE(&s->phy), "phy-addr", PHY_ADDR);
    if (!sysbus_realize(SYS_BUS_DEVICE(&s->phy), errp)) {
        return;
    }
    qemu_init_irq(&s->phy_irq, eth_phy_int, s, 0);
    qdev_connect_gpio_out_named(DEVICE(&s->phy), "int", 0, &s->phy_irq);
    memory_region_init_io(&s->mmio, OBJECT(dev), &stm32f4xx_eth_ops, s,
                          TYPE_STM32F4XX_ETH, STM32F4XX_ETH_MMIO_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(dev), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(dev), &s->irq);
    sysbus_init_irq(SYS_BUS_DEVICE(dev), &s->wkup_irq);
    qdev_init_gpio_out_named(dev, &s->phy_int, "phy-int", 1);
    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->nic = qemu_new_nic(&net_stm32f4xx_eth_info, &s->conf,
                          object_get_typename(OBJECT(dev)), dev->id,
                          &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);
    s->tx_bh = qemu_bh_new_guarded(eth_tx_bh, s, &dev->mem_reentrancy_guard);
    dp83848_phy_update_link(&s->phy, qemu_get_queue(s->nic)->link_down);
}

static void stm32f4xx_eth_unrealize(DeviceState *dev)
{
    STM32F4xxEthState *s = STM32F4XX_ETH(dev);

    qemu_bh_delete(s->tx_bh);
    s->tx_bh = NULL;
    qemu_del_nic(s->nic);
}

static int stm32f4xx_eth_post_load(void *opaque, int version_id)
{
    STM32F4xxEthState *s = opaque;

    if (s->tx_len > STM32F4XX_ETH_MAX_FRAME ||
        s->rwuff_index >= STM32F4XX_ETH_RWUFF_WORDS) {
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_stm32f4xx_eth = {
    .name = TYPE_STM32F4XX_ETH,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = stm32f4xx_eth_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(maccr, STM32F4xxEthState),
        VMSTATE_UINT32(macffr, STM32F4xxEthState),
        VMSTATE_UINT32(machthr, STM32F4xxEthState),
        VMSTATE_UINT32(machtlr, STM32F4xxEthState),
        VMSTATE_UINT32(macmiiar, STM32F4xxEthState),
        VMSTATE_UINT32(macmiidr, STM32F4xxEthState),
        VMSTATE_UINT32(macfcr, STM32F4xxEthState),
        VMSTATE_UINT32(macvlantr, STM32F4xxEthState),
        VMSTATE_UINT32_ARRAY(macrwuffr, STM32F4xxEthState,
                             STM32F4XX_ETH_RWUFF_WORDS),
        VMSTATE_UINT32(rwuff_index, STM32F4xxEthState),
        VMSTATE_UINT32(macpmtcsr, STM32F4xxEthState),
        VMSTATE_UINT32(macimr, STM32F4xxEthState),
        VMSTATE_UINT32_ARRAY(maca_hr, STM32F4xxEthState, 4),
        VMSTATE_UINT32_ARRAY(maca_lr, STM32F4xxEthState, 4),
        VMSTATE_UINT32(mmccr, STM32F4xxEthState),
        VMSTATE_UINT32(mmcrimr, STM32F4xxEthState),
        VMSTATE_UINT32(mmctimr, STM32F4xxEthState),
        VMSTATE_UINT32(mmc_tgfc, STM32F4xxEthState),
        VMSTATE_UINT32(mmc_rgufc, STM32F4xxEthState),
        VMSTATE_UINT32_ARRAY(ptp, STM32F4xxEthState, STM32F4XX_ETH_PTP_WORDS),
        VMSTATE_UINT32(dmabmr, STM32F4xxEthState),
        VMSTATE_INT64(sr_deadline, STM32F4xxEthState),
        VMSTATE_UINT32(dmardlar, STM32F4xxEthState),
        VMSTATE_UINT32(dmatdlar, STM32F4xxEthState),
        VMSTATE_UINT32(dmasr, STM32F4xxEthState),
        VMSTATE_UINT32(dmaomr, STM32F4xxEthState),
        VMSTATE_UINT32(dmaier, STM32F4xxEthState),
        VMSTATE_UINT32(mfc, STM32F4xxEthState),
        VMSTATE_UINT32(dmarswtr, STM32F4xxEthState),
        VMSTATE_UINT32(tx_cur, STM32F4xxEthState),
        VMSTATE_UINT32(rx_cur, STM32F4xxEthState),
        VMSTATE_UINT32(tx_cur_buf, STM32F4xxEthState),
        VMSTATE_UINT32(rx_cur_buf, STM32F4xxEthState),
        VMSTATE_UINT8_ARRAY(tx_frame, STM32F4xxEthState,
                            STM32F4XX_ETH_MAX_FRAME),
        VMSTATE_UINT32(tx_len, STM32F4xxEthState),
        VMSTATE_UINT32(tx_first_tdes0, STM32F4xxEthState),
        VMSTATE_BOOL(tx_in_frame, STM32F4xxEthState),
        VMSTATE_BOOL(tx_oversize, STM32F4xxEthState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_eth_properties[] = {
    DEFINE_NIC_PROPERTIES(STM32F4xxEthState, conf),
    DEFINE_PROP_LINK("dma-memory", STM32F4xxEthState, dma_mr,
                     TYPE_MEMORY_REGION, MemoryRegion *),
};

static void stm32f4xx_eth_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
    dc->desc = "STM32F4xx Ethernet MAC/DMA";
    dc->realize = stm32f4xx_eth_realize;
    dc->unrealize = stm32f4xx_eth_unrealize;
    dc->vmsd = &vmstate_stm32f4xx_eth;
    rc->phases.hold = stm32f4xx_eth_reset_hold;
    rc->phases.exit = stm32f4xx_eth_reset_exit;
    device_class_set_props(dc, stm32f4xx_eth_properties);
}

static const TypeInfo stm32f4xx_eth_info = {
    .name = TYPE_STM32F4XX_ETH,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxEthState),
    .instance_init = stm32f4xx_eth_init,
    .class_init = stm32f4xx_eth_class_init,
};

static void stm32f4xx_eth_register_types(void)
{
    type_register_static(&stm32f4xx_eth_info);
}

type_init(stm32f4xx_eth_register_types)
