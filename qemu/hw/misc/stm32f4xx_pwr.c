/*
 * STM32F4xx power controller (PWR)
 *
 * Reference: RM0090 rev 19, section 5.4 "PWR registers" (STM32F405xx/07xx
 * and STM32F415xx/17xx).
 *
 * The supply is ideal: the backup regulator is ready as soon as it is
 * enabled (BRR follows BRE), VOSRDY reads 1, PVDO reads 0. CWUF and CSBF clear
 * WUF and SBF and read as zero. Low-power modes are not modelled (a WFI just
 * idles the CPU in QEMU).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_pwr.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(CR, 0x00)
    FIELD(CR, LPDS, 0, 1)
    FIELD(CR, PDDS, 1, 1)
    FIELD(CR, CWUF, 2, 1)
    FIELD(CR, CSBF, 3, 1)
    FIELD(CR, PVDE, 4, 1)
    FIELD(CR, PLS, 5, 3)
    FIELD(CR, DBP, 8, 1)
    FIELD(CR, FPDS, 9, 1)
    FIELD(CR, VOS, 14, 1)
REG32(CSR, 0x04)
    FIELD(CSR, WUF, 0, 1)
    FIELD(CSR, SBF, 1, 1)
    FIELD(CSR, PVDO, 2, 1)
    FIELD(CSR, BRR, 3, 1)
    FIELD(CSR, EWUP, 8, 1)
    FIELD(CSR, BRE, 9, 1)
    FIELD(CSR, VOSRDY, 14, 1)

#define CR_WMASK    0x000043F3
#define CSR_WMASK   0x00000300

/* RM0090 5.4: the PWR registers take half-word and word accesses */
static uint64_t stm32f4xx_pwr_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxPwrState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_HALFWORD,
                                false)) {
        return 0;
    }
    switch (addr & ~3) {
    case A_CR:
        value = s->cr;
        break;
    case A_CSR:
        value = s->csr;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    value = stm32f4xx_reg_extract(value, addr, size);
    trace_stm32f4xx_pwr_read(addr, value);
    return value;
}

static void stm32f4xx_pwr_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    STM32F4xxPwrState *s = opaque;
    STM32F4xxRegAccess a = stm32f4xx_reg_access(addr, val64, size);

    trace_stm32f4xx_pwr_write(addr, val64);
    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_HALFWORD,
                                true)) {
        return;
    }
    switch (a.offset) {
    case A_CR:
        if (FIELD_EX32(a.data, CR, CWUF)) {
            s->csr = FIELD_DP32(s->csr, CSR, WUF, 0);
        }
        if (FIELD_EX32(a.data, CR, CSBF)) {
            s->csr = FIELD_DP32(s->csr, CSR, SBF, 0);
        }
        s->cr = stm32f4xx_reg_merge(s->cr, &a) & CR_WMASK;
        break;
    case A_CSR:
        s->csr = (s->csr & ~CSR_WMASK) |
                 (stm32f4xx_reg_merge(s->csr, &a) & CSR_WMASK);
        s->csr = FIELD_DP32(s->csr, CSR, BRR, FIELD_EX32(s->csr, CSR, BRE));
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
}

static const MemoryRegionOps stm32f4xx_pwr_ops = {
    .read = stm32f4xx_pwr_read,
    .write = stm32f4xx_pwr_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_pwr_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxPwrState *s = STM32F4XX_PWR(obj);

    s->cr = R_CR_VOS_MASK;
    s->csr = R_CSR_VOSRDY_MASK;
}

static void stm32f4xx_pwr_init(Object *obj)
{
    STM32F4xxPwrState *s = STM32F4XX_PWR(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_pwr_ops, s,
                          TYPE_STM32F4XX_PWR, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
}

static const VMStateDescription vmstate_stm32f4xx_pwr = {
    .name = TYPE_STM32F4XX_PWR,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, STM32F4xxPwrState),
        VMSTATE_UINT32(csr, STM32F4xxPwrState),
        VMSTATE_END_OF_LIST()
    },
};

static void stm32f4xx_pwr_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_pwr_reset_hold;
    dc->vmsd = &vmstate_stm32f4xx_pwr;
}

static const TypeInfo stm32f4xx_pwr_info = {
    .name          = TYPE_STM32F4XX_PWR,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxPwrState),
    .instance_init = stm32f4xx_pwr_init,
    .class_init    = stm32f4xx_pwr_class_init,
};

static void stm32f4xx_pwr_register_types(void)
{
    type_register_static(&stm32f4xx_pwr_info);
}

type_init(stm32f4xx_pwr_register_types)
