/*
 * STM32F4xx RCC gate: one block's reset and clock-enable bits on the bus
 *
 * Reference: RM0090 rev 19, 7.3.5 .. 7.3.14 (RCC_AHBxRSTR, RCC_APBxRSTR,
 * RCC_AHBxENR, RCC_APBxENR).
 *
 * The SoC maps each block that has an RCC reset bit and clock-enable bit
 * through one of these gates, and wires the two bits (RCC outputs) to the
 * gate's inputs:
 *
 *  - "clock-enable" (xxxENR): while 0 the block's registers do not respond
 *    ("when the peripheral clock is not active, the peripheral register
 *    values may not be readable by software and the returned value is always
 *    0x0"): a read returns 0, a write is ignored, both are guest errors, so
 *    firmware that forgets a clock enable fails here as on silicon.
 *  - "reset" (xxxRSTR): setting the bit resets the block (a QEMU cold reset
 *    of that device) and holds it: while the bit stays set its registers do
 *    not respond either, and clearing the bit resets it once more, so the
 *    block leaves reset in its reset state whatever happened meanwhile.
 *
 * Only register access is gated: a block whose clock is off keeps running
 * (a timer counts, a transfer in flight completes). The block's first MMIO
 * region is the one gated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_rcc_gate.h"
#include "trace.h"

static const char *gate_block_name(STM32F4xxRccGateState *s)
{
    return s->label ? s->label
                    : object_get_canonical_path_component(OBJECT(s->block));
}

static void gate_log(STM32F4xxRccGateState *s, hwaddr addr, bool is_write)
{
    if (s->in_reset) {
        qemu_log_mask(LOG_GUEST_ERROR, "stm32f4xx_rcc_gate: %s is held in "
                      "reset (RCC_%sRSTR bit %u set): %s 0x%" HWADDR_PRIx
                      " %s\n", gate_block_name(s), s->bus, s->bit,
                      is_write ? "write to" : "read of", addr,
                      is_write ? "ignored" : "returns 0");
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "stm32f4xx_rcc_gate: %s clock is off "
                      "(RCC_%sENR bit %u clear): %s 0x%" HWADDR_PRIx " %s\n",
                      gate_block_name(s), s->bus, s->bit,
                      is_write ? "write to" : "read of", addr,
                      is_write ? "ignored" : "returns 0");
    }
}

static uint64_t gate_off_read(void *opaque, hwaddr addr, unsigned size)
{
    gate_log(opaque, addr, false);
    return 0;
}

static void gate_off_write(void *opaque, hwaddr addr, uint64_t value,
                           unsigned size)
{
    gate_log(opaque, addr, true);
}

static const MemoryRegionOps gate_off_ops = {
    .read = gate_off_read,
    .write = gate_off_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
};

static void gate_update(STM32F4xxRccGateState *s)
{
    memory_region_set_enabled(&s->off, !s->clock_on || s->in_reset);
}

static void gate_set_clock(void *opaque, int n, int level)
{
    STM32F4xxRccGateState *s = opaque;

    if (s->clock_on != !!level) {
        s->clock_on = level;
        trace_stm32f4xx_rcc_gate(gate_block_name(s), s->clock_on, s->in_reset);
        gate_update(s);
    }
}

static void gate_set_reset(void *opaque, int n, int level)
{
    STM32F4xxRccGateState *s = opaque;

    if (s->in_reset != !!level) {
        s->in_reset = level;
        trace_stm32f4xx_rcc_gate(gate_block_name(s), s->clock_on, s->in_reset);
        device_cold_reset(s->block);
        gate_update(s);
    }
}

static void stm32f4xx_rcc_gate_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxRccGateState *s = STM32F4XX_RCC_GATE(obj);

    /* With the system: every RCC bit is 0, the blocks are reset already */
    s->clock_on = false;
    s->in_reset = false;
    gate_update(s);
}

static void stm32f4xx_rcc_gate_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxRccGateState *s = STM32F4XX_RCC_GATE(dev);
    g_autofree char *name = NULL;
    MemoryRegion *mr;
    uint64_t size;

    if (!s->block || !s->bus) {
        error_setg(errp, "the block and bus properties must be set");
        return;
    }
    mr = sysbus_mmio_get_region(SYS_BUS_DEVICE(s->block), 0);
    if (mr->container) {
        error_setg(errp, "%s is already mapped", gate_block_name(s));
        return;
    }
    size = memory_region_size(mr);
    name = g_strdup_printf("%s.rcc-gate",
                           object_get_canonical_path_component(OBJECT(s->block)));
    memory_region_init(&s->container, OBJECT(dev), name, size);
    memory_region_add_subregion(&s->container, 0, mr);
    g_free(name);
    name = g_strdup_printf("%s.off",
                           object_get_canonical_path_component(OBJECT(s->block)));
    memory_region_init_io(&s->off, OBJECT(dev), &gate_off_ops, s, name,
                          size);
    memory_region_add_subregion_overlap(&s->container, 0, &s->off, 1);
    sysbus_init_mmio(SYS_BUS_DEVICE(dev), &s->container);
    gate_update(s);
}

static void stm32f4xx_rcc_gate_init(Object *obj)
{
    DeviceState *dev = DEVICE(obj);

    qdev_init_gpio_in_named(dev, gate_set_clock, STM32F4XX_RCC_GATE_CLOCK, 1);
    qdev_init_gpio_in_named(dev, gate_set_reset, STM32F4XX_RCC_GATE_RESET, 1);
}

static int stm32f4xx_rcc_gate_post_load(void *opaque, int version_id)
{
    gate_update(opaque);
    return 0;
}

static const VMStateDescription vmstate_stm32f4xx_rcc_gate = {
    .name = TYPE_STM32F4XX_RCC_GATE,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = stm32f4xx_rcc_gate_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(clock_on, STM32F4xxRccGateState),
        VMSTATE_BOOL(in_reset, STM32F4xxRccGateState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_rcc_gate_properties[] = {
    DEFINE_PROP_LINK("block", STM32F4xxRccGateState, block,
                     TYPE_SYS_BUS_DEVICE, DeviceState *),
    DEFINE_PROP_STRING("bus", STM32F4xxRccGateState, bus),
    DEFINE_PROP_UINT8("bit", STM32F4xxRccGateState, bit, 0),
    DEFINE_PROP_STRING("label", STM32F4xxRccGateState, label),
};

static void stm32f4xx_rcc_gate_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_rcc_gate_reset_hold;
    dc->realize = stm32f4xx_rcc_gate_realize;
    dc->vmsd = &vmstate_stm32f4xx_rcc_gate;
    device_class_set_props(dc, stm32f4xx_rcc_gate_properties);
    /* Created and wired by the SoC */
    dc->user_creatable = false;
}

static const TypeInfo stm32f4xx_rcc_gate_info = {
    .name          = TYPE_STM32F4XX_RCC_GATE,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxRccGateState),
    .instance_init = stm32f4xx_rcc_gate_init,
    .class_init    = stm32f4xx_rcc_gate_class_init,
};

static void stm32f4xx_rcc_gate_register_types(void)
{
    type_register_static(&stm32f4xx_rcc_gate_info);
}

type_init(stm32f4xx_rcc_gate_register_types)
