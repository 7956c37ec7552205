/*
 * STM32F4xx MCU debug component (DBGMCU)
 *
 * Reference: RM0090 rev 19, 38.6.1 "MCU device ID code" and 38.16
 * "MCU debug component (DBGMCU)".
 *
 * IDCODE gives the device and revision (HAL_GetDEVID, HAL_GetREVID; ST's
 * examples enable the prefetch buffer on revision Z only): DEV_ID 0x413 on
 * the STM32F405/407/415/417, 0x419 on the STM32F42x/43x; REV_ID as RM0090
 * lists (0x1000 A, 0x1001 Z, 0x1003 1, 0x1007 2, ... on the F41x; 0x1000 A,
 * 0x1003 Y, 0x1007 1, 0x2001 3, 0x2003 5/B on the F43x). CR, APB1_FZ and
 * APB2_FZ are stored; there is no debugger to halt the core, so what they
 * select (debug in low-power modes, trace pins, timers frozen on halt) has
 * no effect. All registers take 32-bit accesses only. The SoC gives the IDs
 * of its part; "-global stm32f4xx-dbgmcu.rev-id=0x1001" picks another
 * revision.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_dbgmcu.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(IDCODE, 0x00)
    FIELD(IDCODE, DEV_ID, 0, 12)
    FIELD(IDCODE, REV_ID, 16, 16)
REG32(CR, 0x04)
REG32(APB1_FZ, 0x08)
REG32(APB2_FZ, 0x0C)

/* DBG_SLEEP, DBG_STOP, DBG_STANDBY, TRACE_IOEN, TRACE_MODE */
#define CR_WMASK        0x000000E7
/* TIM2..7, TIM12..14, RTC, WWDG, IWDG, I2C1..3 SMBus timeout, CAN1..2 */
#define APB1_FZ_WMASK   0x06E01DFF
/* TIM1, TIM8, TIM9..11 */
#define APB2_FZ_WMASK   0x00070003

static uint64_t stm32f4xx_dbgmcu_read(void *opaque, hwaddr addr,
                                      unsigned size)
{
    STM32F4xxDbgmcuState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                false)) {
        return 0;
    }
    switch (addr) {
    case A_IDCODE:
        value = FIELD_DP32(value, IDCODE, DEV_ID, s->dev_id);
        value = FIELD_DP32(value, IDCODE, REV_ID, s->rev_id);
        break;
    case A_CR:
        value = s->cr;
        break;
    case A_APB1_FZ:
        value = s->apb1_fz;
        break;
    case A_APB2_FZ:
        value = s->apb2_fz;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    trace_stm32f4xx_dbgmcu_read(addr, value);
    return value;
}

static void stm32f4xx_dbgmcu_store(uint32_t *reg, uint32_t value,
                                   uint32_t wmask, const char *name)
{
    if (value & ~wmask) {
        qemu_log_mask(LOG_GUEST_ERROR, "stm32f4xx_dbgmcu_write: %s: reserved "
                      "bits 0x%08x written\n", name, value & ~wmask);
    }
    *reg = value & wmask;
}

static void stm32f4xx_dbgmcu_write(void *opaque, hwaddr addr, uint64_t val64,
                                   unsigned size)
{
    STM32F4xxDbgmcuState *s = opaque;
    uint32_t value = val64;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                true)) {
        return;
    }
    trace_stm32f4xx_dbgmcu_write(addr, value);
    switch (addr) {
    case A_IDCODE:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: IDCODE is read-only\n", __func__);
        break;
    case A_CR:
        stm32f4xx_dbgmcu_store(&s->cr, value, CR_WMASK, "CR");
        break;
    case A_APB1_FZ:
        stm32f4xx_dbgmcu_store(&s->apb1_fz, value, APB1_FZ_WMASK, "APB1_FZ");
        break;
    case A_APB2_FZ:
        stm32f4xx_dbgmcu_store(&s->apb2_fz, value, APB2_FZ_WMASK, "APB2_FZ");
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
}

static const MemoryRegionOps stm32f4xx_dbgmcu_ops = {
    .read = stm32f4xx_dbgmcu_read,
    .write = stm32f4xx_dbgmcu_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_dbgmcu_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxDbgmcuState *s = STM32F4XX_DBGMCU(obj);

    s->cr = 0;
    s->apb1_fz = 0;
    s->apb2_fz = 0;
}

static void stm32f4xx_dbgmcu_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxDbgmcuState *s = STM32F4XX_DBGMCU(dev);

    if (!s->dev_id || !s->rev_id) {
        error_setg(errp, "dev-id and rev-id must be set");
    }
}

static void stm32f4xx_dbgmcu_init(Object *obj)
{
    STM32F4xxDbgmcuState *s = STM32F4XX_DBGMCU(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_dbgmcu_ops, s,
                          TYPE_STM32F4XX_DBGMCU, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
}

static const VMStateDescription vmstate_stm32f4xx_dbgmcu = {
    .name = TYPE_STM32F4XX_DBGMCU,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, STM32F4xxDbgmcuState),
        VMSTATE_UINT32(apb1_fz, STM32F4xxDbgmcuState),
        VMSTATE_UINT32(apb2_fz, STM32F4xxDbgmcuState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_dbgmcu_properties[] = {
    /* Set by the SoC for its part, unless given (-global ...rev-id=0x1001) */
    DEFINE_PROP_UINT16("dev-id", STM32F4xxDbgmcuState, dev_id, 0),
    DEFINE_PROP_UINT16("rev-id", STM32F4xxDbgmcuState, rev_id, 0),
};

static void stm32f4xx_dbgmcu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_dbgmcu_reset_hold;
    dc->realize = stm32f4xx_dbgmcu_realize;
    dc->vmsd = &vmstate_stm32f4xx_dbgmcu;
    device_class_set_props(dc, stm32f4xx_dbgmcu_properties);
}

static const TypeInfo stm32f4xx_dbgmcu_info = {
    .name          = TYPE_STM32F4XX_DBGMCU,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxDbgmcuState),
    .instance_init = stm32f4xx_dbgmcu_init,
    .class_init    = stm32f4xx_dbgmcu_class_init,
};

static void stm32f4xx_dbgmcu_register_types(void)
{
    type_register_static(&stm32f4xx_dbgmcu_info);
}

type_init(stm32f4xx_dbgmcu_register_types)
