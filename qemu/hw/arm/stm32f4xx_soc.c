/*
 * STM32F4xx SoC: STM32F417, STM32F439 and STM32F411
 *
 * Memory map and interrupts: RM0090 rev 19, section 2.3 (memory map) and
 * table 61/62 (vector tables); sizes: DS8626 (STM32F415/417), DS9484
 * (STM32F437/439). STM32F411: RM0383 rev 3, table 1 (memory map), table 37
 * (vector table), table 27/28 (DMA requests); DS10314 (512 KiB flash,
 * 128 KiB SRAM, no CCM, Ethernet, crypto, RNG or FSMC).
 *
 * Blocks the lab models itself: RCC, flash interface, PWR, GPIO, RNG, CRYP,
 * HASH, Ethernet, DMA1/DMA2, the FSMC and the SPIs (SPI1..SPI5 on the F411).
 * USART, TIM2..5, SYSCFG and EXTI are QEMU's existing models; every other
 * block of the part is an unimplemented-device region that logs accesses.
 * Each part's class data (the table at the end) says which blocks it has.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "system/system.h"
#include "hw/arm/stm32f4xx_soc.h"
#include "hw/qdev-clock.h"
#include "hw/qdev-properties.h"
#include "hw/misc/unimp.h"
#include "hw/misc/stm32f4xx_rcc_gate.h"

/*
 * serial_hd(0) goes to the board's console USART ("console-usart"), the
 * others follow in this order.
 */
static const hwaddr usart_addr[STM32F4XX_NUM_USARTS] = {
    0x40011000, 0x40004400, 0x40004800, 0x40011400,
};
static const int usart_irq[STM32F4XX_NUM_USARTS] = { 37, 38, 39, 71 };
static const uint8_t usart_number[STM32F4XX_NUM_USARTS] = { 1, 2, 3, 6 };
static const char *const usart_name[STM32F4XX_NUM_USARTS] = {
    "usart1", "usart2", "usart3", "usart6",
};

/* SPI1..SPI5 (RM0383 table 1, table 37) */
static const hwaddr spi_addr[STM32F4XX_NUM_SPIS] = {
    0x40013000, 0x40003800, 0x40003C00, 0x40013400, 0x40015000,
};
static const int spi_irq[STM32F4XX_NUM_SPIS] = { 35, 36, 51, 84, 85 };

static const hwaddr timer_addr[STM32F4XX_NUM_TIMERS] = {
    0x40000000, 0x40000400, 0x40000800, 0x40000C00,
};
static const int timer_irq[STM32F4XX_NUM_TIMERS] = { 28, 29, 30, 50 };

#define GPIO_BASE       0x40020000
#define GPIO_STRIDE     0x400
#define SYSCFG_ADDR     0x40013800
#define EXTI_ADDR       0x40013C00
#define RCC_ADDR        0x40023800
#define FLASH_IF_ADDR   0x40023C00
#define PWR_ADDR        0x40007000
#define ETH_ADDR        0x40028000
#define RNG_ADDR        0x50060800
#define CRYP_ADDR       0x50060000
#define HASH_ADDR       0x50060400
#define FSMC_ADDR       0xA0000000

#define RCC_IRQ         5
#define ETH_IRQ         61
#define ETH_WKUP_IRQ    62
#define CRYP_IRQ        79
#define HASH_RNG_IRQ    80
#define FLASH_IRQ       4

/*
 * Blocks behind an RCC reset bit and clock-enable bit (RM0090 7.3.5 .. 7.3.14;
 * a block's bit has the same position in its bus's xxxRSTR and xxxENR). Each
 * is mapped through an RCC gate (hw/misc/stm32f4xx_rcc_gate.c) wired to those
 * two RCC lines: the reset bit resets and holds the block, a clock that is off
 * makes its registers read 0 and ignore writes. A child the SoC variant lacks
 * (GPIOJ, GPIOK on the STM32F417) is skipped. One line per block.
 */
static const struct {
    const char *child;          /* SoC child, mapped by its MMIO region 0 */
    STM32F4xxRccBus bus;
    uint8_t bit;
    const char *label;          /* for the logs, if not the child's name */
} rcc_gated_blocks[] = {
    { "gpioa",      STM32F4XX_RCC_AHB1, 0 },
    { "gpiob",      STM32F4XX_RCC_AHB1, 1 },
    { "gpioc",      STM32F4XX_RCC_AHB1, 2 },
    { "gpiod",      STM32F4XX_RCC_AHB1, 3 },
    { "gpioe",      STM32F4XX_RCC_AHB1, 4 },
    { "gpiof",      STM32F4XX_RCC_AHB1, 5 },
    { "gpiog",      STM32F4XX_RCC_AHB1, 6 },
    { "gpioh",      STM32F4XX_RCC_AHB1, 7 },
    { "gpioi",      STM32F4XX_RCC_AHB1, 8 },
    { "gpioj",      STM32F4XX_RCC_AHB1, 9 },
    { "gpiok",      STM32F4XX_RCC_AHB1, 10 },
    { "dma1",       STM32F4XX_RCC_AHB1, 21 },
    { "dma2",       STM32F4XX_RCC_AHB1, 22 },
    { "eth",        STM32F4XX_RCC_AHB1, 25 },   /* ETHMACEN, ETHMACRST */
    { "cryp",       STM32F4XX_RCC_AHB2, 4 },
    { "hash",       STM32F4XX_RCC_AHB2, 5 },
    { "rng",        STM32F4XX_RCC_AHB2, 6 },
    { "spi2",       STM32F4XX_RCC_APB1, 14 },
    { "spi3",       STM32F4XX_RCC_APB1, 15 },
    { "spi1",       STM32F4XX_RCC_APB2, 12 },
    { "spi4",       STM32F4XX_RCC_APB2, 13 },
    { "spi5",       STM32F4XX_RCC_APB2, 20 },
    { "timer[0]",   STM32F4XX_RCC_APB1, 0, "tim2" },
    { "timer[1]",   STM32F4XX_RCC_APB1, 1, "tim3" },
    { "timer[2]",   STM32F4XX_RCC_APB1, 2, "tim4" },
    { "timer[3]",   STM32F4XX_RCC_APB1, 3, "tim5" },
    { "usart2",     STM32F4XX_RCC_APB1, 17 },
    { "usart3",     STM32F4XX_RCC_APB1, 18 },
    { "pwr",        STM32F4XX_RCC_APB1, 28 },
    { "usart1",     STM32F4XX_RCC_APB2, 4 },
    { "usart6",     STM32F4XX_RCC_APB2, 5 },
    { "syscfg",     STM32F4XX_RCC_APB2, 14 },
    { "fsmc",       STM32F4XX_RCC_AHB3, 0 },    /* FSMCEN, FSMCRST */
};

static const char *const rcc_bus_name[STM32F4XX_RCC_NBUSES] = {
    "AHB1", "AHB2", "AHB3", "APB1", "APB2",
};

static const int exti_irq[] = {
    6, 7, 8, 9, 10, 23, 23, 23, 23, 23, 40, 40, 40, 40, 40, 40,
};

/* DMA1, DMA2 (RM0090 table 1) and their stream interrupts (table 61) */
static const hwaddr dma_addr[STM32F4XX_NUM_DMAS] = { 0x40026000, 0x40026400 };
static const int dma_irq[STM32F4XX_NUM_DMAS][STM32F4XX_DMA_STREAMS] = {
    { 11, 12, 13, 14, 15, 16, 17, 47 },
    { 56, 57, 58, 59, 60, 68, 69, 70 },
};
#define APB1_BASE       0x40000000
#define APB1_SIZE       0x8000

/*
 * The DMA requests of the modelled blocks: the named GPIO output of a child
 * and each (DMA, stream, channel) it reaches, from RM0090 table 42 (DMA1)
 * and table 43 (DMA2), RM0383 table 27 and 28 for SPI4 and SPI5. A route
 * whose block the part lacks is left out.
 */
typedef struct {
    const char *child;
    const char *output;
    int count;
    struct {
        uint8_t dma, stream, channel;
    } to[2];
} STM32F4xxDmaRoute;

static const STM32F4xxDmaRoute dma_routes[] = {
    { "usart1", "dma-rx",  2, { { 2, 2, 4 }, { 2, 5, 4 } } },
    { "usart1", "dma-tx",  1, { { 2, 7, 4 } } },
    { "usart2", "dma-rx",  1, { { 1, 5, 4 } } },
    { "usart2", "dma-tx",  1, { { 1, 6, 4 } } },
    { "usart3", "dma-rx",  1, { { 1, 1, 4 } } },
    { "usart3", "dma-tx",  2, { { 1, 3, 4 }, { 1, 4, 7 } } },
    { "usart6", "dma-rx",  2, { { 2, 1, 5 }, { 2, 2, 5 } } },
    { "usart6", "dma-tx",  2, { { 2, 6, 5 }, { 2, 7, 5 } } },
    { "cryp",   "dma-out", 1, { { 2, 5, 2 } } },
    { "cryp",   "dma-in",  1, { { 2, 6, 2 } } },
    { "hash",   "dma-in",  1, { { 2, 7, 2 } } },
    { "spi1",   "dma-rx",  2, { { 2, 0, 3 }, { 2, 2, 3 } } },
    { "spi1",   "dma-tx",  2, { { 2, 3, 3 }, { 2, 5, 3 } } },
    { "spi2",   "dma-rx",  1, { { 1, 3, 0 } } },
    { "spi2",   "dma-tx",  1, { { 1, 4, 0 } } },
    { "spi3",   "dma-rx",  2, { { 1, 0, 0 }, { 1, 2, 0 } } },
    { "spi3",   "dma-tx",  2, { { 1, 5, 0 }, { 1, 7, 0 } } },
    { "spi4",   "dma-rx",  2, { { 2, 0, 4 }, { 2, 3, 5 } } },
    { "spi4",   "dma-tx",  2, { { 2, 1, 4 }, { 2, 4, 5 } } },
    { "spi5",   "dma-rx",  2, { { 2, 3, 2 }, { 2, 5, 7 } } },
    { "spi5",   "dma-tx",  2, { { 2, 4, 2 }, { 2, 6, 7 } } },
};
QEMU_BUILD_BUG_ON(ARRAY_SIZE(dma_routes) != STM32F4XX_NUM_DMA_ROUTES);

static void stm32f4xx_soc_initfn(Object *obj)
{
    STM32F4xxSocState *s = STM32F4XX_SOC(obj);
    STM32F4xxSocClass *sc = STM32F4XX_SOC_GET_CLASS(obj);
    int i;

    object_initialize_child(obj, "armv7m", &s->armv7m, TYPE_ARMV7M);
    object_initialize_child(obj, "syscfg", &s->syscfg, TYPE_STM32F4XX_SYSCFG);
    object_initialize_child(obj, "exti", &s->exti, TYPE_STM32F4XX_EXTI);
    object_initialize_child(obj, "rcc", &s->rcc, TYPE_STM32F4XX_RCC);
    object_initialize_child(obj, "flash-if", &s->flash_if,
                            TYPE_STM32F4XX_FLASH);
    object_initialize_child(obj, "pwr", &s->pwr, TYPE_STM32F4XX_PWR);
    for (i = 0; i < STM32F4XX_NUM_USARTS; i++) {
        if (sc->usart_mask & BIT(i)) {
            object_initialize_child(obj, usart_name[i], &s->usart[i],
                                    TYPE_STM32F2XX_USART);
        }
    }
    for (i = 0; i < STM32F4XX_NUM_TIMERS; i++) {
        object_initialize_child(obj, "timer[*]", &s->timer[i],
                                TYPE_STM32F2XX_TIMER);
    }
    for (i = 0; i < STM32F4XX_NUM_GPIOS; i++) {
        g_autofree char *name = g_strdup_printf("gpio%c", 'a' + i);

        if (sc->gpio_mask & BIT(i)) {
            object_initialize_child(obj, name, &s->gpio[i],
                                    TYPE_STM32F4XX_GPIO);
        }
    }
    for (i = 0; i < STM32F4XX_NUM_SPIS; i++) {
        g_autofree char *name = g_strdup_printf("spi%d", i + 1);

        if (sc->spi_mask & BIT(i)) {
            object_initialize_child(obj, name, &s->spi[i], TYPE_STM32F4XX_SPI);
        }
    }
    if (sc->crypto_version) {
        object_initialize_child(obj, "rng", &s->rng, TYPE_STM32F4XX_RNG);
        object_initialize_child(obj, "cryp", &s->cryp, TYPE_STM32F4XX_CRYP);
        object_initialize_child(obj, "hash", &s->hash, TYPE_STM32F4XX_HASH);
        object_initialize_child(obj, "hash-rng-irq", &s->hash_rng_irq,
                                TYPE_OR_IRQ);
    }
    if (sc->has_eth) {
        object_initialize_child(obj, "eth", &s->eth, TYPE_STM32F4XX_ETH);
    }
    if (sc->has_fsmc) {
        object_initialize_child(obj, "fsmc", &s->fsmc, TYPE_STM32F4XX_FSMC);
    }
    object_initialize_child(obj, "dbgmcu", &s->dbgmcu, TYPE_STM32F4XX_DBGMCU);
    object_initialize_child(obj, "dma1", &s->dma[0], TYPE_STM32F4XX_DMA);
    object_initialize_child(obj, "dma2", &s->dma[1], TYPE_STM32F4XX_DMA);
    for (i = 0; i < STM32F4XX_NUM_DMA_ROUTES; i++) {
        if (object_resolve_path_component(obj, dma_routes[i].child)) {
            object_initialize_child(obj, "dma-req[*]", &s->dma_req[i],
                                    TYPE_SPLIT_IRQ);
        }
    }

    s->refclk = qdev_init_clock_in(DEVICE(s), "refclk", NULL, NULL, 0);
}

static bool stm32f4xx_soc_init_ram(MemoryRegion *mr, Object *owner,
                                   const char *name, uint64_t size,
                                   hwaddr base, Error **errp)
{
    if (!memory_region_init_ram(mr, owner, name, size, errp)) {
        return false;
    }
    memory_region_add_subregion(get_system_memory(), base, mr);
    return true;
}

static bool stm32f4xx_soc_map(SysBusDevice *dev, hwaddr addr, DeviceState *nvic,
                              int irq, Error **errp)
{
    if (!sysbus_realize(dev, errp)) {
        return false;
    }
    sysbus_mmio_map(dev, 0, addr);
    if (irq >= 0) {
        sysbus_connect_irq(dev, 0, qdev_get_gpio_in(nvic, irq));
    }
    return true;
}

/*
 * Put each mapped block of rcc_gated_blocks behind its RCC gate, at the same
 * address, with the gate's inputs on the block's RCC reset and enable lines.
 */
static bool stm32f4xx_soc_gate_blocks(STM32F4xxSocState *s, Error **errp)
{
    MemoryRegion *system_memory = get_system_memory();
    int i;

    for (i = 0; i < ARRAY_SIZE(rcc_gated_blocks); i++) {
        const char *child = rcc_gated_blocks[i].child;
        Object *block = object_resolve_path_component(OBJECT(s), child);
        int line = STM32F4XX_RCC_LINE(rcc_gated_blocks[i].bus,
                                      rcc_gated_blocks[i].bit);
        g_autofree char *name = NULL;
        DeviceState *gate;
        MemoryRegion *mr;
        hwaddr addr;

        if (!block) {
            continue;
        }
        mr = sysbus_mmio_get_region(SYS_BUS_DEVICE(block), 0);
        if (mr->container != system_memory) {
            error_setg(errp, "%s: not mapped, cannot be gated", child);
            return false;
        }
        addr = mr->addr;
        memory_region_del_subregion(system_memory, mr);

        gate = qdev_new(TYPE_STM32F4XX_RCC_GATE);
        name = g_strdup_printf("rcc-gate-%s", child);
        object_property_add_child(OBJECT(s), name, OBJECT(gate));
        object_property_set_link(OBJECT(gate), "block", block, &error_abort);
        qdev_prop_set_string(gate, "bus",
                             rcc_bus_name[rcc_gated_blocks[i].bus]);
        qdev_prop_set_uint8(gate, "bit", rcc_gated_blocks[i].bit);
        if (rcc_gated_blocks[i].label) {
            qdev_prop_set_string(gate, "label", rcc_gated_blocks[i].label);
        }
        if (!sysbus_realize_and_unref(SYS_BUS_DEVICE(gate), errp)) {
            return false;
        }
        sysbus_mmio_map(SYS_BUS_DEVICE(gate), 0, addr);
        qdev_connect_gpio_out_named(DEVICE(&s->rcc), STM32F4XX_RCC_RESET_OUT,
            line, qdev_get_gpio_in_named(gate, STM32F4XX_RCC_GATE_RESET, 0));
        qdev_connect_gpio_out_named(DEVICE(&s->rcc), STM32F4XX_RCC_CLOCK_OUT,
            line, qdev_get_gpio_in_named(gate, STM32F4XX_RCC_GATE_CLOCK, 0));
    }
    return true;
}

/*
 * What the AHB bus masters other than the CPU (DMA1, DMA2, the Ethernet
 * MAC's DMA) reach through the bus matrix (RM0090 2.1 and figure 1): all of
 * the memory map but the CCM RAM (CPU D-bus only), the Cortex-M4's private
 * peripheral bus and the bit-band aliases (not in system memory here).
 */
static void stm32f4xx_soc_init_bus_matrix(STM32F4xxSocState *s)
{
    MemoryRegion *system_memory = get_system_memory();
    Object *obj = OBJECT(s);
    hwaddr ccm_end = STM32F4XX_CCM_BASE + STM32F4XX_CCM_SIZE;

    memory_region_init(&s->dma_matrix, obj, "dma-bus-matrix", 4 * GiB);
    memory_region_init_alias(&s->dma_matrix_low, obj, "dma-bus-matrix-low",
                             system_memory, 0, STM32F4XX_CCM_BASE);
    memory_region_add_subregion(&s->dma_matrix, 0, &s->dma_matrix_low);
    memory_region_init_alias(&s->dma_matrix_high, obj, "dma-bus-matrix-high",
                             system_memory, ccm_end, 4 * GiB - ccm_end);
    memory_region_add_subregion(&s->dma_matrix, ccm_end, &s->dma_matrix_high);
}

/*
 * DMA1 and DMA2 with what their AHB master ports reach: the bus matrix;
 * DMA1's peripheral port is wired to the APB1 bridge alone. Then the
 * request lines of the modelled blocks.
 */
static bool stm32f4xx_soc_init_dma(STM32F4xxSocState *s, Error **errp)
{
    MemoryRegion *system_memory = get_system_memory();
    Object *obj = OBJECT(s);
    int i, j;

    memory_region_init(&s->dma1_periph, obj, "dma1-peripheral-bus", 4 * GiB);
    memory_region_init_alias(&s->dma1_apb1, obj, "dma1-apb1", system_memory,
                             APB1_BASE, APB1_SIZE);
    memory_region_add_subregion(&s->dma1_periph, APB1_BASE, &s->dma1_apb1);

    for (i = 0; i < STM32F4XX_NUM_DMAS; i++) {
        DeviceState *dev = DEVICE(&s->dma[i]);

        qdev_prop_set_uint8(dev, "controller", i + 1);
        object_property_set_link(OBJECT(dev), "memory-port",
                                 OBJECT(&s->dma_matrix), &error_abort);
        object_property_set_link(OBJECT(dev), "periph-port",
                                 OBJECT(i ? &s->dma_matrix : &s->dma1_periph),
                                 &error_abort);
        if (!sysbus_realize(SYS_BUS_DEVICE(dev), errp)) {
            return false;
        }
        sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, dma_addr[i]);
        for (j = 0; j < STM32F4XX_DMA_STREAMS; j++) {
            sysbus_connect_irq(SYS_BUS_DEVICE(dev), j,
                               qdev_get_gpio_in(DEVICE(&s->armv7m),
                                                dma_irq[i][j]));
        }
    }

    for (i = 0; i < STM32F4XX_NUM_DMA_ROUTES; i++) {
        const STM32F4xxDmaRoute *r = &dma_routes[i];
        Object *child = object_resolve_path_component(obj, r->child);
        DeviceState *split, *src;

        if (!child) {
            continue;       /* the part lacks the block */
        }
        split = DEVICE(&s->dma_req[i]);
        src = DEVICE(child);
        qdev_prop_set_uint16(split, "num-lines", r->count);
        if (!qdev_realize(split, NULL, errp)) {
            return false;
        }
        qdev_connect_gpio_out_named(src, r->output, 0,
                                    qdev_get_gpio_in(split, 0));
        for (j = 0; j < r->count; j++) {
            DeviceState *dma = DEVICE(&s->dma[r->to[j].dma - 1]);

            qdev_connect_gpio_out(split, j, qdev_get_gpio_in_named(dma,
                "dma-req", STM32F4XX_DMA_REQ(r->to[j].stream,
                                             r->to[j].channel)));
        }
    }
    /* the HASH starts its final digest after the last word of the transfer */
    if (STM32F4XX_SOC_GET_CLASS(s)->crypto_version) {
        qdev_connect_gpio_out_named(DEVICE(&s->dma[1]), "dma-eot",
                                    STM32F4XX_DMA_REQ(7, 2),
                                    qdev_get_gpio_in_named(DEVICE(&s->hash),
                                                           "dma-in-eot", 0));
    }
    return true;
}

/* RNG, HASH and CRYP; HASH and RNG share one NVIC line */
static bool stm32f4xx_soc_init_crypto(STM32F4xxSocState *s, DeviceState *nvic,
                                      Error **errp)
{
    STM32F4xxSocClass *sc = STM32F4XX_SOC_GET_CLASS(s);

    object_property_set_int(OBJECT(&s->hash_rng_irq), "num-lines", 2,
                            &error_abort);
    if (!qdev_realize(DEVICE(&s->hash_rng_irq), NULL, errp)) {
        return false;
    }
    qdev_connect_gpio_out(DEVICE(&s->hash_rng_irq), 0,
                          qdev_get_gpio_in(nvic, HASH_RNG_IRQ));
    if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->rng), RNG_ADDR, nvic, -1,
                           errp)) {
        return false;
    }
    sysbus_connect_irq(SYS_BUS_DEVICE(&s->rng), 0,
                       qdev_get_gpio_in(DEVICE(&s->hash_rng_irq), 1));
    qdev_prop_set_uint8(DEVICE(&s->hash), "version", sc->crypto_version);
    if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->hash), HASH_ADDR, nvic, -1,
                           errp)) {
        return false;
    }
    sysbus_connect_irq(SYS_BUS_DEVICE(&s->hash), 0,
                       qdev_get_gpio_in(DEVICE(&s->hash_rng_irq), 0));
    qdev_prop_set_uint8(DEVICE(&s->cryp), "version", sc->crypto_version);
    if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->cryp), CRYP_ADDR, nvic,
                           CRYP_IRQ, errp)) {
        return false;
    }
    return true;
}

/* Ethernet MAC: -nic/-netdev options pick its backend */
static bool stm32f4xx_soc_init_eth(STM32F4xxSocState *s, DeviceState *nvic,
                                   Error **errp)
{
    DeviceState *dev = DEVICE(&s->eth);

    /* -nic/-netdev options pick its backend; its DMA masters the bus matrix */
    qemu_configure_nic_device(dev, true, NULL);
    object_property_set_link(OBJECT(dev), "dma-memory",
                             OBJECT(&s->dma_matrix), &error_abort);
    if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(dev), ETH_ADDR, nvic, ETH_IRQ,
                           errp)) {
        return false;
    }
    sysbus_connect_irq(SYS_BUS_DEVICE(dev), 1,
                       qdev_get_gpio_in(nvic, ETH_WKUP_IRQ));
    return true;
}

/*
 * FSMC: registers, bank 1 regions NE1..NE4 (the board links its devices
 * before realizing the SoC), banks 2..4
 */
static bool stm32f4xx_soc_init_fsmc(STM32F4xxSocState *s, Error **errp)
{
    DeviceState *dev = DEVICE(&s->fsmc);
    int i;

    qdev_prop_set_bit(dev, "fmc", STM32F4XX_SOC_GET_CLASS(s)->fmc);
    if (!sysbus_realize(SYS_BUS_DEVICE(dev), errp)) {
        return false;
    }
    sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, FSMC_ADDR);
    for (i = 0; i < STM32F4XX_FSMC_NUM_REGIONS; i++) {
        sysbus_mmio_map(SYS_BUS_DEVICE(dev), 1 + i, STM32F4XX_FSMC_BANK1_BASE +
                        i * STM32F4XX_FSMC_REGION_SIZE);
    }
    for (i = 0; i < STM32F4XX_FSMC_NUM_NAND; i++) {
        sysbus_mmio_map(SYS_BUS_DEVICE(dev),
                        1 + STM32F4XX_FSMC_NUM_REGIONS + i,
                        STM32F4XX_FSMC_NAND_BASE +
                        i * STM32F4XX_FSMC_NAND_SIZE);
    }
    return true;
}

static void stm32f4xx_soc_realize(DeviceState *dev_soc, Error **errp)
{
    STM32F4xxSocState *s = STM32F4XX_SOC(dev_soc);
    STM32F4xxSocClass *sc = STM32F4XX_SOC_GET_CLASS(s);
    MemoryRegion *system_memory = get_system_memory();
    Object *obj = OBJECT(dev_soc);
    DeviceState *nvic, *dev;
    int i, console, serial;
    uint8_t *sig;

    if (clock_has_source(s->refclk)) {
        error_setg(errp, "refclk clock must not be wired up by the board code");
        return;
    }
    for (i = 0; i < STM32F4XX_NUM_USARTS; i++) {
        if (usart_number[i] == s->console_usart &&
            (sc->usart_mask & BIT(i))) {
            break;
        }
    }
    if (i == STM32F4XX_NUM_USARTS) {
        error_setg(errp, "console-usart must be a USART of the %s", sc->part);
        return;
    }
    console = i;

    /* Memories */
    if (!memory_region_init_rom(&s->flash, obj, "flash", sc->flash_size,
                                errp)) {
        return;
    }
    memory_region_init_alias(&s->flash_alias, obj, "flash.alias", &s->flash,
                             0, sc->flash_size);
    memory_region_add_subregion(system_memory, STM32F4XX_FLASH_BASE,
                                &s->flash);
    memory_region_add_subregion(system_memory, 0, &s->flash_alias);
    if (!stm32f4xx_soc_init_ram(&s->sram, obj, "sram", sc->sram_size,
                                STM32F4XX_SRAM_BASE, errp) ||
        (sc->has_ccm &&
         !stm32f4xx_soc_init_ram(&s->ccm, obj, "ccm", STM32F4XX_CCM_SIZE,
                                 STM32F4XX_CCM_BASE, errp)) ||
        (sc->has_bkpsram &&
         !stm32f4xx_soc_init_ram(&s->bkpsram, obj, "bkpsram",
                                 STM32F4XX_BKPSRAM_SIZE,
                                 STM32F4XX_BKPSRAM_BASE, errp))) {
        return;
    }
    stm32f4xx_soc_init_bus_matrix(s);

    /*
     * Device electronic signature (RM0090 39.1, 39.2): the 96-bit unique ID
     * at 0x1FFF7A10 and the flash size in KiB at 0x1FFF7A22, read-only.
     */
    if (!memory_region_init_rom(&s->signature, obj, "signature", 0x20, errp)) {
        return;
    }
    sig = memory_region_get_ram_ptr(&s->signature);
    stl_le_p(sig + 0x00, s->uid[0]);
    stl_le_p(sig + 0x04, s->uid[1]);
    stl_le_p(sig + 0x08, s->uid[2]);
    stw_le_p(sig + 0x12, sc->flash_size / KiB);
    memory_region_add_subregion(system_memory, 0x1FFF7A10, &s->signature);

    /* RCC first: it drives the CPU clock */
    qdev_prop_set_uint32(DEVICE(&s->rcc), "hse-frequency", s->hse_frequency);
    qdev_prop_set_bit(DEVICE(&s->rcc), "gpio-jk", sc->gpio_mask & 0x600);
    qdev_prop_set_bit(DEVICE(&s->rcc), "spi45", sc->spi_mask & 0x18);
    if (!sysbus_realize(SYS_BUS_DEVICE(&s->rcc), errp)) {
        return;
    }
    sysbus_mmio_map(SYS_BUS_DEVICE(&s->rcc), 0, RCC_ADDR);
    /* SysTick's external reference is HCLK / 8 (RM0090 figure 21) */
    clock_set_mul_div(s->refclk, 8, 1);
    clock_set_source(s->refclk, qdev_get_clock_out(DEVICE(&s->rcc), "hclk"));

    nvic = DEVICE(&s->armv7m);
    qdev_prop_set_uint32(nvic, "num-irq", sc->num_irq);
    qdev_prop_set_uint8(nvic, "num-prio-bits", 4);
    qdev_prop_set_string(nvic, "cpu-type", ARM_CPU_TYPE_NAME("cortex-m4"));
    qdev_prop_set_bit(nvic, "enable-bitband", true);
    qdev_connect_clock_in(nvic, "cpuclk",
                          qdev_get_clock_out(DEVICE(&s->rcc), "hclk"));
    qdev_connect_clock_in(nvic, "refclk", s->refclk);
    object_property_set_link(OBJECT(&s->armv7m), "memory",
                             OBJECT(system_memory), &error_abort);
    if (!sysbus_realize(SYS_BUS_DEVICE(&s->armv7m), errp)) {
        return;
    }
    sysbus_connect_irq(SYS_BUS_DEVICE(&s->rcc), 0,
                       qdev_get_gpio_in(nvic, RCC_IRQ));

    if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->flash_if), FLASH_IF_ADDR, nvic,
                           FLASH_IRQ, errp) ||
        !stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->pwr), PWR_ADDR, nvic, -1,
                           errp) ||
        !stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->syscfg), SYSCFG_ADDR, nvic,
                           -1, errp)) {
        return;
    }

    /* EXTI, fed by SYSCFG's line selection */
    dev = DEVICE(&s->exti);
    if (!sysbus_realize(SYS_BUS_DEVICE(dev), errp)) {
        return;
    }
    sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, EXTI_ADDR);
    for (i = 0; i < ARRAY_SIZE(exti_irq); i++) {
        sysbus_connect_irq(SYS_BUS_DEVICE(dev), i,
                           qdev_get_gpio_in(nvic, exti_irq[i]));
        qdev_connect_gpio_out(DEVICE(&s->syscfg), i, qdev_get_gpio_in(dev, i));
    }

    for (i = 0, serial = 1; i < STM32F4XX_NUM_USARTS; i++) {
        if (!(sc->usart_mask & BIT(i))) {
            continue;
        }
        dev = DEVICE(&s->usart[i]);
        qdev_prop_set_chr(dev, "chardev",
                          serial_hd(i == console ? 0 : serial++));
        if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(dev), usart_addr[i], nvic,
                               usart_irq[i], errp)) {
            return;
        }
    }

    for (i = 0; i < STM32F4XX_NUM_TIMERS; i++) {
        dev = DEVICE(&s->timer[i]);
        qdev_prop_set_uint64(dev, "clock-frequency", sc->timer_frequency);
        if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(dev), timer_addr[i], nvic,
                               timer_irq[i], errp)) {
            return;
        }
    }

    /*
     * Pin input levels feed SYSCFG, whose EXTICR picks the port of each EXTI
     * line; SYSCFG takes ports A..I (its input n is port n / 16, pin n % 16).
     */
    for (i = 0; i < STM32F4XX_NUM_GPIOS; i++) {
        if (!(sc->gpio_mask & BIT(i))) {
            continue;
        }
        dev = DEVICE(&s->gpio[i]);
        qdev_prop_set_uint8(dev, "port", i);
        if (!stm32f4xx_soc_map(SYS_BUS_DEVICE(dev), GPIO_BASE + i * GPIO_STRIDE,
                               nvic, -1, errp)) {
            return;
        }
        for (int pin = 0; i < 9 && pin < STM32F4XX_GPIO_NPINS; pin++) {
            qdev_connect_gpio_out_named(dev, "exti", pin,
                qdev_get_gpio_in(DEVICE(&s->syscfg), i * 16 + pin));
        }
    }

    for (i = 0; i < STM32F4XX_NUM_SPIS; i++) {
        if ((sc->spi_mask & BIT(i)) &&
            !stm32f4xx_soc_map(SYS_BUS_DEVICE(&s->spi[i]), spi_addr[i], nvic,
                               spi_irq[i], errp)) {
            return;
        }
    }
    if (sc->crypto_version && !stm32f4xx_soc_init_crypto(s, nvic, errp)) {
        return;
    }
    if (sc->has_eth && !stm32f4xx_soc_init_eth(s, nvic, errp)) {
        return;
    }

    /* DBGMCU sits on the CPU's private peripheral bus, with the NVIC */
    dev = DEVICE(&s->dbgmcu);
    if (!s->dbgmcu.dev_id) {
        qdev_prop_set_uint16(dev, "dev-id", sc->dev_id);
    }
    if (!s->dbgmcu.rev_id) {
        qdev_prop_set_uint16(dev, "rev-id", sc->rev_id);
    }
    if (!sysbus_realize(SYS_BUS_DEVICE(dev), errp)) {
        return;
    }
    memory_region_add_subregion(&s->armv7m.container, STM32F4XX_DBGMCU_BASE,
                                sysbus_mmio_get_region(SYS_BUS_DEVICE(dev), 0));

    if (!stm32f4xx_soc_init_dma(s, errp)) {
        return;
    }
    if (sc->has_fsmc && !stm32f4xx_soc_init_fsmc(s, errp)) {
        return;
    }
    if (!stm32f4xx_soc_gate_blocks(s, errp)) {
        return;
    }
    for (i = 0; sc->unimp[i].name; i++) {
        create_unimplemented_device(sc->unimp[i].name, sc->unimp[i].addr,
                                    sc->unimp[i].size);
    }
}

/* Blocks of the STM32F405/407/415/417 and F42x/43x that only log accesses */
static const STM32F4xxUnimpBlock stm32f4x7_unimp[] = {
    { "TIM6",         0x40001000, 0x400 },
    { "TIM7",         0x40001400, 0x400 },
    { "TIM12",        0x40001800, 0x400 },
    { "TIM13",        0x40001C00, 0x400 },
    { "TIM14",        0x40002000, 0x400 },
    { "RTC and BKP",  0x40002800, 0x400 },
    { "WWDG",         0x40002C00, 0x400 },
    { "IWDG",         0x40003000, 0x400 },
    { "SPI2/I2S2",    0x40003800, 0x400 },
    { "SPI3/I2S3",    0x40003C00, 0x400 },
    { "UART4",        0x40004C00, 0x400 },
    { "UART5",        0x40005000, 0x400 },
    { "I2C1",         0x40005400, 0x400 },
    { "I2C2",         0x40005800, 0x400 },
    { "I2C3",         0x40005C00, 0x400 },
    { "CAN1",         0x40006400, 0x400 },
    { "CAN2",         0x40006800, 0x400 },
    { "DAC",          0x40007400, 0x400 },
    { "TIM1",         0x40010000, 0x400 },
    { "TIM8",         0x40010400, 0x400 },
    { "ADC",          0x40012000, 0x400 },
    { "SDIO",         0x40012C00, 0x400 },
    { "SPI1",         0x40013000, 0x400 },
    { "TIM9",         0x40014000, 0x400 },
    { "TIM10",        0x40014400, 0x400 },
    { "TIM11",        0x40014800, 0x400 },
    { "CRC",          0x40023000, 0x400 },
    { "USB OTG HS",   0x40040000, 0x40000 },
    { "USB OTG FS",   0x50000000, 0x40000 },
    { "DCMI",         0x50050000, 0x400 },
    { NULL }
};

/* The same for the STM32F411 (RM0383 table 1) */
static const STM32F4xxUnimpBlock stm32f411_unimp[] = {
    { "RTC and BKP",  0x40002800, 0x400 },
    { "WWDG",         0x40002C00, 0x400 },
    { "IWDG",         0x40003000, 0x400 },
    { "I2S2ext",      0x40003400, 0x400 },
    { "I2S3ext",      0x40004000, 0x400 },
    { "I2C1",         0x40005400, 0x400 },
    { "I2C2",         0x40005800, 0x400 },
    { "I2C3",         0x40005C00, 0x400 },
    { "TIM1",         0x40010000, 0x400 },
    { "ADC1",         0x40012000, 0x400 },
    { "SDIO",         0x40012C00, 0x400 },
    { "TIM9",         0x40014000, 0x400 },
    { "TIM10",        0x40014400, 0x400 },
    { "TIM11",        0x40014800, 0x400 },
    { "CRC",          0x40023000, 0x400 },
    { "USB OTG FS",   0x50000000, 0x40000 },
    { NULL }
};

static const Property stm32f4xx_soc_properties[] = {
    DEFINE_PROP_UINT32("hse-frequency", STM32F4xxSocState, hse_frequency,
                       25000000),
    DEFINE_PROP_UINT8("console-usart", STM32F4xxSocState, console_usart, 3),
    /* A plausible factory ID: lot/wafer/X-Y words of a real-looking part */
    DEFINE_PROP_UINT32("uid0", STM32F4xxSocState, uid[0], 0x00430027),
    DEFINE_PROP_UINT32("uid1", STM32F4xxSocState, uid[1], 0x33345111),
    DEFINE_PROP_UINT32("uid2", STM32F4xxSocState, uid[2], 0x35383830),
};

static void stm32f4xx_soc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = stm32f4xx_soc_realize;
    device_class_set_props(dc, stm32f4xx_soc_properties);
    /* The SoC only contains child devices; each has its own vmstate */
}

static void stm32f417_soc_class_init(ObjectClass *klass, void *data)
{
    STM32F4xxSocClass *sc = STM32F4XX_SOC_CLASS(klass);

    sc->part = "STM32F417";
    sc->flash_size = 1 * MiB;
    sc->sram_size = 128 * KiB;    /* SRAM1 112 KiB + SRAM2 16 KiB */
    sc->num_irq = 82;
    sc->gpio_mask = 0x1FF;        /* A..I */
    sc->spi_mask = 0;             /* SPI1..3 are not modelled on this part */
    sc->usart_mask = 0xF;
    sc->has_ccm = true;
    sc->has_bkpsram = true;
    sc->has_eth = true;
    sc->has_fsmc = true;
    sc->timer_frequency = 84000000;   /* APB1 timers at 168 MHz */
    sc->unimp = stm32f4x7_unimp;
    sc->crypto_version = 1;
    sc->dev_id = 0x413;
    sc->rev_id = 0x1007;        /* revision 2 */
}

static void stm32f439_soc_class_init(ObjectClass *klass, void *data)
{
    STM32F4xxSocClass *sc = STM32F4XX_SOC_CLASS(klass);

    sc->part = "STM32F439";
    sc->flash_size = 2 * MiB;
    sc->sram_size = 192 * KiB;    /* SRAM1 112 + SRAM2 16 + SRAM3 64 KiB */
    sc->num_irq = 91;
    sc->gpio_mask = 0x7FF;        /* A..K */
    sc->spi_mask = 0;
    sc->usart_mask = 0xF;
    sc->has_ccm = true;
    sc->has_bkpsram = true;
    sc->has_eth = true;
    sc->has_fsmc = true;
    sc->timer_frequency = 84000000;
    sc->unimp = stm32f4x7_unimp;
    sc->crypto_version = 2;
    sc->dev_id = 0x419;
    sc->rev_id = 0x2001;        /* revision 3 */
    sc->fmc = true;
}

static void stm32f411_soc_class_init(ObjectClass *klass, void *data)
{
    STM32F4xxSocClass *sc = STM32F4XX_SOC_CLASS(klass);

    sc->part = "STM32F411";
    sc->flash_size = 512 * KiB;   /* sectors 4 x 16, 64, 3 x 128 KiB */
    sc->sram_size = 128 * KiB;
    sc->num_irq = 86;             /* up to SPI5, position 85 */
    sc->gpio_mask = 0x9F;         /* A..E, H */
    sc->spi_mask = 0x1F;          /* SPI1..SPI5 */
    sc->usart_mask = 0xB;         /* USART1, USART2, USART6 */
    sc->timer_frequency = 100000000;  /* APB1 timers at 100 MHz */
    sc->unimp = stm32f411_unimp;
    sc->crypto_version = 0;
    sc->dev_id = 0x431;
    sc->rev_id = 0x1000;        /* revision A */
}

static const TypeInfo stm32f4xx_soc_types[] = {
    {
        .name          = TYPE_STM32F4XX_SOC,
        .parent        = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(STM32F4xxSocState),
        .instance_init = stm32f4xx_soc_initfn,
        .class_size    = sizeof(STM32F4xxSocClass),
        .class_init    = stm32f4xx_soc_class_init,
        .abstract      = true,
    }, {
        .name          = TYPE_STM32F417_SOC,
        .parent        = TYPE_STM32F4XX_SOC,
        .class_init    = stm32f417_soc_class_init,
    }, {
        .name          = TYPE_STM32F439_SOC,
        .parent        = TYPE_STM32F4XX_SOC,
        .class_init    = stm32f439_soc_class_init,
    }, {
        .name          = TYPE_STM32F411_SOC,
        .parent        = TYPE_STM32F4XX_SOC,
        .class_init    = stm32f411_soc_class_init,
    },
};

DEFINE_TYPES(stm32f4xx_soc_types)
