/*
 * STM32F4xx embedded flash memory interface registers
 *
 * Reference: RM0090 rev 19, section 3.9 "Flash interface registers".
 *
 * Modelled: ACR (latency and cache bits read back), the KEYR/OPTKEYR unlock
 * sequences with LOCK/OPTLOCK, SR write-1-to-clear flags, CR, OPTCR.
 * Not modelled: programming and erasing the flash array (QEMU's flash is a
 * ROM); STRT and OPTSTRT log LOG_UNIMP and complete at once with no change.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/irq.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/misc/stm32f4xx_flash.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(ACR, 0x00)
    FIELD(ACR, LATENCY, 0, 3)
    FIELD(ACR, PRFTEN, 8, 1)
    FIELD(ACR, ICEN, 9, 1)
    FIELD(ACR, DCEN, 10, 1)
    FIELD(ACR, ICRST, 11, 1)
    FIELD(ACR, DCRST, 12, 1)
REG32(KEYR, 0x04)
REG32(OPTKEYR, 0x08)
REG32(SR, 0x0C)
    FIELD(SR, EOP, 0, 1)
    FIELD(SR, OPERR, 1, 1)
    FIELD(SR, WRPERR, 4, 1)
    FIELD(SR, PGAERR, 5, 1)
    FIELD(SR, PGPERR, 6, 1)
    FIELD(SR, PGSERR, 7, 1)
    FIELD(SR, BSY, 16, 1)
REG32(CR, 0x10)
    FIELD(CR, PG, 0, 1)
    FIELD(CR, SER, 1, 1)
    FIELD(CR, MER, 2, 1)
    FIELD(CR, SNB, 3, 4)
    FIELD(CR, PSIZE, 8, 2)
    FIELD(CR, STRT, 16, 1)
    FIELD(CR, EOPIE, 24, 1)
    FIELD(CR, ERRIE, 25, 1)
    FIELD(CR, LOCK, 31, 1)
REG32(OPTCR, 0x14)
    FIELD(OPTCR, OPTLOCK, 0, 1)
    FIELD(OPTCR, OPTSTRT, 1, 1)

#define ACR_WMASK   0x00001F07
#define SR_W1C      0x000000F3
#define CR_WMASK    0x030103FF
#define OPTCR_WMASK 0x0FFFFFEC

#define KEY1        0x45670123
#define KEY2        0xCDEF89AB
#define OPTKEY1     0x08192A3B
#define OPTKEY2     0x4C5D6E7F

static void stm32f4xx_flash_update_irq(STM32F4xxFlashState *s)
{
    bool eop = FIELD_EX32(s->cr, CR, EOPIE) && FIELD_EX32(s->sr, SR, EOP);
    bool err = FIELD_EX32(s->cr, CR, ERRIE) && FIELD_EX32(s->sr, SR, OPERR);

    qemu_set_irq(s->irq, eop || err);
}

/*
 * RM0090 3.5.1: KEY1 then KEY2 unlocks; any other value, or a write while
 * unlocked, locks the register until the next reset.
 */
static bool stm32f4xx_flash_key(uint32_t value, uint32_t key1, uint32_t key2,
                                uint8_t *state, bool *blocked, bool locked,
                                const char *reg)
{
    if (*blocked) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %s locked until reset after a "
                      "wrong key\n", __func__, reg);
        return false;
    }
    if (!locked || (*state == 0 && value != key1) ||
        (*state == 1 && value != key2)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: wrong %s sequence (0x%08x); "
                      "locked until reset\n", __func__, reg, value);
        *blocked = true;
        *state = 0;
        return false;
    }
    if (*state == 0) {
        *state = 1;
        return false;
    }
    *state = 0;
    return true;
}

/*
 * RM0090 3.9: ACR, SR, CR and OPTCR take word, half-word and byte accesses
 * (the HAL writes the latency with a byte write to ACR, option bytes with
 * byte writes to OPTCR); KEYR and OPTKEYR take words only.
 */
static unsigned stm32f4xx_flash_min_size(hwaddr offset)
{
    return offset == A_KEYR || offset == A_OPTKEYR ? STM32F4XX_REG_WORD
                                                   : STM32F4XX_REG_BYTE;
}

static uint64_t stm32f4xx_flash_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxFlashState *s = opaque;
    uint32_t value = 0;

    if (!stm32f4xx_reg_width_ok(__func__, addr, size,
                                stm32f4xx_flash_min_size(addr & ~3), false)) {
        return 0;
    }
    switch (addr & ~3) {
    case A_ACR:
        value = s->acr;
        break;
    case A_KEYR:
    case A_OPTKEYR:
        /* Write-only */
        break;
    case A_SR:
        value = s->sr;
        break;
    case A_CR:
        value = s->cr;
        break;
    case A_OPTCR:
        value = s->optcr;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    value = stm32f4xx_reg_extract(value, addr, size);
    trace_stm32f4xx_flash_read(addr, value);
    return value;
}

static void stm32f4xx_flash_write(void *opaque, hwaddr addr, uint64_t val64,
                                  unsigned size)
{
    STM32F4xxFlashState *s = opaque;
    STM32F4xxRegAccess a = stm32f4xx_reg_access(addr, val64, size);
    uint32_t value;

    trace_stm32f4xx_flash_write(addr, val64);
    if (!stm32f4xx_reg_width_ok(__func__, addr, size,
                                stm32f4xx_flash_min_size(a.offset), true)) {
        return;
    }
    /* Storage bits keep the bytes not written; action bits come from a.data */
    switch (a.offset) {
    case A_ACR:
        /* Cache reset bits only act while the cache is disabled */
        value = stm32f4xx_reg_merge(s->acr, &a);
        s->acr = value & ACR_WMASK & ~(R_ACR_ICRST_MASK | R_ACR_DCRST_MASK);
        break;
    case A_KEYR:
        if (stm32f4xx_flash_key(a.data, KEY1, KEY2, &s->key_state,
                                &s->key_blocked, FIELD_EX32(s->cr, CR, LOCK),
                                "KEYR")) {
            s->cr = FIELD_DP32(s->cr, CR, LOCK, 0);
        }
        break;
    case A_OPTKEYR:
        if (stm32f4xx_flash_key(a.data, OPTKEY1, OPTKEY2, &s->optkey_state,
                                &s->optkey_blocked,
                                FIELD_EX32(s->optcr, OPTCR, OPTLOCK),
                                "OPTKEYR")) {
            s->optcr = FIELD_DP32(s->optcr, OPTCR, OPTLOCK, 0);
        }
        break;
    case A_SR:
        s->sr &= ~(a.data & SR_W1C);
        break;
    case A_CR:
        if (FIELD_EX32(s->cr, CR, LOCK)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: CR written while locked; "
                          "ignored\n", __func__);
            break;
        }
        value = stm32f4xx_reg_merge(s->cr, &a);
        s->cr = (s->cr & ~CR_WMASK) | (value & CR_WMASK);
        if (FIELD_EX32(a.data, CR, LOCK)) {
            s->cr = FIELD_DP32(s->cr, CR, LOCK, 1);
        }
        if (FIELD_EX32(a.data, CR, STRT)) {
            qemu_log_mask(LOG_UNIMP, "%s: flash erase is not modelled\n",
                          __func__);
            s->cr = FIELD_DP32(s->cr, CR, STRT, 0);
            s->sr = FIELD_DP32(s->sr, SR, EOP, 1);
        }
        break;
    case A_OPTCR:
        if (FIELD_EX32(s->optcr, OPTCR, OPTLOCK)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: OPTCR written while locked; "
                          "ignored\n", __func__);
            break;
        }
        value = stm32f4xx_reg_merge(s->optcr, &a);
        s->optcr = (s->optcr & ~OPTCR_WMASK) | (value & OPTCR_WMASK) |
                   (a.data & R_OPTCR_OPTLOCK_MASK);
        if (FIELD_EX32(a.data, OPTCR, OPTSTRT)) {
            qemu_log_mask(LOG_UNIMP, "%s: option byte programming is not "
                          "modelled\n", __func__);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    stm32f4xx_flash_update_irq(s);
}

static const MemoryRegionOps stm32f4xx_flash_ops = {
    .read = stm32f4xx_flash_read,
    .write = stm32f4xx_flash_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_flash_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxFlashState *s = STM32F4XX_FLASH(obj);

    s->acr = 0;
    s->sr = 0;
    s->cr = R_CR_LOCK_MASK;
    s->optcr = 0x0FFFAAED;
    s->key_state = 0;
    s->optkey_state = 0;
    s->key_blocked = false;
    s->optkey_blocked = false;
}

static void stm32f4xx_flash_reset_exit(Object *obj, ResetType type)
{
    stm32f4xx_flash_update_irq(STM32F4XX_FLASH(obj));
}

static void stm32f4xx_flash_init(Object *obj)
{
    STM32F4xxFlashState *s = STM32F4XX_FLASH(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_flash_ops, s,
                          TYPE_STM32F4XX_FLASH, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
}

static const VMStateDescription vmstate_stm32f4xx_flash = {
    .name = TYPE_STM32F4XX_FLASH,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(acr, STM32F4xxFlashState),
        VMSTATE_UINT32(sr, STM32F4xxFlashState),
        VMSTATE_UINT32(cr, STM32F4xxFlashState),
        VMSTATE_UINT32(optcr, STM32F4xxFlashState),
        VMSTATE_UINT8(key_state, STM32F4xxFlashState),
        VMSTATE_UINT8(optkey_state, STM32F4xxFlashState),
        VMSTATE_BOOL(key_blocked, STM32F4xxFlashState),
        VMSTATE_BOOL(optkey_blocked, STM32F4xxFlashState),
        VMSTATE_END_OF_LIST()
    },
};

static void stm32f4xx_flash_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_flash_reset_hold;
    rc->phases.exit = stm32f4xx_flash_reset_exit;
    dc->vmsd = &vmstate_stm32f4xx_flash;
}

static const TypeInfo stm32f4xx_flash_info = {
    .name          = TYPE_STM32F4XX_FLASH,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(STM32F4xxFlashState),
    .instance_init = stm32f4xx_flash_init,
    .class_init    = stm32f4xx_flash_class_init,
};

static void stm32f4xx_flash_register_types(void)
{
    type_register_static(&stm32f4xx_flash_info);
}

type_init(stm32f4xx_flash_register_types)
