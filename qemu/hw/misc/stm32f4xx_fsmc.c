/*
 * STM32F4xx flexible static memory controller (FSMC)
 *
 * Reference: RM0090 rev 19, section 36 "Flexible static memory controller
 * (FSMC)" (STM32F405xx/07xx and STM32F415xx/17xx): 36.3 AHB interface,
 * 36.4 external device address mapping, 36.5.6 NOR/PSRAM controller
 * registers, 36.6.8 NAND flash/PC Card controller registers. The FMC of the
 * STM32F42xxx/43xxx (section 37) has the same bank 1 and NAND/PC Card
 * registers; its SDRAM controller is not modelled.
 *
 * Bank 1 (0x6000_0000) has four regions of 64 MiB, one per chip select
 * NE1..NE4, each described by BCRx (control), BTRx (timing) and BWTRx (write
 * timing). The board connects a device to a region through the link
 * properties "region1".."region4". An access reaches it only while the
 * region's bank is enabled (BCRx.MBKEN); per 36.3 an access to a bank that is
 * not enabled, or to a NOR flash bank with FACCEN clear, is an AHB error, and
 * so is a write to a region whose BCRx.WREN is clear: a bus fault for the
 * CPU (MEMTX_ERROR).
 *
 * Data width (BCRx.MWID) and byte lanes follow 36.3.1 and 36.4.1: on a
 * 16-bit memory HADDR[25:1] drives A[24:0], a 32-bit AHB access becomes two
 * 16-bit accesses (low half first) and a byte access uses one byte lane
 * (NBL[1:0]); on an 8-bit memory HADDR[25:0] drives A[25:0] and every byte
 * is its own access on D[7:0]. The device behind a region is addressed as it
 * sits on the 16-bit data bus: byte offset = 2 * A + lane. A device that
 * decodes fewer address lines than the FSMC drives sees the region wrap at
 * the size of its memory region.
 *
 * Timings (BTRx, BWTRx, PMEMx, PATTx, PIO4) are stored: accesses complete at
 * once. Banks 2..4 (NAND flash, PC Card) follow PCRx.PBKEN the same way but
 * no device is attached to them: enabled, they read as zero (logged as
 * unimplemented); the ECC computation is not modelled (ECCRx read 0) and the
 * interrupt flags in SRx are never set, so the FSMC interrupt is not wired.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/registerfields.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_fsmc.h"
#include "trace.h"

/* Bank 1: BCRx at 0x00 + 8 * n, BTRx at 0x04 + 8 * n, BWTRx at 0x104 + 8 * n */
REG32(BCR1, 0x00)
    FIELD(BCR, MBKEN, 0, 1)
    FIELD(BCR, MUXEN, 1, 1)
    FIELD(BCR, MTYP, 2, 2)
    FIELD(BCR, MWID, 4, 2)
    FIELD(BCR, FACCEN, 6, 1)
    FIELD(BCR, BURSTEN, 8, 1)
    FIELD(BCR, WAITPOL, 9, 1)
    FIELD(BCR, WRAPMOD, 10, 1)
    FIELD(BCR, WAITCFG, 11, 1)
    FIELD(BCR, WREN, 12, 1)
    FIELD(BCR, WAITEN, 13, 1)
    FIELD(BCR, EXTMOD, 14, 1)
    FIELD(BCR, ASYNCWAIT, 15, 1)
    FIELD(BCR, CPSIZE, 16, 3)
    FIELD(BCR, CBURSTRW, 19, 1)
    FIELD(BCR, CCLKEN, 20, 1)       /* FMC, BCR1 only */
REG32(BTR1, 0x04)
    FIELD(BTR, ADDSET, 0, 4)
    FIELD(BTR, ADDHLD, 4, 4)
    FIELD(BTR, DATAST, 8, 8)
    FIELD(BTR, BUSTURN, 16, 4)
    FIELD(BTR, CLKDIV, 20, 4)
    FIELD(BTR, DATLAT, 24, 4)
    FIELD(BTR, ACCMOD, 28, 2)
REG32(BWTR1, 0x104)
/* Banks 2..4: PCRx at 0x60 + 0x20 * (x - 2), then SRx, PMEMx, PATTx */
REG32(PCR2, 0x60)
    FIELD(PCR, PWAITEN, 1, 1)
    FIELD(PCR, PBKEN, 2, 1)
    FIELD(PCR, PTYP, 3, 1)
    FIELD(PCR, PWID, 4, 2)
    FIELD(PCR, ECCEN, 6, 1)
    FIELD(PCR, TCLR, 9, 4)
    FIELD(PCR, TAR, 13, 4)
    FIELD(PCR, ECCPS, 17, 3)
REG32(SR2, 0x64)
    FIELD(SR, IRS, 0, 1)
    FIELD(SR, ILS, 1, 1)
    FIELD(SR, IFS, 2, 1)
    FIELD(SR, IREN, 3, 1)
    FIELD(SR, ILEN, 4, 1)
    FIELD(SR, IFEN, 5, 1)
    FIELD(SR, FEMPT, 6, 1)
REG32(PMEM2, 0x68)
REG32(PATT2, 0x6C)
REG32(ECCR2, 0x74)
REG32(ECCR3, 0x94)
REG32(PIO4, 0xB0)
/* FMC SDRAM controller: SDCR1..SDRTR, SDSR (STM32F42xxx/43xxx only) */
REG32(SDCR1, 0x140)
REG32(SDSR, 0x158)

#define NAND_STRIDE     0x20
#define MTYP_NOR        2
#define MWID_8          0
#define MWID_16         1

/* Reset values (RM0090 36.5.6, 36.6.8) */
#define BCR1_RESET      0x000030DB
#define BCRX_RESET      0x000030D2
#define BTR_RESET       0x0FFFFFFF
#define PCR_RESET       0x00000018
#define SR_RESET        R_SR_FEMPT_MASK
#define PMEM_RESET      0xFCFCFCFC

/* Writable bits; BCRx bit 7 is reserved and keeps its reset value 1 */
#define BCR_WMASK       0x000FFF7F
#define BTR_WMASK       0x3FFFFFFF
#define PCR_WMASK       0x000FFE7E
#define SR_FLAGS        (R_SR_IRS_MASK | R_SR_ILS_MASK | R_SR_IFS_MASK)
#define SR_ENABLES      (R_SR_IREN_MASK | R_SR_ILEN_MASK | R_SR_IFEN_MASK)

typedef enum {
    FSMC_NONE,
    FSMC_BCR, FSMC_BTR, FSMC_BWTR,
    FSMC_PCR, FSMC_SR, FSMC_PMEM, FSMC_PATT, FSMC_PIO4, FSMC_ECCR,
    FSMC_SDRAM,
} FsmcReg;

/* Which register an offset holds, and the region or bank index it belongs to */
static FsmcReg stm32f4xx_fsmc_decode(STM32F4xxFsmcState *s, hwaddr reg, int *n)
{
    if (reg < A_PCR2) {
        *n = reg / 8;
        return *n < STM32F4XX_FSMC_NUM_REGIONS ?
               ((reg & 4) ? FSMC_BTR : FSMC_BCR) : FSMC_NONE;
    }
    if (reg >= A_BWTR1 && reg < A_BWTR1 + 8 * STM32F4XX_FSMC_NUM_REGIONS) {
        *n = (reg - A_BWTR1) / 8;
        return (reg & 4) ? FSMC_BWTR : FSMC_NONE;
    }
    if (reg >= A_SDCR1 && reg <= A_SDSR) {
        *n = 0;
        return s->fmc ? FSMC_SDRAM : FSMC_NONE;
    }
    if (reg < A_PCR2 + NAND_STRIDE * STM32F4XX_FSMC_NUM_NAND) {
        *n = (reg - A_PCR2) / NAND_STRIDE;
        switch ((reg - A_PCR2) % NAND_STRIDE) {
        case A_PCR2 - A_PCR2:
            return FSMC_PCR;
        case A_SR2 - A_PCR2:
            return FSMC_SR;
        case A_PMEM2 - A_PCR2:
            return FSMC_PMEM;
        case A_PATT2 - A_PCR2:
            return FSMC_PATT;
        case A_PIO4 - (A_PCR2 + 2 * NAND_STRIDE):
            return *n == 2 ? FSMC_PIO4 : FSMC_NONE;
        case A_ECCR2 - A_PCR2:
            return *n < 2 ? FSMC_ECCR : FSMC_NONE;
        }
    }
    return FSMC_NONE;
}

static uint32_t stm32f4xx_fsmc_reg_read(STM32F4xxFsmcState *s, hwaddr reg)
{
    int n;

    switch (stm32f4xx_fsmc_decode(s, reg, &n)) {
    case FSMC_BCR:
        return s->bcr[n];
    case FSMC_BTR:
        return s->btr[n];
    case FSMC_BWTR:
        return s->bwtr[n];
    case FSMC_PCR:
        return s->pcr[n];
    case FSMC_SR:
        return s->sr[n];
    case FSMC_PMEM:
        return s->pmem[n];
    case FSMC_PATT:
        return s->patt[n];
    case FSMC_PIO4:
        return s->pio4;
    case FSMC_ECCR:
        return 0;
    case FSMC_SDRAM:
        qemu_log_mask(LOG_UNIMP, "%s: FMC SDRAM controller register 0x%03"
                      HWADDR_PRIx " not modelled (reads 0)\n", __func__, reg);
        return 0;
    case FSMC_NONE:
        break;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%03" HWADDR_PRIx "\n",
                  __func__, reg);
    return 0;
}

static uint64_t stm32f4xx_fsmc_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxFsmcState *s = opaque;
    hwaddr reg = addr & ~3;
    uint32_t value = stm32f4xx_fsmc_reg_read(s, reg);

    trace_stm32f4xx_fsmc_read(reg, value);
    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %u-byte read at 0x%03" HWADDR_PRIx
                      ": the FSMC registers are accessed by words\n",
                      __func__, size, addr);
        return extract32(value, (addr & 3) * 8, size * 8);
    }
    return value;
}

static void stm32f4xx_fsmc_write(void *opaque, hwaddr addr, uint64_t val64,
                                 unsigned size)
{
    STM32F4xxFsmcState *s = opaque;
    uint32_t value = val64, wmask;
    int n;

    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %u-byte write at 0x%03" HWADDR_PRIx
                      " ignored: the FSMC registers are accessed by words\n",
                      __func__, size, addr);
        return;
    }
    trace_stm32f4xx_fsmc_write(addr, value);
    switch (stm32f4xx_fsmc_decode(s, addr, &n)) {
    case FSMC_BCR:
        wmask = BCR_WMASK;
        if (s->fmc && n == 0) {
            wmask |= R_BCR_CCLKEN_MASK;
        }
        if (FIELD_EX32(value, BCR, MTYP) == 3) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: BCR%d.MTYP=3 is reserved\n",
                          __func__, n + 1);
        }
        if (FIELD_EX32(value, BCR, MWID) > MWID_16) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: BCR%d.MWID=%u is reserved "
                          "(taken as 16 bits)\n", __func__, n + 1,
                          (unsigned)FIELD_EX32(value, BCR, MWID));
        }
        if (FIELD_EX32(value ^ s->bcr[n], BCR, MBKEN)) {
            trace_stm32f4xx_fsmc_region_enable(n + 1,
                                               FIELD_EX32(value, BCR, MBKEN));
        }
        s->bcr[n] = (s->bcr[n] & ~wmask) | (value & wmask);
        break;
    case FSMC_BTR:
    case FSMC_BWTR:
        if (FIELD_EX32(value, BTR, DATAST) == 0) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: %s%d.DATAST=0 is reserved\n",
                          __func__, (addr & 0x100) ? "BWTR" : "BTR", n + 1);
        }
        if (addr & 0x100) {
            s->bwtr[n] = value & BTR_WMASK;
        } else {
            s->btr[n] = value & BTR_WMASK;
        }
        break;
    case FSMC_PCR:
        if (FIELD_EX32(value & ~s->pcr[n], PCR, ECCEN)) {
            qemu_log_mask(LOG_UNIMP, "%s: PCR%d.ECCEN: ECC computation not "
                          "modelled (ECCR reads 0)\n", __func__, n + 2);
        }
        if (FIELD_EX32(value ^ s->pcr[n], PCR, PBKEN)) {
            trace_stm32f4xx_fsmc_bank_enable(n + 2,
                                             FIELD_EX32(value, PCR, PBKEN));
        }
        s->pcr[n] = value & PCR_WMASK;
        break;
    case FSMC_SR:
        /* Flags are set by hardware and cleared by software */
        s->sr[n] = R_SR_FEMPT_MASK | (value & SR_ENABLES) |
                   (s->sr[n] & value & SR_FLAGS);
        break;
    case FSMC_PMEM:
        s->pmem[n] = value;
        break;
    case FSMC_PATT:
        s->patt[n] = value;
        break;
    case FSMC_PIO4:
        s->pio4 = value;
        break;
    case FSMC_ECCR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: ECCR%d is read-only\n",
                      __func__, n + 2);
        break;
    case FSMC_SDRAM:
        qemu_log_mask(LOG_UNIMP, "%s: FMC SDRAM controller register 0x%03"
                      HWADDR_PRIx " not modelled (write ignored)\n",
                      __func__, addr);
        break;
    case FSMC_NONE:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%03" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
}

static const MemoryRegionOps stm32f4xx_fsmc_ops = {
    .read = stm32f4xx_fsmc_read,
    .write = stm32f4xx_fsmc_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
    .impl.min_access_size = 1,
    .impl.max_access_size = 4,
};

/*
 * One AHB access to a bank 1 region: the bank checks of 36.3, then the
 * memory transactions MWID makes of it, each passed to the region's device.
 */
static MemTxResult stm32f4xx_fsmc_region_access(STM32F4xxFsmcWindow *w,
                                                hwaddr addr, uint64_t *data,
                                                unsigned size, bool write,
                                                MemTxAttrs attrs)
{
    STM32F4xxFsmcState *s = w->fsmc;
    int n = w->index;
    uint32_t bcr = s->bcr[n];
    const char *what = write ? "write" : "read";
    hwaddr where = STM32F4XX_FSMC_BANK1_BASE + n * STM32F4XX_FSMC_REGION_SIZE +
                   addr;
    MemTxResult res = MEMTX_OK;
    uint64_t dev_size, out = 0;
    unsigned width, done, len;

    if (!FIELD_EX32(bcr, BCR, MBKEN)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %s at 0x%08" HWADDR_PRIx
                      ": bank 1 region %d (NE%d) is not enabled "
                      "(BCR%d.MBKEN=0): AHB error\n",
                      __func__, what, where, n + 1, n + 1, n + 1);
        trace_stm32f4xx_fsmc_ahb_error(where, "bank not enabled");
        return MEMTX_ERROR;
    }
    if (FIELD_EX32(bcr, BCR, MTYP) == MTYP_NOR &&
        !FIELD_EX32(bcr, BCR, FACCEN)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %s at 0x%08" HWADDR_PRIx
                      ": NOR flash region NE%d with BCR%d.FACCEN=0: "
                      "AHB error\n", __func__, what, where, n + 1, n + 1);
        trace_stm32f4xx_fsmc_ahb_error(where, "NOR flash access disabled");
        return MEMTX_ERROR;
    }
    if (write && !FIELD_EX32(bcr, BCR, WREN)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write at 0x%08" HWADDR_PRIx
                      ": writes to NE%d are disabled (BCR%d.WREN=0): "
                      "AHB error\n", __func__, where, n + 1, n + 1);
        trace_stm32f4xx_fsmc_ahb_error(where, "write disabled");
        return MEMTX_ERROR;
    }
    if (!s->device[n]) {
        qemu_log_mask(LOG_UNIMP, "%s: %s at 0x%08" HWADDR_PRIx
                      ": no device on NE%d (reads 0)\n",
                      __func__, what, where, n + 1);
        if (!write) {
            *data = 0;
        }
        return MEMTX_OK;
    }

    width = FIELD_EX32(bcr, BCR, MWID) == MWID_8 ? 1 : 2;
    dev_size = memory_region_size(s->device[n]);
    for (done = 0; done < size; done += len) {
        hwaddr a = addr + done;
        /* The bytes of this AHB access that fall in one memory word */
        unsigned lane = a % width;
        /* Offset on the device's 16-bit bus: an 8-bit memory uses D[7:0] */
        hwaddr ext = (width == 1 ? a * 2 : a) % dev_size;
        AddressSpace *as = &s->device_as[n];

        len = MIN(width - lane, size - done);
        if (write) {
            uint32_t part = extract64(*data, done * 8, len * 8);

            trace_stm32f4xx_fsmc_bus_write(n + 1, ext, len, part);
            if (len == 2) {
                address_space_stw_le(as, ext, part, attrs, &res);
            } else {
                address_space_stb(as, ext, part, attrs, &res);
            }
        } else {
            uint32_t part = len == 2 ? address_space_lduw_le(as, ext, attrs,
                                                             &res)
                                     : address_space_ldub(as, ext, attrs,
                                                          &res);

            trace_stm32f4xx_fsmc_bus_read(n + 1, ext, len, part);
            out = deposit64(out, done * 8, len * 8, part);
        }
        if (res != MEMTX_OK) {
            return res;
        }
    }
    if (!write) {
        *data = out;
    }
    return MEMTX_OK;
}

static MemTxResult stm32f4xx_fsmc_region_read(void *opaque, hwaddr addr,
                                              uint64_t *data, unsigned size,
                                              MemTxAttrs attrs)
{
    return stm32f4xx_fsmc_region_access(opaque, addr, data, size, false,
                                        attrs);
}

static MemTxResult stm32f4xx_fsmc_region_write(void *opaque, hwaddr addr,
                                               uint64_t data, unsigned size,
                                               MemTxAttrs attrs)
{
    return stm32f4xx_fsmc_region_access(opaque, addr, &data, size, true,
                                        attrs);
}

/* The Cortex-M4 splits unaligned accesses; so does the region handler */
static const MemoryRegionOps stm32f4xx_fsmc_region_ops = {
    .read_with_attrs = stm32f4xx_fsmc_region_read,
    .write_with_attrs = stm32f4xx_fsmc_region_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
    .valid.unaligned = true,
    .impl.min_access_size = 1,
    .impl.max_access_size = 4,
    .impl.unaligned = true,
};

/* Banks 2..4: no NAND flash or PC Card on the boards, only the enables */
static MemTxResult stm32f4xx_fsmc_nand_access(STM32F4xxFsmcWindow *w,
                                              hwaddr addr, uint64_t *data,
                                              bool write)
{
    STM32F4xxFsmcState *s = w->fsmc;
    int bank = w->index + 2;
    hwaddr where = STM32F4XX_FSMC_NAND_BASE +
                   w->index * STM32F4XX_FSMC_NAND_SIZE + addr;

    if (!FIELD_EX32(s->pcr[w->index], PCR, PBKEN)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %s at 0x%08" HWADDR_PRIx
                      ": bank %d is not enabled (PCR%d.PBKEN=0): AHB error\n",
                      __func__, write ? "write" : "read", where, bank, bank);
        trace_stm32f4xx_fsmc_ahb_error(where, "bank not enabled");
        return MEMTX_ERROR;
    }
    qemu_log_mask(LOG_UNIMP, "%s: %s at 0x%08" HWADDR_PRIx
                  ": no NAND flash or PC Card on bank %d (reads 0)\n",
                  __func__, write ? "write" : "read", where, bank);
    if (!write) {
        *data = 0;
    }
    return MEMTX_OK;
}

static MemTxResult stm32f4xx_fsmc_nand_read(void *opaque, hwaddr addr,
                                            uint64_t *data, unsigned size,
                                            MemTxAttrs attrs)
{
    return stm32f4xx_fsmc_nand_access(opaque, addr, data, false);
}

static MemTxResult stm32f4xx_fsmc_nand_write(void *opaque, hwaddr addr,
                                             uint64_t data, unsigned size,
                                             MemTxAttrs attrs)
{
    return stm32f4xx_fsmc_nand_access(opaque, addr, &data, true);
}

static const MemoryRegionOps stm32f4xx_fsmc_nand_ops = {
    .read_with_attrs = stm32f4xx_fsmc_nand_read,
    .write_with_attrs = stm32f4xx_fsmc_nand_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
    .valid.unaligned = true,
    .impl.unaligned = true,
};

static void stm32f4xx_fsmc_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxFsmcState *s = STM32F4XX_FSMC(obj);
    int i;

    for (i = 0; i < STM32F4XX_FSMC_NUM_REGIONS; i++) {
        s->bcr[i] = i == 0 ? BCR1_RESET : BCRX_RESET;
        s->btr[i] = BTR_RESET;
        s->bwtr[i] = BTR_RESET;
    }
    for (i = 0; i < STM32F4XX_FSMC_NUM_NAND; i++) {
        s->pcr[i] = PCR_RESET;
        s->sr[i] = SR_RESET;
        s->pmem[i] = PMEM_RESET;
        s->patt[i] = PMEM_RESET;
    }
    s->pio4 = PMEM_RESET;
}

static void stm32f4xx_fsmc_init(Object *obj)
{
    STM32F4xxFsmcState *s = STM32F4XX_FSMC(obj);
    SysBusDevice *sbd = SYS_BUS_DEVICE(obj);
    int i;

    memory_region_init_io(&s->regs, obj, &stm32f4xx_fsmc_ops, s,
                          TYPE_STM32F4XX_FSMC, 0x1000);
    sysbus_init_mmio(sbd, &s->regs);
    for (i = 0; i < STM32F4XX_FSMC_NUM_REGIONS; i++) {
        g_autofree char *name = g_strdup_printf("fsmc.bank1.ne%d", i + 1);

        s->region[i].fsmc = s;
        s->region[i].index = i;
        memory_region_init_io(&s->region[i].iomem, obj,
                              &stm32f4xx_fsmc_region_ops, &s->region[i],
                              name, STM32F4XX_FSMC_REGION_SIZE);
        sysbus_init_mmio(sbd, &s->region[i].iomem);
    }
    for (i = 0; i < STM32F4XX_FSMC_NUM_NAND; i++) {
        g_autofree char *name = g_strdup_printf("fsmc.bank%d", i + 2);

        s->nand[i].fsmc = s;
        s->nand[i].index = i;
        memory_region_init_io(&s->nand[i].iomem, obj,
                              &stm32f4xx_fsmc_nand_ops, &s->nand[i],
                              name, STM32F4XX_FSMC_NAND_SIZE);
        sysbus_init_mmio(sbd, &s->nand[i].iomem);
    }
}

static void stm32f4xx_fsmc_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxFsmcState *s = STM32F4XX_FSMC(dev);
    int i;

    for (i = 0; i < STM32F4XX_FSMC_NUM_REGIONS; i++) {
        if (s->device[i]) {
            g_autofree char *name = g_strdup_printf("fsmc-ne%d", i + 1);

            if (memory_region_size(s->device[i]) < 2) {
                error_setg(errp, "region%d: the device needs at least "
                           "2 bytes (one 16-bit word)", i + 1);
                return;
            }
            address_space_init(&s->device_as[i], s->device[i], name);
        }
    }
}

static const VMStateDescription vmstate_stm32f4xx_fsmc = {
    .name = TYPE_STM32F4XX_FSMC,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(bcr, STM32F4xxFsmcState,
                             STM32F4XX_FSMC_NUM_REGIONS),
        VMSTATE_UINT32_ARRAY(btr, STM32F4xxFsmcState,
                             STM32F4XX_FSMC_NUM_REGIONS),
        VMSTATE_UINT32_ARRAY(bwtr, STM32F4xxFsmcState,
                             STM32F4XX_FSMC_NUM_REGIONS),
        VMSTATE_UINT32_ARRAY(pcr, STM32F4xxFsmcState, STM32F4XX_FSMC_NUM_NAND),
        VMSTATE_UINT32_ARRAY(sr, STM32F4xxFsmcState, STM32F4XX_FSMC_NUM_NAND),
        VMSTATE_UINT32_ARRAY(pmem, STM32F4xxFsmcState,
                             STM32F4XX_FSMC_NUM_NAND),
        VMSTATE_UINT32_ARRAY(patt, STM32F4xxFsmcState,
                             STM32F4XX_FSMC_NUM_NAND),
        VMSTATE_UINT32(pio4, STM32F4xxFsmcState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_fsmc_properties[] = {
    DEFINE_PROP_LINK("region1", STM32F4xxFsmcState, device[0],
                     TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_LINK("region2", STM32F4xxFsmcState, device[1],
                     TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_LINK("region3", STM32F4xxFsmcState, device[2],
                     TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_LINK("region4", STM32F4xxFsmcState, device[3],
                     TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_BOOL("fmc", STM32F4xxFsmcState, fmc, false),
};

static void stm32f4xx_fsmc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = stm32f4xx_fsmc_realize;
    dc->vmsd = &vmstate_stm32f4xx_fsmc;
    device_class_set_props(dc, stm32f4xx_fsmc_properties);
    rc->phases.hold = stm32f4xx_fsmc_reset_hold;
}

static const TypeInfo stm32f4xx_fsmc_info = {
    .name          = TYPE_STM32F4XX_FSMC,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxFsmcState),
    .instance_init = stm32f4xx_fsmc_init,
    .class_init    = stm32f4xx_fsmc_class_init,
};

static void stm32f4xx_fsmc_register_types(void)
{
    type_register_static(&stm32f4xx_fsmc_info);
}

type_init(stm32f4xx_fsmc_register_types)
