/*
 * STM32F4xx general-purpose I/O port
 *
 * Reference: RM0090 rev 19, section 8.4 "GPIO registers".
 *
 * Each port has 16 output lines (qdev GPIO out) carrying the pin level while
 * the pin is in general-purpose output mode, 16 input lines (qdev GPIO in)
 * the board uses to drive pins, and 16 "exti" output lines carrying each
 * pin's input level (its IDR bit) to SYSCFG for the EXTI line selection,
 * signalled on change only, since the EXTI takes every level it is given as
 * an edge. IDR shows, per pin: the ODR bit for a
 * push-pull output, the external level when driven, else the pull-up/down.
 * An open-drain output with ODR=1 floats: it reads the external level or the
 * pull. LCKR follows the manual's key sequence and freezes the configuration
 * of the locked pins until reset.
 *
 * Not modelled: alternate-function routing (the peripherals are not connected
 * through the pins), analog mode, output speed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/gpio/stm32f4xx_gpio.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(MODER, 0x00)
REG32(OTYPER, 0x04)
REG32(OSPEEDR, 0x08)
REG32(PUPDR, 0x0C)
REG32(IDR, 0x10)
REG32(ODR, 0x14)
REG32(BSRR, 0x18)
REG32(LCKR, 0x1C)
    FIELD(LCKR, LCK, 0, 16)
    FIELD(LCKR, LCKK, 16, 1)
REG32(AFRL, 0x20)
REG32(AFRH, 0x24)

enum { MODE_INPUT = 0, MODE_OUTPUT = 1, MODE_AF = 2, MODE_ANALOG = 3 };
enum { PULL_NONE = 0, PULL_UP = 1, PULL_DOWN = 2 };

/* RM0090 8.4: ports A and B come out of reset with the debug pins set up */
static void port_reset_values(uint8_t port, uint32_t *moder, uint32_t *ospeedr,
                              uint32_t *pupdr)
{
    switch (port) {
    case 0:
        *moder = 0xA8000000;
        *ospeedr = 0x00000000;
        *pupdr = 0x64000000;
        break;
    case 1:
        *moder = 0x00000280;
        *ospeedr = 0x000000C0;
        *pupdr = 0x00000100;
        break;
    default:
        *moder = 0;
        *ospeedr = 0;
        *pupdr = 0;
        break;
    }
}

static unsigned pin_mode(STM32F4xxGpioState *s, int pin)
{
    return extract32(s->moder, pin * 2, 2);
}

static uint32_t stm32f4xx_gpio_idr(STM32F4xxGpioState *s)
{
    uint32_t idr = 0;
    int pin;

    for (pin = 0; pin < STM32F4XX_GPIO_NPINS; pin++) {
        unsigned mode = pin_mode(s, pin);
        unsigned pull = extract32(s->pupdr, pin * 2, 2);
        bool driven_low = mode == MODE_OUTPUT && !extract32(s->odr, pin, 1);
        bool push_pull = mode == MODE_OUTPUT && !extract32(s->otyper, pin, 1);
        bool level;

        if (mode == MODE_ANALOG) {
            continue;       /* Schmitt trigger off: reads 0 */
        }
        if (push_pull || driven_low) {
            level = extract32(s->odr, pin, 1);
        } else if (extract32(s->ext_mask, pin, 1)) {
            level = extract32(s->ext_level, pin, 1);
        } else {
            level = pull == PULL_UP;
        }
        idr |= level << pin;
    }
    return idr;
}

/* Signal output pins whose level changed, and input level changes to EXTI */
static void stm32f4xx_gpio_update(STM32F4xxGpioState *s)
{
    uint32_t idr = stm32f4xx_gpio_idr(s);
    uint32_t exti_changed = idr ^ s->exti_level;
    int pin;

    s->exti_level = idr;
    for (pin = 0; pin < STM32F4XX_GPIO_NPINS; pin++) {
        if (extract32(exti_changed, pin, 1)) {
            qemu_set_irq(s->exti_out[pin], extract32(idr, pin, 1));
        }
    }

    for (pin = 0; pin < STM32F4XX_GPIO_NPINS; pin++) {
        bool is_out = pin_mode(s, pin) == MODE_OUTPUT;
        bool level = extract32(idr, pin, 1);

        if (!is_out) {
            s->out_valid &= ~(1u << pin);
            continue;
        }
        if (extract32(s->out_valid, pin, 1) &&
            extract32(s->out_level, pin, 1) == level) {
            continue;
        }
        s->out_valid |= 1u << pin;
        s->out_level = deposit32(s->out_level, pin, 1, level);
        trace_stm32f4xx_gpio_pin('A' + s->port, pin, level);
        qemu_set_irq(s->pin_out[pin], level);
    }
}

static void stm32f4xx_gpio_set_input(void *opaque, int pin, int level)
{
    STM32F4xxGpioState *s = opaque;

    /* A negative level releases the pin: the pull-up/down decides again */
    if (level < 0) {
        s->ext_mask &= ~(1u << pin);
    } else {
        s->ext_mask |= 1u << pin;
        s->ext_level = deposit32(s->ext_level, pin, 1, level != 0);
    }
    stm32f4xx_gpio_update(s);
}

/* Configuration bits (2 per pin) that LCKR has frozen */
static uint32_t locked_mask2(STM32F4xxGpioState *s)
{
    uint32_t mask = 0;
    int pin;

    if (!FIELD_EX32(s->lckr, LCKR, LCKK)) {
        return 0;
    }
    for (pin = 0; pin < STM32F4XX_GPIO_NPINS; pin++) {
        if (extract32(s->lckr, pin, 1)) {
            mask |= 3u << (pin * 2);
        }
    }
    return mask;
}

static uint32_t locked_mask4(STM32F4xxGpioState *s, int half)
{
    uint32_t mask = 0;
    int pin;

    if (!FIELD_EX32(s->lckr, LCKR, LCKK)) {
        return 0;
    }
    for (pin = 0; pin < 8; pin++) {
        if (extract32(s->lckr, half * 8 + pin, 1)) {
            mask |= 0xFu << (pin * 4);
        }
    }
    return mask;
}

static uint32_t locked_mask1(STM32F4xxGpioState *s)
{
    return FIELD_EX32(s->lckr, LCKR, LCKK) ? FIELD_EX32(s->lckr, LCKR, LCK) : 0;
}

static void write_locked(STM32F4xxGpioState *s, uint32_t *reg, uint32_t value,
                         uint32_t locked, const char *name)
{
    if ((*reg ^ value) & locked) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: GPIO%c %s: bits 0x%08x are "
                      "locked by LCKR; kept\n", __func__, 'A' + s->port, name,
                      (*reg ^ value) & locked);
    }
    *reg = (*reg & locked) | (value & ~locked);
}

/*
 * RM0090 8.4.8: write LCKK=1, LCKK=0, LCKK=1 with the same LCK[15:0], then
 * read LCKK; LCKK then reads 1 and the pins stay locked until reset. A wrong
 * step aborts the sequence.
 */
static void stm32f4xx_gpio_lckr_write(STM32F4xxGpioState *s, uint32_t value)
{
    static const bool expect_lckk[3] = { true, false, true };
    uint32_t lck = FIELD_EX32(value, LCKR, LCK);

    if (FIELD_EX32(s->lckr, LCKR, LCKK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: GPIO%c LCKR is locked until "
                      "reset\n", __func__, 'A' + s->port);
        return;
    }
    if (s->lock_step > 0 && lck != FIELD_EX32(s->lckr, LCKR, LCK)) {
        s->lock_step = 0;
    }
    if (FIELD_EX32(value, LCKR, LCKK) != expect_lckk[s->lock_step]) {
        if (s->lock_step) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: GPIO%c LCKR key sequence "
                          "aborted at step %u\n", __func__, 'A' + s->port,
                          s->lock_step + 1);
        }
        s->lock_step = FIELD_EX32(value, LCKR, LCKK) ? 1 : 0;
        s->lckr = lck;
        return;
    }
    s->lckr = lck;
    if (++s->lock_step == 3) {
        s->lckr |= R_LCKR_LCKK_MASK;
        s->lock_step = 0;
        trace_stm32f4xx_gpio_locked('A' + s->port, lck);
    }
}

/*
 * RM0090 8.4: the GPIO registers take byte, half-word and word accesses,
 * except LCKR (32-bit word only). A byte or half-word read returns the
 * addressed bytes; a narrower write changes its own byte lanes only.
 */
static uint64_t stm32f4xx_gpio_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxGpioState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size,
                                (addr & ~3) == A_LCKR ? STM32F4XX_REG_WORD
                                                      : STM32F4XX_REG_BYTE,
                                false)) {
        return 0;
    }
    switch (addr & ~3) {
    case A_MODER:
        value = s->moder;
        break;
    case A_OTYPER:
        value = s->otyper;
        break;
    case A_OSPEEDR:
        value = s->ospeedr;
        break;
    case A_PUPDR:
        value = s->pupdr;
        break;
    case A_IDR:
        value = stm32f4xx_gpio_idr(s);
        break;
    case A_ODR:
        value = s->odr;
        break;
    case A_BSRR:
        /* Write-only, reads 0 */
        break;
    case A_LCKR:
        value = s->lckr;
        break;
    case A_AFRL:
        value = s->afr[0];
        break;
    case A_AFRH:
        value = s->afr[1];
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: GPIO%c: bad offset 0x%"
                      HWADDR_PRIx "\n", __func__, 'A' + s->port, addr);
        break;
    }
    value = stm32f4xx_reg_extract(value, addr, size);
    trace_stm32f4xx_gpio_read('A' + s->port, addr, value);
    return value;
}

static void stm32f4xx_gpio_write(void *opaque, hwaddr addr, uint64_t val64,
                                 unsigned size)
{
    STM32F4xxGpioState *s = opaque;
    STM32F4xxRegAccess a = stm32f4xx_reg_access(addr, val64, size);

    trace_stm32f4xx_gpio_write('A' + s->port, addr, val64);
    if (!stm32f4xx_reg_width_ok(__func__, addr, size,
                                a.offset == A_LCKR ? STM32F4XX_REG_WORD
                                                   : STM32F4XX_REG_BYTE,
                                true)) {
        return;
    }
    switch (a.offset) {
    case A_MODER:
        write_locked(s, &s->moder, stm32f4xx_reg_merge(s->moder, &a),
                     locked_mask2(s), "MODER");
        break;
    case A_OTYPER:
        write_locked(s, &s->otyper, stm32f4xx_reg_merge(s->otyper, &a) & 0xFFFF,
                     locked_mask1(s), "OTYPER");
        break;
    case A_OSPEEDR:
        write_locked(s, &s->ospeedr, stm32f4xx_reg_merge(s->ospeedr, &a),
                     locked_mask2(s), "OSPEEDR");
        break;
    case A_PUPDR:
        write_locked(s, &s->pupdr, stm32f4xx_reg_merge(s->pupdr, &a),
                     locked_mask2(s), "PUPDR");
        break;
    case A_IDR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: GPIO%c: IDR is read-only\n",
                      __func__, 'A' + s->port);
        break;
    case A_ODR:
        s->odr = stm32f4xx_reg_merge(s->odr, &a) & 0xFFFF;
        break;
    case A_BSRR:
        /*
         * An action, not storage: only the written lanes set (BS, the low
         * half, "BSRRL") or reset (BR, the high half, "BSRRH") pins. Set
         * has priority over reset (RM0090 8.4.7).
         */
        s->odr &= ~(a.data >> 16);
        s->odr |= a.data & 0xFFFF;
        break;
    case A_LCKR:
        stm32f4xx_gpio_lckr_write(s, a.data);
        break;
    case A_AFRL:
        write_locked(s, &s->afr[0], stm32f4xx_reg_merge(s->afr[0], &a),
                     locked_mask4(s, 0), "AFRL");
        break;
    case A_AFRH:
        write_locked(s, &s->afr[1], stm32f4xx_reg_merge(s->afr[1], &a),
                     locked_mask4(s, 1), "AFRH");
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: GPIO%c: bad offset 0x%"
                      HWADDR_PRIx "\n", __func__, 'A' + s->port, addr);
        return;
    }
    stm32f4xx_gpio_update(s);
}

static const MemoryRegionOps stm32f4xx_gpio_ops = {
    .read = stm32f4xx_gpio_read,
    .write = stm32f4xx_gpio_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_gpio_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxGpioState *s = STM32F4XX_GPIO(obj);

    port_reset_values(s->port, &s->moder, &s->ospeedr, &s->pupdr);
    s->otyper = 0;
    s->odr = 0;
    s->lckr = 0;
    s->afr[0] = 0;
    s->afr[1] = 0;
    s->lock_step = 0;
    s->out_valid = 0;
    s->exti_level = 0;
}

static void stm32f4xx_gpio_reset_exit(Object *obj, ResetType type)
{
    stm32f4xx_gpio_update(STM32F4XX_GPIO(obj));
}

static void stm32f4xx_gpio_get_u32(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    STM32F4xxGpioState *s = STM32F4XX_GPIO(obj);
    uint32_t value = opaque ? stm32f4xx_gpio_idr(s) : s->odr;

    visit_type_uint32(v, name, &value, errp);
}

static void stm32f4xx_gpio_init(Object *obj)
{
    STM32F4xxGpioState *s = STM32F4XX_GPIO(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_gpio_ops, s,
                          TYPE_STM32F4XX_GPIO, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    qdev_init_gpio_out(DEVICE(obj), s->pin_out, STM32F4XX_GPIO_NPINS);
    qdev_init_gpio_out_named(DEVICE(obj), s->exti_out, "exti",
                             STM32F4XX_GPIO_NPINS);
    qdev_init_gpio_in(DEVICE(obj), stm32f4xx_gpio_set_input,
                      STM32F4XX_GPIO_NPINS);
    /* Read-only views for the host (qom-get): output and input data */
    object_property_add(obj, "odr", "uint32", stm32f4xx_gpio_get_u32,
                        NULL, NULL, NULL);
    object_property_add(obj, "idr", "uint32", stm32f4xx_gpio_get_u32,
                        NULL, NULL, (void *)1);
}

static void stm32f4xx_gpio_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxGpioState *s = STM32F4XX_GPIO(dev);

    if (s->port > 10) {
        error_setg(errp, "port must be 0 (GPIOA) .. 10 (GPIOK)");
    }
}

static const VMStateDescription vmstate_stm32f4xx_gpio = {
    .name = TYPE_STM32F4XX_GPIO,
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(moder, STM32F4xxGpioState),
        VMSTATE_UINT32(otyper, STM32F4xxGpioState),
        VMSTATE_UINT32(ospeedr, STM32F4xxGpioState),
        VMSTATE_UINT32(pupdr, STM32F4xxGpioState),
        VMSTATE_UINT32(odr, STM32F4xxGpioState),
        VMSTATE_UINT32(lckr, STM32F4xxGpioState),
        VMSTATE_UINT32_ARRAY(afr, STM32F4xxGpioState, 2),
        VMSTATE_UINT32(lock_step, STM32F4xxGpioState),
        VMSTATE_UINT32(ext_mask, STM32F4xxGpioState),
        VMSTATE_UINT32(ext_level, STM32F4xxGpioState),
        VMSTATE_UINT32(out_level, STM32F4xxGpioState),
        VMSTATE_UINT32(out_valid, STM32F4xxGpioState),
        VMSTATE_UINT32(exti_level, STM32F4xxGpioState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_gpio_properties[] = {
    DEFINE_PROP_UINT8("port", STM32F4xxGpioState, port, 0),
};

static void stm32f4xx_gpio_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_gpio_reset_hold;
    rc->phases.exit = stm32f4xx_gpio_reset_exit;
    dc->realize = stm32f4xx_gpio_realize;
    dc->vmsd = &vmstate_stm32f4xx_gpio;
    device_class_set_props(dc, stm32f4xx_gpio_properties);
}

static const TypeInfo stm32f4xx_gpio_info = {
    .name          = TYPE_STM32F4XX_GPIO,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxGpioState),
    .instance_init = stm32f4xx_gpio_init,
    .class_init    = stm32f4xx_gpio_class_init,
};

static void stm32f4xx_gpio_register_types(void)
{
    type_register_static(&stm32f4xx_gpio_info);
}

type_init(stm32f4xx_gpio_register_types)
