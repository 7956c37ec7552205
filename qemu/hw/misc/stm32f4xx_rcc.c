/*
 * STM32F4xx reset and clock control (RCC)
 *
 * Reference: RM0090 rev 19, section 7.3 "RCC registers for STM32F405xx/07xx
 * and STM32F415xx/17xx".
 *
 * Oscillators and PLLs are ideal: a ready flag follows its enable at once
 * (the PLL only locks when its input oscillator is running and M/N/P are in
 * range). SW selects the system clock only once the source is ready, and SWS
 * follows. The HCLK/PCLK1/PCLK2 outputs follow the clock tree, so SysTick and
 * the CPU clock in QEMU run at what the firmware configured.
 *
 * The peripheral reset (xxxRSTR) and clock-enable (xxxENR) bits drive one
 * output line each; the SoC wires them to the RCC gate of each block, which
 * resets and holds the block while its reset bit is set and refuses register
 * accesses while its clock is off (hw/misc/stm32f4xx_rcc_gate.c).
 *
 * Not modelled: clock security system, backup-domain write protection,
 * low-power clock gating (LPENR bits read back).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/irq.h"
#include "hw/qdev-clock.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_rcc.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

#define HSI_FREQUENCY 16000000

REG32(CR, 0x00)
    FIELD(CR, HSION, 0, 1)
    FIELD(CR, HSIRDY, 1, 1)
    FIELD(CR, HSITRIM, 3, 5)
    FIELD(CR, HSICAL, 8, 8)
    FIELD(CR, HSEON, 16, 1)
    FIELD(CR, HSERDY, 17, 1)
    FIELD(CR, HSEBYP, 18, 1)
    FIELD(CR, CSSON, 19, 1)
    FIELD(CR, PLLON, 24, 1)
    FIELD(CR, PLLRDY, 25, 1)
    FIELD(CR, PLLI2SON, 26, 1)
    FIELD(CR, PLLI2SRDY, 27, 1)
REG32(PLLCFGR, 0x04)
    FIELD(PLLCFGR, PLLM, 0, 6)
    FIELD(PLLCFGR, PLLN, 6, 9)
    FIELD(PLLCFGR, PLLP, 16, 2)
    FIELD(PLLCFGR, PLLSRC, 22, 1)
    FIELD(PLLCFGR, PLLQ, 24, 4)
REG32(CFGR, 0x08)
    FIELD(CFGR, SW, 0, 2)
    FIELD(CFGR, SWS, 2, 2)
    FIELD(CFGR, HPRE, 4, 4)
    FIELD(CFGR, PPRE1, 10, 3)
    FIELD(CFGR, PPRE2, 13, 3)
REG32(CIR, 0x0C)
    FIELD(CIR, FLAGS, 0, 8)
    FIELD(CIR, IE, 8, 6)
    FIELD(CIR, CLEAR, 16, 8)
REG32(AHB1RSTR, 0x10)
REG32(AHB2RSTR, 0x14)
REG32(AHB3RSTR, 0x18)
REG32(APB1RSTR, 0x20)
REG32(APB2RSTR, 0x24)
REG32(AHB1ENR, 0x30)
REG32(AHB2ENR, 0x34)
REG32(AHB3ENR, 0x38)
REG32(APB1ENR, 0x40)
REG32(APB2ENR, 0x44)
REG32(AHB1LPENR, 0x50)
REG32(AHB2LPENR, 0x54)
REG32(AHB3LPENR, 0x58)
REG32(APB1LPENR, 0x60)
REG32(APB2LPENR, 0x64)
REG32(BDCR, 0x70)
    FIELD(BDCR, LSEON, 0, 1)
    FIELD(BDCR, LSERDY, 1, 1)
    FIELD(BDCR, BDRST, 16, 1)
REG32(CSR, 0x74)
    FIELD(CSR, LSION, 0, 1)
    FIELD(CSR, LSIRDY, 1, 1)
    FIELD(CSR, RMVF, 24, 1)
    FIELD(CSR, RSTF, 25, 7)
REG32(SSCGR, 0x80)
REG32(PLLI2SCFGR, 0x84)

/* CIR ready-interrupt flags, in bit order */
#define CIR_LSIRDYF     (1 << 0)
#define CIR_LSERDYF     (1 << 1)
#define CIR_HSIRDYF     (1 << 2)
#define CIR_HSERDYF     (1 << 3)
#define CIR_PLLRDYF     (1 << 4)
#define CIR_PLLI2SRDYF  (1 << 5)

enum { SW_HSI = 0, SW_HSE = 1, SW_PLL = 2 };

typedef struct RccRegInfo {
    const char *name;
    uint32_t reset;
    uint32_t writable;
} RccRegInfo;

/* Reset values and writable bits, RM0090 7.3.1 .. 7.3.24 */
static const RccRegInfo rcc_regs[STM32F4XX_RCC_NREGS] = {
    [R_CR]         = { "CR",         0x00000083, 0x050D00F9 },
    [R_PLLCFGR]    = { "PLLCFGR",    0x24003010, 0x0F437FFF },
    [R_CFGR]       = { "CFGR",       0x00000000, 0xFFFFFCF3 },
    [R_CIR]        = { "CIR",        0x00000000, 0x00003F00 },
    [R_AHB1RSTR]   = { "AHB1RSTR",   0x00000000, 0x226011FF },
    [R_AHB2RSTR]   = { "AHB2RSTR",   0x00000000, 0x000000F1 },
    [R_AHB3RSTR]   = { "AHB3RSTR",   0x00000000, 0x00000001 },
    [R_APB1RSTR]   = { "APB1RSTR",   0x00000000, 0x36FEC9FF },
    [R_APB2RSTR]   = { "APB2RSTR",   0x00000000, 0x00075933 },
    [R_AHB1ENR]    = { "AHB1ENR",    0x00100000, 0x7E7411FF },
    [R_AHB2ENR]    = { "AHB2ENR",    0x00000000, 0x000000F1 },
    [R_AHB3ENR]    = { "AHB3ENR",    0x00000000, 0x00000001 },
    [R_APB1ENR]    = { "APB1ENR",    0x00000000, 0x36FEC9FF },
    [R_APB2ENR]    = { "APB2ENR",    0x00000000, 0x00075F33 },
    [R_AHB1LPENR]  = { "AHB1LPENR",  0x7E6791FF, 0x7E6791FF },
    [R_AHB2LPENR]  = { "AHB2LPENR",  0x000000F1, 0x000000F1 },
    [R_AHB3LPENR]  = { "AHB3LPENR",  0x00000001, 0x00000001 },
    [R_APB1LPENR]  = { "APB1LPENR",  0x36FEC9FF, 0x36FEC9FF },
    [R_APB2LPENR]  = { "APB2LPENR",  0x00075F33, 0x00075F33 },
    [R_BDCR]       = { "BDCR",       0x00000000, 0x00018305 },
    [R_CSR]        = { "CSR",        0x0E000000, 0x00000001 },
    [R_SSCGR]      = { "SSCGR",      0x00000000, 0xCFFFFFFF },
    [R_PLLI2SCFGR] = { "PLLI2SCFGR", 0x20003000, 0x70007FC0 },
};

/* The reset and enable registers of each bus, in STM32F4xxRccBus order */
static const int rcc_rstr[STM32F4XX_RCC_NBUSES] = {
    R_AHB1RSTR, R_AHB2RSTR, R_AHB3RSTR, R_APB1RSTR, R_APB2RSTR,
};
static const int rcc_enr[STM32F4XX_RCC_NBUSES] = {
    R_AHB1ENR, R_AHB2ENR, R_AHB3ENR, R_APB1ENR, R_APB2ENR,
};

/* GPIOJ and GPIOK reset, enable and low-power enable bits (STM32F42x/43x) */
#define AHB1_GPIOJK     0x00000600
/* SPI4 and SPI5 reset, enable and low-power enable bits (STM32F411) */
#define APB2_SPI45      0x00102000

static uint32_t rcc_writable(STM32F4xxRccState *s, int idx)
{
    uint32_t wmask = rcc_regs[idx].writable;

    if (s->gpio_jk && (idx == R_AHB1RSTR || idx == R_AHB1ENR ||
                       idx == R_AHB1LPENR)) {
        wmask |= AHB1_GPIOJK;
    }
    if (s->spi45 && (idx == R_APB2RSTR || idx == R_APB2ENR ||
                     idx == R_APB2LPENR)) {
        wmask |= APB2_SPI45;
    }
    return wmask;
}

/* Drive the reset and clock-enable lines whose bit changed (all: every one) */
static void stm32f4xx_rcc_update_periph(STM32F4xxRccState *s, bool all)
{
    int bus, bit;

    for (bus = 0; bus < STM32F4XX_RCC_NBUSES; bus++) {
        uint32_t rst = s->regs[rcc_rstr[bus]];
        uint32_t en = s->regs[rcc_enr[bus]];
        uint32_t rst_changed = all ? UINT32_MAX : rst ^ s->reset_lines[bus];
        uint32_t en_changed = all ? UINT32_MAX : en ^ s->clock_lines[bus];

        s->reset_lines[bus] = rst;
        s->clock_lines[bus] = en;
        for (bit = 0; bit < 32; bit++) {
            if (extract32(rst_changed, bit, 1)) {
                qemu_set_irq(s->periph_reset[STM32F4XX_RCC_LINE(bus, bit)],
                             extract32(rst, bit, 1));
            }
            if (extract32(en_changed, bit, 1)) {
                qemu_set_irq(s->periph_clock[STM32F4XX_RCC_LINE(bus, bit)],
                             extract32(en, bit, 1));
            }
        }
    }
}

static const char *rcc_reg_name(hwaddr addr)
{
    const char *name = NULL;

    if (addr < sizeof(rcc_regs) / sizeof(rcc_regs[0]) * 4) {
        name = rcc_regs[addr >> 2].name;
    }
    return name;
}

static void stm32f4xx_rcc_update_irq(STM32F4xxRccState *s)
{
    uint32_t cir = s->regs[R_CIR];
    uint32_t pending = FIELD_EX32(cir, CIR, FLAGS) & FIELD_EX32(cir, CIR, IE);

    qemu_set_irq(s->irq, pending != 0);
}

/* PLL output in Hz, 0 when the configuration cannot lock (RM0090 7.3.2) */
static uint64_t stm32f4xx_rcc_pll_hz(STM32F4xxRccState *s)
{
    uint32_t cfgr = s->regs[R_PLLCFGR];
    uint32_t m = FIELD_EX32(cfgr, PLLCFGR, PLLM);
    uint32_t n = FIELD_EX32(cfgr, PLLCFGR, PLLN);
    uint32_t p = (FIELD_EX32(cfgr, PLLCFGR, PLLP) + 1) * 2;
    uint64_t in = FIELD_EX32(cfgr, PLLCFGR, PLLSRC) ? s->hse_frequency
                                                    : HSI_FREQUENCY;

    if (m < 2 || n < 50 || n > 432) {
        return 0;
    }
    return in / m * n / p;
}

static bool stm32f4xx_rcc_source_ready(STM32F4xxRccState *s, unsigned sw)
{
    uint32_t cr = s->regs[R_CR];

    switch (sw) {
    case SW_HSI:
        return FIELD_EX32(cr, CR, HSIRDY);
    case SW_HSE:
        return FIELD_EX32(cr, CR, HSERDY);
    case SW_PLL:
        return FIELD_EX32(cr, CR, PLLRDY);
    default:
        return false;
    }
}

static void stm32f4xx_rcc_update_clocks(STM32F4xxRccState *s)
{
    static const unsigned ahb_shift[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 7, 8, 9,
    };
    static const unsigned apb_shift[8] = { 0, 0, 0, 0, 1, 2, 3, 4 };
    uint32_t cfgr = s->regs[R_CFGR];
    uint64_t sysclk, hclk;

    switch (FIELD_EX32(cfgr, CFGR, SWS)) {
    case SW_HSE:
        sysclk = s->hse_frequency;
        break;
    case SW_PLL:
        sysclk = stm32f4xx_rcc_pll_hz(s);
        break;
    default:
        sysclk = HSI_FREQUENCY;
        break;
    }
    hclk = sysclk >> ahb_shift[FIELD_EX32(cfgr, CFGR, HPRE)];
    if (clock_get_hz(s->hclk) != hclk) {
        trace_stm32f4xx_rcc_clock(sysclk, hclk);
    }
    clock_update_hz(s->hclk, hclk);
    clock_update_hz(s->pclk1, hclk >> apb_shift[FIELD_EX32(cfgr, CFGR, PPRE1)]);
    clock_update_hz(s->pclk2, hclk >> apb_shift[FIELD_EX32(cfgr, CFGR, PPRE2)]);
}

/*
 * Recompute the ready flags from the enables, raise the ready interrupt
 * flags of oscillators that just became ready, and complete a pending
 * system clock switch.
 */
static void stm32f4xx_rcc_update(STM32F4xxRccState *s)
{
    uint32_t cr = s->regs[R_CR];
    uint32_t old_cr = cr;
    uint32_t flags = 0;
    unsigned sw, sws;
    bool pll_input_ready;

    cr = FIELD_DP32(cr, CR, HSIRDY, FIELD_EX32(cr, CR, HSION));
    cr = FIELD_DP32(cr, CR, HSERDY, FIELD_EX32(cr, CR, HSEON) &&
                                    s->hse_frequency != 0);
    pll_input_ready = FIELD_EX32(s->regs[R_PLLCFGR], PLLCFGR, PLLSRC)
                      ? FIELD_EX32(cr, CR, HSERDY) : FIELD_EX32(cr, CR, HSIRDY);
    cr = FIELD_DP32(cr, CR, PLLRDY, FIELD_EX32(cr, CR, PLLON) &&
                                    pll_input_ready &&
                                    stm32f4xx_rcc_pll_hz(s) != 0);
    cr = FIELD_DP32(cr, CR, PLLI2SRDY, FIELD_EX32(cr, CR, PLLI2SON) &&
                                       pll_input_ready);
    s->regs[R_CR] = cr;

    if (!FIELD_EX32(old_cr, CR, HSIRDY) && FIELD_EX32(cr, CR, HSIRDY)) {
        flags |= CIR_HSIRDYF;
    }
    if (!FIELD_EX32(old_cr, CR, HSERDY) && FIELD_EX32(cr, CR, HSERDY)) {
        flags |= CIR_HSERDYF;
    }
    if (!FIELD_EX32(old_cr, CR, PLLRDY) && FIELD_EX32(cr, CR, PLLRDY)) {
        flags |= CIR_PLLRDYF;
    }
    if (!FIELD_EX32(old_cr, CR, PLLI2SRDY) && FIELD_EX32(cr, CR, PLLI2SRDY)) {
        flags |= CIR_PLLI2SRDYF;
    }

    /* LSE and LSI are ideal too */
    if (FIELD_EX32(s->regs[R_BDCR], BDCR, LSEON) !=
        FIELD_EX32(s->regs[R_BDCR], BDCR, LSERDY)) {
        s->regs[R_BDCR] = FIELD_DP32(s->regs[R_BDCR], BDCR, LSERDY,
                                     FIELD_EX32(s->regs[R_BDCR], BDCR, LSEON));
        flags |= FIELD_EX32(s->regs[R_BDCR], BDCR, LSERDY) ? CIR_LSERDYF : 0;
    }
    if (FIELD_EX32(s->regs[R_CSR], CSR, LSION) !=
        FIELD_EX32(s->regs[R_CSR], CSR, LSIRDY)) {
        s->regs[R_CSR] = FIELD_DP32(s->regs[R_CSR], CSR, LSIRDY,
                                    FIELD_EX32(s->regs[R_CSR], CSR, LSION));
        flags |= FIELD_EX32(s->regs[R_CSR], CSR, LSIRDY) ? CIR_LSIRDYF : 0;
    }
    s->regs[R_CIR] |= flags;

    /* The switch happens once the selected source is ready */
    sw = FIELD_EX32(s->regs[R_CFGR], CFGR, SW);
    sws = FIELD_EX32(s->regs[R_CFGR], CFGR, SWS);
    if (sw != sws && stm32f4xx_rcc_source_ready(s, sw)) {
        s->regs[R_CFGR] = FIELD_DP32(s->regs[R_CFGR], CFGR, SWS, sw);
        trace_stm32f4xx_rcc_switch(sws, sw);
    }

    stm32f4xx_rcc_update_clocks(s);
    stm32f4xx_rcc_update_irq(s);
}

/* Which oscillators the current system clock depends on */
static uint32_t stm32f4xx_rcc_locked_cr_bits(STM32F4xxRccState *s)
{
    unsigned sws = FIELD_EX32(s->regs[R_CFGR], CFGR, SWS);
    bool pllsrc_hse = FIELD_EX32(s->regs[R_PLLCFGR], PLLCFGR, PLLSRC);
    uint32_t locked = 0;

    switch (sws) {
    case SW_HSI:
        locked = R_CR_HSION_MASK;
        break;
    case SW_HSE:
        locked = R_CR_HSEON_MASK;
        break;
    case SW_PLL:
        locked = R_CR_PLLON_MASK |
                 (pllsrc_hse ? R_CR_HSEON_MASK : R_CR_HSION_MASK);
        break;
    }
    return locked;
}

static uint64_t stm32f4xx_rcc_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxRccState *s = opaque;
    const char *name = rcc_reg_name(addr & ~3);
    uint32_t value = 0;

    if (!name) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
    } else {
        value = s->regs[addr >> 2];
    }
    /* RM0090 7.3: word, half-word and byte access */
    value = stm32f4xx_reg_extract(value, addr, size);
    trace_stm32f4xx_rcc_read(addr, value);
    return value;
}

static void stm32f4xx_rcc_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    STM32F4xxRccState *s = opaque;
    STM32F4xxRegAccess a = stm32f4xx_reg_access(addr, val64, size);
    const char *name = rcc_reg_name(a.offset);
    int idx = a.offset >> 2;
    uint32_t value, wmask, locked;

    trace_stm32f4xx_rcc_write(addr, val64);
    if (!name) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        return;
    }
    /*
     * RM0090 7.3: word, half-word and byte access. A byte write changes its
     * own byte only (the HAL turns HSE on with a byte write to CR+2 and
     * clears ready flags with a byte write to CIR+2); the write-1 bits act
     * on the written lanes only.
     */
    value = stm32f4xx_reg_merge(s->regs[idx], &a);
    wmask = rcc_writable(s, idx);

    switch (idx) {
    case R_CR:
        locked = stm32f4xx_rcc_locked_cr_bits(s);
        if (locked & s->regs[R_CR] & ~value) {
            /* RM0090 7.3.1: these bits cannot be reset while in use */
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: CR: cannot stop an oscillator or PLL that "
                          "clocks the system (SWS=%u); bits 0x%08x kept\n",
                          __func__, FIELD_EX32(s->regs[R_CFGR], CFGR, SWS),
                          locked & s->regs[R_CR] & ~value);
            value |= locked & s->regs[R_CR];
        }
        if (FIELD_EX32(s->regs[R_CR], CR, HSEON) &&
            (value ^ s->regs[R_CR]) & R_CR_HSEBYP_MASK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: CR: HSEBYP written while HSE is on; ignored\n",
                          __func__);
            value = FIELD_DP32(value, CR, HSEBYP,
                               FIELD_EX32(s->regs[R_CR], CR, HSEBYP));
        }
        break;
    case R_PLLCFGR:
        if (FIELD_EX32(s->regs[R_CR], CR, PLLON) &&
            (value ^ s->regs[R_PLLCFGR]) & wmask) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: PLLCFGR written while the PLL is on; ignored\n",
                          __func__);
            return;
        }
        break;
    case R_CFGR:
        if (FIELD_EX32(value, CFGR, SW) == 3) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "%s: CFGR: SW=3 is not allowed; SW unchanged\n",
                          __func__);
            value = FIELD_DP32(value, CFGR, SW,
                               FIELD_EX32(s->regs[R_CFGR], CFGR, SW));
        }
        break;
    case R_CIR:
        /* Clear bits are write-1, read as zero */
        s->regs[R_CIR] &= ~FIELD_EX32(a.data, CIR, CLEAR);
        break;
    case R_BDCR:
        if (FIELD_EX32(value, BDCR, BDRST)) {
            /* Backup domain reset: everything but BDRST itself clears */
            value &= R_BDCR_BDRST_MASK;
        }
        break;
    case R_CSR:
        if (FIELD_EX32(a.data, CSR, RMVF)) {
            s->regs[R_CSR] &= ~R_CSR_RSTF_MASK;
        }
        break;
    }

    s->regs[idx] = (s->regs[idx] & ~wmask) | (value & wmask);
    stm32f4xx_rcc_update(s);
    stm32f4xx_rcc_update_periph(s, false);
}

static const MemoryRegionOps stm32f4xx_rcc_ops = {
    .read = stm32f4xx_rcc_read,
    .write = stm32f4xx_rcc_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_rcc_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxRccState *s = STM32F4XX_RCC(obj);
    int i;

    for (i = 0; i < STM32F4XX_RCC_NREGS; i++) {
        s->regs[i] = rcc_regs[i].reset;
    }
}

static void stm32f4xx_rcc_reset_exit(Object *obj, ResetType type)
{
    STM32F4xxRccState *s = STM32F4XX_RCC(obj);

    /* Clocks are propagated in the exit phase, once everyone is reset */
    stm32f4xx_rcc_update(s);
    /* Power-on: the HSI became ready without a flag being requested */
    s->regs[R_CIR] = 0;
    stm32f4xx_rcc_update_irq(s);
    /* Every block leaves reset with its clock as the ENR reset values say */
    stm32f4xx_rcc_update_periph(s, true);
}

static void stm32f4xx_rcc_get_hclk(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    uint32_t hz = clock_get_hz(STM32F4XX_RCC(obj)->hclk);

    visit_type_uint32(v, name, &hz, errp);
}

static void stm32f4xx_rcc_init(Object *obj)
{
    STM32F4xxRccState *s = STM32F4XX_RCC(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_rcc_ops, s,
                          TYPE_STM32F4XX_RCC, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    s->hclk = qdev_init_clock_out(DEVICE(obj), "hclk");
    s->pclk1 = qdev_init_clock_out(DEVICE(obj), "pclk1");
    s->pclk2 = qdev_init_clock_out(DEVICE(obj), "pclk2");
    qdev_init_gpio_out_named(DEVICE(obj), s->periph_reset,
                             STM32F4XX_RCC_RESET_OUT, STM32F4XX_RCC_NLINES);
    qdev_init_gpio_out_named(DEVICE(obj), s->periph_clock,
                             STM32F4XX_RCC_CLOCK_OUT, STM32F4XX_RCC_NLINES);
    /* For the host: the CPU clock the firmware configured */
    object_property_add(obj, "hclk-frequency", "uint32",
                        stm32f4xx_rcc_get_hclk, NULL, NULL, NULL);
}

static void stm32f4xx_rcc_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxRccState *s = STM32F4XX_RCC(dev);

    if (s->hse_frequency && (s->hse_frequency < 4000000 ||
                             s->hse_frequency > 26000000)) {
        error_setg(errp, "hse-frequency must be 0 (no crystal) or "
                   "4..26 MHz, got %u Hz", s->hse_frequency);
        return;
    }
    /* The CPU needs a running clock before the first reset completes */
    clock_update_hz(s->hclk, HSI_FREQUENCY);
    clock_update_hz(s->pclk1, HSI_FREQUENCY);
    clock_update_hz(s->pclk2, HSI_FREQUENCY);
}

static int stm32f4xx_rcc_post_load(void *opaque, int version_id)
{
    STM32F4xxRccState *s = opaque;
    int bus;

    stm32f4xx_rcc_update_clocks(s);
    /* The gates migrate their own state: only note what the lines carry */
    for (bus = 0; bus < STM32F4XX_RCC_NBUSES; bus++) {
        s->reset_lines[bus] = s->regs[rcc_rstr[bus]];
        s->clock_lines[bus] = s->regs[rcc_enr[bus]];
    }
    return 0;
}

static const VMStateDescription vmstate_stm32f4xx_rcc = {
    .name = TYPE_STM32F4XX_RCC,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = stm32f4xx_rcc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(regs, STM32F4xxRccState, STM32F4XX_RCC_NREGS),
        VMSTATE_CLOCK(hclk, STM32F4xxRccState),
        VMSTATE_CLOCK(pclk1, STM32F4xxRccState),
        VMSTATE_CLOCK(pclk2, STM32F4xxRccState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_rcc_properties[] = {
    DEFINE_PROP_UINT32("hse-frequency", STM32F4xxRccState, hse_frequency,
                       25000000),
    DEFINE_PROP_BOOL("gpio-jk", STM32F4xxRccState, gpio_jk, false),
    DEFINE_PROP_BOOL("spi45", STM32F4xxRccState, spi45, false),
};

static void stm32f4xx_rcc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_rcc_reset_hold;
    rc->phases.exit = stm32f4xx_rcc_reset_exit;
    dc->realize = stm32f4xx_rcc_realize;
    dc->vmsd = &vmstate_stm32f4xx_rcc;
    device_class_set_props(dc, stm32f4xx_rcc_properties);
}

static const TypeInfo stm32f4xx_rcc_info = {
    .name          = TYPE_STM32F4XX_RCC,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxRccState),
    .instance_init = stm32f4xx_rcc_init,
    .class_init    = stm32f4xx_rcc_class_init,
};

static void stm32f4xx_rcc_register_types(void)
{
    type_register_static(&stm32f4xx_rcc_info);
}

type_init(stm32f4xx_rcc_register_types)
