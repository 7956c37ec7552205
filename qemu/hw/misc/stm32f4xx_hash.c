/*
 * STM32F4xx hash processor (HASH), RM0090 section 25
 *
 * Placeholder while the model is written: registers read as zero.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/misc/stm32f4xx_hash.h"

static uint64_t stm32f4xx_hash_read(void *opaque, hwaddr addr, unsigned size)
{
    qemu_log_mask(LOG_UNIMP, "%s: 0x%" HWADDR_PRIx "\n", __func__, addr);
    return 0;
}

static void stm32f4xx_hash_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    qemu_log_mask(LOG_UNIMP, "%s: 0x%" HWADDR_PRIx "\n", __func__, addr);
}

static const MemoryRegionOps stm32f4xx_hash_ops = {
    .read = stm32f4xx_hash_read,
    .write = stm32f4xx_hash_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl.min_access_size = 4,
    .impl.max_access_size = 4,
};

static void stm32f4xx_hash_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxHashState *s = STM32F4XX_HASH(dev);

    if (s->version < 1 || s->version > 2) {
        error_setg(errp, "version must be 1 (STM32F415/417) or 2 "
                   "(STM32F437/439)");
        return;
    }
    memory_region_init_io(&s->mmio, OBJECT(dev), &stm32f4xx_hash_ops, s,
                          TYPE_STM32F4XX_HASH, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(dev), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(dev), &s->irq);
}

static const Property stm32f4xx_hash_properties[] = {
    DEFINE_PROP_UINT8("version", STM32F4xxHashState, version, 1),
};

static void stm32f4xx_hash_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = stm32f4xx_hash_realize;
    device_class_set_props(dc, stm32f4xx_hash_properties);
}

static const TypeInfo stm32f4xx_hash_info = {
    .name = TYPE_STM32F4XX_HASH,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxHashState),
    .class_init = stm32f4xx_hash_class_init,
};

static void stm32f4xx_hash_register_types(void)
{
    type_register_static(&stm32f4xx_hash_info);
}

type_init(stm32f4xx_hash_register_types)
