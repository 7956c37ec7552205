/*
 * STM32F4xx cryptographic processor (CRYP), RM0090 section 23
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_CRYP_H
#define HW_MISC_STM32F4XX_CRYP_H

#include "hw/sysbus.h"
#include "qemu/timer.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_CRYP "stm32f4xx-cryp"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxCrypState, STM32F4XX_CRYP)

#define STM32F4XX_CRYP_FIFO_WORDS 8

struct STM32F4xxCrypState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq;
    qemu_irq dma_in;            /* CRYP_IN DMA request ("dma-in") */
    qemu_irq dma_out;           /* CRYP_OUT DMA request ("dma-out") */

    uint32_t cr;
    uint32_t dmacr;
    uint32_t imscr;
    uint32_t key[8];            /* K0LR, K0RR, ... K3RR (big-endian words) */
    uint32_t iv[4];             /* IV0LR, IV0RR, IV1LR, IV1RR */
    uint32_t csgcmccm[8];       /* v2 context: MAC/GHASH state, counter */
    uint32_t csgcm[8];          /* v2 context: hash subkey H, J0 */
    uint32_t dec_key[8];        /* AES key prepared for decryption */
    uint32_t in_fifo[STM32F4XX_CRYP_FIFO_WORDS];
    uint32_t in_count;
    uint32_t out_fifo[STM32F4XX_CRYP_FIFO_WORDS];
    uint32_t out_count;
    uint64_t blocks;            /* blocks processed (QOM "blocks", read-only) */
    /* timed runs only (-icount, qtest): the core's work in progress */
    QEMUTimer *busy_timer;
    bool busy;                  /* SR.BUSY */
    bool busy_disables;         /* CRYPEN clears when it ends (init, key) */
    uint32_t busy_out[4];       /* the running block's result ... */
    uint32_t busy_out_words;    /* ... its words for the OUT FIFO (0: none) */
    /* expanded keys (host-side only) */
    struct STM32F4xxCrypKeyCache *key_cache;
    /* levels last driven on irq, dma_in, dma_out (-1: not yet; not migrated) */
    int8_t line_level[3];

    /* 1: STM32F415/417 block; 2: STM32F437/439 block */
    uint8_t version;
};

#endif
