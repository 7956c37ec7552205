/*
 * STM32F4xx hash processor (HASH), RM0090 section 25
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_HASH_H
#define HW_MISC_STM32F4XX_HASH_H

#include "hw/sysbus.h"
#include "qemu/timer.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_HASH "stm32f4xx-hash"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxHashState, STM32F4XX_HASH)

#define STM32F4XX_HASH_BLOCK_WORDS  16
#define STM32F4XX_HASH_DIGEST_WORDS 8

struct STM32F4xxHashState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;
    qemu_irq dma_in;            /* HASH_IN DMA request ("dma-in") */
    QEMUTimer *busy_timer;

    /* Registers (CR holds the writable bits; NBW and DINNE are computed) */
    uint32_t cr;
    uint32_t str;
    uint32_t imr;
    uint32_t sr;
    uint32_t hr[STM32F4XX_HASH_DIGEST_WORDS];

    /* Processor core; all of it is visible through HASH_CSRx */
    uint32_t h[STM32F4XX_HASH_DIGEST_WORDS];    /* chaining value */
    uint32_t block[STM32F4XX_HASH_BLOCK_WORDS]; /* words after DATATYPE swap */
    uint32_t nwords;            /* words of the current block, 0..16 */
    uint64_t nbits;             /* bits compressed in the current pass */
    uint32_t phase;             /* STM32F4XX_HASH_PHASE_* in the .c file */
    uint32_t algo;              /* latched from CR.ALGO at INIT */
    bool hmac;                  /* latched from CR.MODE at INIT */
    bool lkey;                  /* latched from CR.LKEY at INIT */
    uint32_t inner[STM32F4XX_HASH_DIGEST_WORDS]; /* HMAC inner digest */

    /* Digest computed at DCAL, shown in HR when BUSY ends */
    uint32_t result[STM32F4XX_HASH_DIGEST_WORDS];
    bool final_busy;            /* BUSY belongs to the final digest */
    bool digest_ready;          /* HR holds the digest of this message */
    uint64_t blocks;            /* blocks compressed (QOM "blocks", read-only) */
    bool dma_active;            /* DMA interface on until the last word or INIT */

    /* 1: STM32F415/417 block; 2: STM32F437/439 block */
    uint8_t version;
};

#endif
