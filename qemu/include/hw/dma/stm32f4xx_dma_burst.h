/*
 * STM32F4xx DMA burst interface: a peripheral register that takes or gives
 * a run of 32-bit DMA items in one call
 *
 * The STM32F4xx DMA moves one item per request; a peripheral whose data
 * register implements this interface lets the DMA hand over a run of words
 * instead (host speed only: nothing the guest sees changes). The DMA reads
 * the memory side in one go and calls
 *
 *   burst_write(obj, offset, words, n, stop): the same as n 32-bit writes of
 *       words[0..n-1] to the register at offset, one after the other;
 *   burst_read(obj, offset, words, n, stop): the same as n 32-bit reads,
 *       filling words[0..n-1];
 *
 * where offset is the register's offset in the peripheral's MMIO region.
 * Before each word the peripheral looks at *stop: the DMA sets it (from its
 * request inputs, while the peripheral runs) when, item by item, it would
 * not move another item of this stream now (the stream's request went low,
 * or another stream would win the arbitration). Both return how many words
 * were moved; a peripheral returns 0 for a register it does not offer, and
 * the DMA then moves the items one by one through the bus. The peripheral
 * must not access guest memory in these calls, so that the DMA's one read
 * (or write) of the memory side stays exact.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_DMA_STM32F4XX_DMA_BURST_H
#define HW_DMA_STM32F4XX_DMA_BURST_H

#include "exec/hwaddr.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_DMA_BURST "stm32f4xx-dma-burst"

typedef struct STM32F4xxDmaBurstClass STM32F4xxDmaBurstClass;
DECLARE_CLASS_CHECKERS(STM32F4xxDmaBurstClass, STM32F4XX_DMA_BURST,
                       TYPE_STM32F4XX_DMA_BURST)
#define STM32F4XX_DMA_BURST(obj) \
    INTERFACE_CHECK(STM32F4xxDmaBurst, (obj), TYPE_STM32F4XX_DMA_BURST)

typedef struct STM32F4xxDmaBurst STM32F4xxDmaBurst;

struct STM32F4xxDmaBurstClass {
    InterfaceClass parent;

    size_t (*burst_write)(STM32F4xxDmaBurst *obj, hwaddr offset,
                          const uint32_t *words, size_t n, const bool *stop);
    size_t (*burst_read)(STM32F4xxDmaBurst *obj, hwaddr offset,
                         uint32_t *words, size_t n, const bool *stop);
};

#endif
