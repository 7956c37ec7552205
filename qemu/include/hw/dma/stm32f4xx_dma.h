/*
 * STM32F4xx DMA controller (DMA1, DMA2), RM0090 section 10
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_DMA_STM32F4XX_DMA_H
#define HW_DMA_STM32F4XX_DMA_H

#include "hw/sysbus.h"
#include "qemu/timer.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_DMA "stm32f4xx-dma"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxDmaState, STM32F4XX_DMA)

#define STM32F4XX_DMA_STREAMS       8
#define STM32F4XX_DMA_CHANNELS      8
/* Request inputs ("dma-req") and end-of-transfer outputs ("dma-eot") */
#define STM32F4XX_DMA_REQUESTS \
    (STM32F4XX_DMA_STREAMS * STM32F4XX_DMA_CHANNELS)
#define STM32F4XX_DMA_FIFO_BYTES    16
/* Most items a device takes in one burst */
#define STM32F4XX_DMA_BURST_WORDS   256

/* Index of the request line of a stream's channel */
#define STM32F4XX_DMA_REQ(stream, channel) \
    ((stream) * STM32F4XX_DMA_CHANNELS + (channel))

typedef struct STM32F4xxDmaStream {
    /* Registers as programmed (FS in SxFCR is computed) */
    uint32_t cr;
    uint32_t ndtr;
    uint32_t par;
    uint32_t m0ar;
    uint32_t m1ar;
    uint32_t fcr;
    /* FEIF, DMEIF, TEIF, HTIF, TCIF in the bit positions of stream 0 */
    uint32_t flags;

    /* The transfer in progress (one cycle: NDTR items) */
    uint32_t ndtr_reload;       /* NDTR at enable, reloaded in circular mode */
    uint32_t pidx;              /* peripheral-port items done in this cycle */
    uint32_t moff;              /* memory-port bytes done in this cycle */
    uint32_t mfetch;            /* memory-to-peripheral: bytes left to fetch */
    uint32_t fifo_level;        /* bytes in the FIFO */
    uint8_t fifo[STM32F4XX_DMA_FIFO_BYTES];
    bool ht_done;               /* HTIF already set in this cycle */

    /* Host cache, not migrated: the burst device at PAR as last looked up */
    uint64_t burst_map_gen;     /* valid for this memory map (0: never) */
    uint32_t burst_addr;
    bool burst_write;
    bool burst_mem_port;        /* the device is on the memory port */
    struct STM32F4xxDmaBurst *burst_dev;
    struct STM32F4xxDmaBurstClass *burst_class;
    hwaddr burst_offset;
    uint32_t burst_len;         /* items to offer next: twice what was taken */
} STM32F4xxDmaStream;

/* RAM a port reaches directly, as last found (host cache) */
typedef struct STM32F4xxDmaRamCache {
    uint64_t map_gen;           /* valid for this memory map (0: never) */
    uint32_t addr;              /* guest address of host */
    uint32_t len;               /* bytes of RAM from addr */
    uint8_t *host;
} STM32F4xxDmaRamCache;

struct STM32F4xxDmaState {
    SysBusDevice parent_obj;

    MemoryRegion mmio;
    qemu_irq irq[STM32F4XX_DMA_STREAMS];
    qemu_irq eot[STM32F4XX_DMA_REQUESTS];
    QEMUTimer *timer;

    /* What each AHB master port reaches: the SoC decides (link properties) */
    MemoryRegion *mem_port;
    MemoryRegion *periph_port;
    AddressSpace mem_as;
    AddressSpace periph_as;

    STM32F4xxDmaStream stream[STM32F4XX_DMA_STREAMS];
    uint64_t requests;          /* levels of the request inputs */
    bool in_service;            /* the transfer loop is running */
    /* Bursts (host side only, not migrated; see the .c) */
    int burst_stream;           /* a device takes a burst of it (-1: none) */
    bool burst_stop;            /* set when that burst must end */
    MemoryListener map_listener;
    uint64_t map_gen;           /* counts memory map changes, from 1 */
    STM32F4xxDmaRamCache ram_cache[2][2];   /* [periph port][for writing] */
    ObjectClass *burst_owner_class;     /* the last class looked at */
    struct STM32F4xxDmaBurstClass *burst_class;  /* its burst interface */
    uint32_t burst_words[STM32F4XX_DMA_BURST_WORDS +
                         STM32F4XX_DMA_FIFO_BYTES / 4];
    uint8_t burst_bytes[STM32F4XX_DMA_FIFO_BYTES +
                        4 * STM32F4XX_DMA_BURST_WORDS];
    uint64_t items;             /* items moved (QOM "items", read-only) */
    uint64_t burst_items;       /* of them in bursts (QOM "burst-items") */

    /* 1: DMA1, 2: DMA2 (memory-to-memory capable) */
    uint8_t controller;
    /* hand runs of items to devices that take bursts (host speed only) */
    bool burst;
};

#endif
