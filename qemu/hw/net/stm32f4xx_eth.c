/*
 * STM32F4xx Ethernet MAC with DMA (RM0090 chapter 33) and a DP83848 PHY
 *
 * Placeholder while the model is written: registers read as zero.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/net/stm32f4xx_eth.h"

static uint64_t stm32f4xx_eth_read(void *opaque, hwaddr addr, unsigned size)
{
    qemu_log_mask(LOG_UNIMP, "%s: 0x%" HWADDR_PRIx "\n", __func__, addr);
    return 0;
}

static void stm32f4xx_eth_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned size)
{
    qemu_log_mask(LOG_UNIMP, "%s: 0x%" HWADDR_PRIx "\n", __func__, addr);
}

static const MemoryRegionOps stm32f4xx_eth_ops = {
    .read = stm32f4xx_eth_read,
    .write = stm32f4xx_eth_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl.min_access_size = 4,
    .impl.max_access_size = 4,
};

static bool stm32f4xx_eth_can_receive(NetClientState *nc)
{
    return false;
}

static ssize_t stm32f4xx_eth_receive(NetClientState *nc, const uint8_t *buf,
                                     size_t size)
{
    return -1;
}

static NetClientInfo net_stm32f4xx_eth_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = stm32f4xx_eth_can_receive,
    .receive = stm32f4xx_eth_receive,
};

static void stm32f4xx_eth_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxEthState *s = STM32F4XX_ETH(dev);

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
}

static const Property stm32f4xx_eth_properties[] = {
    DEFINE_NIC_PROPERTIES(STM32F4xxEthState, conf),
};

static void stm32f4xx_eth_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = stm32f4xx_eth_realize;
    device_class_set_props(dc, stm32f4xx_eth_properties);
}

static const TypeInfo stm32f4xx_eth_info = {
    .name = TYPE_STM32F4XX_ETH,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxEthState),
    .class_init = stm32f4xx_eth_class_init,
};

static void stm32f4xx_eth_register_types(void)
{
    type_register_static(&stm32f4xx_eth_info);
}

type_init(stm32f4xx_eth_register_types)
