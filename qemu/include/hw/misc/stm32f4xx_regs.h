/*
 * STM32F4xx register access widths, shared by every model of the lab
 *
 * RM0090 gives each block, and sometimes each register, the bus accesses it
 * takes: RCC, GPIO and the flash interface take byte, half-word and word
 * accesses ("Access: word, half-word and byte access"), PWR half-words and
 * words, while CRYP, HASH, RNG, Ethernet and DBGMCU are word-only, as are
 * GPIOx_LCKR and FLASH_KEYR/OPTKEYR.
 *
 * A model declares STM32F4XX_REG_ACCESS_SIZES in its MemoryRegionOps, so its
 * handlers see the access as the CPU made it (address and size), and then:
 *
 *  - checks the width with stm32f4xx_reg_width_ok(): a narrower access than
 *    the register takes is a guest error; a write is ignored, a read
 *    returns 0 and has no side effect;
 *  - on a read, computes the 32-bit register and returns the addressed bytes
 *    with stm32f4xx_reg_extract();
 *  - on a write, describes the access with stm32f4xx_reg_access(): the
 *    written bytes in their byte lanes (zero elsewhere) and the lanes
 *    covered. A storage register takes stm32f4xx_reg_merge() of its own
 *    stored value (the other bytes keep their contents); a register whose
 *    write is an action (write-1-to-clear flags, GPIOx_BSRR set/reset,
 *    start bits) uses .data alone, so lanes not written do nothing.
 *
 * Unaligned accesses (a half-word at an odd address, a word not on a word
 * boundary) are refused by the memory core (.valid.unaligned is false) and
 * end as a bus error, as on the Cortex-M4.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_REGS_H
#define HW_MISC_STM32F4XX_REGS_H

#include "qemu/bitops.h"
#include "qemu/log.h"
#include "exec/hwaddr.h"

/* MemoryRegionOps fields: little-endian, the handler sees 1, 2 or 4 bytes */
#define STM32F4XX_REG_ACCESS_SIZES \
    .endianness = DEVICE_LITTLE_ENDIAN, \
    .valid.min_access_size = 1, \
    .valid.max_access_size = 4, \
    .impl.min_access_size = 1, \
    .impl.max_access_size = 4

/* The smallest access a register takes */
enum {
    STM32F4XX_REG_BYTE = 1,
    STM32F4XX_REG_HALFWORD = 2,
    STM32F4XX_REG_WORD = 4,
};

/* One bus write as seen by a 32-bit register */
typedef struct STM32F4xxRegAccess {
    hwaddr offset;      /* the register: addr rounded down to a word */
    uint32_t data;      /* the written bytes in their lanes, 0 elsewhere */
    uint32_t lanes;     /* 0xFF per byte lane the access covers */
} STM32F4xxRegAccess;

static inline STM32F4xxRegAccess stm32f4xx_reg_access(hwaddr addr,
                                                      uint64_t value,
                                                      unsigned size)
{
    unsigned shift = (addr & 3) * 8;
    STM32F4xxRegAccess a;

    a.offset = addr & ~(hwaddr)3;
    a.lanes = MAKE_64BIT_MASK(shift, size * 8);
    a.data = (value << shift) & a.lanes;
    return a;
}

/* A storage register after the write: its other bytes are kept */
static inline uint32_t stm32f4xx_reg_merge(uint32_t stored,
                                           const STM32F4xxRegAccess *a)
{
    return (stored & ~a->lanes) | a->data;
}

/* The bytes a read of size bytes at addr returns from the 32-bit register */
static inline uint64_t stm32f4xx_reg_extract(uint32_t reg, hwaddr addr,
                                             unsigned size)
{
    return extract64(reg, (addr & 3) * 8, size * 8);
}

/*
 * True if a register taking min_size-byte accesses accepts this one; else a
 * guest error is logged and the caller ignores the access (a read gives 0).
 */
static inline bool stm32f4xx_reg_width_ok(const char *block, hwaddr addr,
                                          unsigned size, unsigned min_size,
                                          bool is_write)
{
    if (size >= min_size) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR,
                  "%s: %u-byte %s at offset 0x%" HWADDR_PRIx ": the register "
                  "takes %s accesses only; %s\n", block, size,
                  is_write ? "write" : "read", addr,
                  min_size == STM32F4XX_REG_WORD ? "word" : "half-word and word",
                  is_write ? "ignored" : "reads 0");
    return false;
}

#endif
