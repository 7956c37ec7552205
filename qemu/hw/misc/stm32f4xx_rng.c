/*
 * STM32F4xx random number generator (RNG)
 *
 * Reference: RM0090 rev 19, section 24 "Random number generator (RNG)".
 *
 * CR: RNGEN starts the generator, IE enables the interrupt (shared NVIC line
 * 80 with HASH). SR: DRDY is set 40 RNG clock periods (1 us at 48 MHz, in
 * QEMU virtual time) after enabling or after each read of DR, and cleared by
 * the read; DR reads 0 while DRDY is 0. CEIS and SEIS are cleared by writing
 * 0, writing 1 keeps them. CECS and SECS are read-only status.
 *
 * Entropy comes from the host through qemu_guest_getrandom() (which follows
 * QEMU's -seed option), or, with the "seed" property set to a non-zero value,
 * from a 64-bit xorshift* generator so a run can be replayed word for word.
 *
 * Fault injection (qom-set from the host, for firmware error-path tests):
 *   "seed-error" = true: SECS and SEIS set, DRDY cleared, no new data while
 *     the fault lasts. Recovery per RM0090 24.3.2: the fault ends (set the
 *     property false), software clears SEIS, then clears and sets RNGEN.
 *   "clock-error" = true: CECS and CEIS set, no data while it lasts; CECS
 *     clears by itself when the property is set false, CEIS by software.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/guest-random.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_rng.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(CR, 0x00)
    FIELD(CR, RNGEN, 2, 1)
    FIELD(CR, IE, 3, 1)
REG32(SR, 0x04)
    FIELD(SR, DRDY, 0, 1)
    FIELD(SR, CECS, 1, 1)
    FIELD(SR, SECS, 2, 1)
    FIELD(SR, CEIS, 5, 1)
    FIELD(SR, SEIS, 6, 1)
REG32(DR, 0x08)

#define CR_WMASK        (R_CR_RNGEN_MASK | R_CR_IE_MASK)
#define SR_RC_W0        (R_SR_CEIS_MASK | R_SR_SEIS_MASK)
/* 40 periods of the 48 MHz PLL48CLK */
#define RNG_READY_NS    833

static void stm32f4xx_rng_update_irq(STM32F4xxRngState *s)
{
    bool pending = FIELD_EX32(s->cr, CR, IE) &&
                   (s->sr & (R_SR_DRDY_MASK | R_SR_CEIS_MASK | R_SR_SEIS_MASK));

    qemu_set_irq(s->irq, pending);
}

static uint32_t stm32f4xx_rng_next(STM32F4xxRngState *s)
{
    uint32_t value;

    if (s->seed) {
        /* xorshift64* (Vigna), replayable from the seed */
        s->prng_state ^= s->prng_state >> 12;
        s->prng_state ^= s->prng_state << 25;
        s->prng_state ^= s->prng_state >> 27;
        value = (s->prng_state * 0x2545F4914F6CDD1DULL) >> 32;
    } else {
        qemu_guest_getrandom_nofail(&value, sizeof(value));
    }
    return value;
}

static bool stm32f4xx_rng_can_run(STM32F4xxRngState *s)
{
    return FIELD_EX32(s->cr, CR, RNGEN) && !s->clock_error &&
           !FIELD_EX32(s->sr, SR, SECS);
}

static void stm32f4xx_rng_schedule(STM32F4xxRngState *s)
{
    if (stm32f4xx_rng_can_run(s) && !FIELD_EX32(s->sr, SR, DRDY)) {
        timer_mod(s->ready_timer,
                  qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + RNG_READY_NS);
    } else {
        timer_del(s->ready_timer);
    }
}

static void stm32f4xx_rng_ready(void *opaque)
{
    STM32F4xxRngState *s = opaque;

    if (!stm32f4xx_rng_can_run(s)) {
        return;
    }
    s->dr = stm32f4xx_rng_next(s);
    s->sr = FIELD_DP32(s->sr, SR, DRDY, 1);
    trace_stm32f4xx_rng_ready(s->dr);
    stm32f4xx_rng_update_irq(s);
}

/*
 * DRDY is due RNG_READY_NS after the last read of DR. The timer that sets it
 * runs from the main loop, which a busy host can hold up for milliseconds
 * while the vCPU polls SR: a read at or after the due time sees the new word
 * all the same, as on the silicon.
 */
static void stm32f4xx_rng_catch_up(STM32F4xxRngState *s)
{
    if (timer_pending(s->ready_timer) &&
        timer_expire_time_ns(s->ready_timer) <=
        qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)) {
        timer_del(s->ready_timer);
        stm32f4xx_rng_ready(s);
    }
}

/* RM0090 24.4: the RNG registers take word accesses only */
static uint64_t stm32f4xx_rng_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxRngState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                false)) {
        return 0;
    }
    stm32f4xx_rng_catch_up(s);
    switch (addr) {
    case A_CR:
        value = s->cr;
        break;
    case A_SR:
        value = s->sr;
        break;
    case A_DR:
        if (FIELD_EX32(s->sr, SR, DRDY)) {
            value = s->dr;
            s->words++;
            s->sr = FIELD_DP32(s->sr, SR, DRDY, 0);
            stm32f4xx_rng_schedule(s);
            stm32f4xx_rng_update_irq(s);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DR read while DRDY=0 "
                          "(reads 0)\n", __func__);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    trace_stm32f4xx_rng_read(addr, value);
    return value;
}

static void stm32f4xx_rng_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    STM32F4xxRngState *s = opaque;
    uint32_t value = val64;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size, STM32F4XX_REG_WORD,
                                true)) {
        return;
    }
    trace_stm32f4xx_rng_write(addr, value);
    switch (addr) {
    case A_CR:
        if (value & ~CR_WMASK) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: CR: reserved bits 0x%08x "
                          "written\n", __func__, value & ~CR_WMASK);
        }
        if (!FIELD_EX32(value, CR, RNGEN)) {
            /*
             * Disabling drops pending data; a seed error clears once the
             * fault is gone and SEIS has been cleared (RM0090 24.3.2).
             */
            s->sr = FIELD_DP32(s->sr, SR, DRDY, 0);
            if (!s->seed_error && !FIELD_EX32(s->sr, SR, SEIS)) {
                s->sr = FIELD_DP32(s->sr, SR, SECS, 0);
            }
        }
        s->cr = value & CR_WMASK;
        stm32f4xx_rng_schedule(s);
        break;
    case A_SR:
        /* CEIS and SEIS are rc_w0; the rest is read-only */
        s->sr &= value | ~SR_RC_W0;
        break;
    case A_DR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DR is read-only\n", __func__);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    stm32f4xx_rng_update_irq(s);
}

static const MemoryRegionOps stm32f4xx_rng_ops = {
    .read = stm32f4xx_rng_read,
    .write = stm32f4xx_rng_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_rng_set_seed_error(Object *obj, bool value, Error **errp)
{
    STM32F4xxRngState *s = STM32F4XX_RNG(obj);

    s->seed_error = value;
    if (value) {
        s->sr |= R_SR_SECS_MASK | R_SR_SEIS_MASK;
        s->sr = FIELD_DP32(s->sr, SR, DRDY, 0);
    }
    trace_stm32f4xx_rng_fault("seed", value);
    stm32f4xx_rng_schedule(s);
    stm32f4xx_rng_update_irq(s);
}

static bool stm32f4xx_rng_get_seed_error(Object *obj, Error **errp)
{
    return STM32F4XX_RNG(obj)->seed_error;
}

static void stm32f4xx_rng_set_clock_error(Object *obj, bool value,
                                          Error **errp)
{
    STM32F4xxRngState *s = STM32F4XX_RNG(obj);

    s->clock_error = value;
    if (value) {
        s->sr |= R_SR_CECS_MASK | R_SR_CEIS_MASK;
        s->sr = FIELD_DP32(s->sr, SR, DRDY, 0);
    } else {
        s->sr = FIELD_DP32(s->sr, SR, CECS, 0);
    }
    trace_stm32f4xx_rng_fault("clock", value);
    stm32f4xx_rng_schedule(s);
    stm32f4xx_rng_update_irq(s);
}

static bool stm32f4xx_rng_get_clock_error(Object *obj, Error **errp)
{
    return STM32F4XX_RNG(obj)->clock_error;
}

static void stm32f4xx_rng_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxRngState *s = STM32F4XX_RNG(obj);

    s->cr = 0;
    s->sr = 0;
    s->dr = 0;
    s->seed_error = false;
    s->clock_error = false;
    /* xorshift needs a non-zero state; a replay starts over at reset */
    s->prng_state = s->seed;
    timer_del(s->ready_timer);
}

static void stm32f4xx_rng_reset_exit(Object *obj, ResetType type)
{
    stm32f4xx_rng_update_irq(STM32F4XX_RNG(obj));
}

static void stm32f4xx_rng_init(Object *obj)
{
    STM32F4xxRngState *s = STM32F4XX_RNG(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_rng_ops, s,
                          TYPE_STM32F4XX_RNG, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    s->ready_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, stm32f4xx_rng_ready, s);

    object_property_add_bool(obj, "seed-error", stm32f4xx_rng_get_seed_error,
                             stm32f4xx_rng_set_seed_error);
    object_property_add_bool(obj, "clock-error", stm32f4xx_rng_get_clock_error,
                             stm32f4xx_rng_set_clock_error);
    object_property_add_uint64_ptr(obj, "words", &s->words,
                                   OBJ_PROP_FLAG_READ);
}

static void stm32f4xx_rng_finalize(Object *obj)
{
    timer_free(STM32F4XX_RNG(obj)->ready_timer);
}

static const VMStateDescription vmstate_stm32f4xx_rng = {
    .name = TYPE_STM32F4XX_RNG,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, STM32F4xxRngState),
        VMSTATE_UINT32(sr, STM32F4xxRngState),
        VMSTATE_UINT32(dr, STM32F4xxRngState),
        VMSTATE_UINT64(prng_state, STM32F4xxRngState),
        VMSTATE_UINT64(words, STM32F4xxRngState),
        VMSTATE_BOOL(seed_error, STM32F4xxRngState),
        VMSTATE_BOOL(clock_error, STM32F4xxRngState),
        VMSTATE_TIMER_PTR(ready_timer, STM32F4xxRngState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_rng_properties[] = {
    DEFINE_PROP_UINT64("seed", STM32F4xxRngState, seed, 0),
};

static void stm32f4xx_rng_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_rng_reset_hold;
    rc->phases.exit = stm32f4xx_rng_reset_exit;
    dc->vmsd = &vmstate_stm32f4xx_rng;
    device_class_set_props(dc, stm32f4xx_rng_properties);
}

static const TypeInfo stm32f4xx_rng_info = {
    .name              = TYPE_STM32F4XX_RNG,
    .parent            = TYPE_SYS_BUS_DEVICE,
    .instance_size     = sizeof(STM32F4xxRngState),
    .instance_init     = stm32f4xx_rng_init,
    .instance_finalize = stm32f4xx_rng_finalize,
    .class_init        = stm32f4xx_rng_class_init,
};

static void stm32f4xx_rng_register_types(void)
{
    type_register_static(&stm32f4xx_rng_info);
}

type_init(stm32f4xx_rng_register_types)
