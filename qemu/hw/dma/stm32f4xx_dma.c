/*
 * STM32F4xx DMA controller (DMA1, DMA2)
 *
 * Reference: RM0090 rev 19, section 10 "DMA controller (DMA)".
 *
 * Eight streams, each with a 16-byte FIFO, selecting one of eight request
 * channels with SxCR.CHSEL. The request inputs are QEMU GPIO lines
 * ("dma-req", line stream * 8 + channel, wired by the SoC per RM0090 tables
 * 42 and 43): a stream moves data while it is enabled, its NDTR is not zero
 * and the request of its selected channel is high, as long as the request
 * stays high. Memory-to-memory streams (DMA2 only) need no request.
 *
 * Timing: a transfer runs in one go, without bus timing. A request that
 * rises while no transfer runs is served from a virtual-clock timer at the
 * current time (so a peripheral that raises its request inside its own
 * register access is not re-entered, and icount runs replay); enabling a
 * stream serves it within the SxCR write. One run moves at most
 * DMA_RUN_BUDGET items (a circular stream on an always-ready peripheral
 * would never end), then continues DMA_RESUME_NS later. Between two streams
 * the arbiter picks the ready stream of highest PL, then lowest number, for
 * every item. A device that offers the stm32f4xx-dma-burst interface takes a
 * run of 32-bit items in one call (see dma_burst_to_periph): faster for the
 * host, the same for the guest.
 *
 * Data path (10.3.11-10.3.13): peripheral-to-memory and memory-to-memory
 * items (PSIZE) are read through the peripheral port into the FIFO, which
 * is emptied to memory in MSIZE units once it holds the FTH threshold (in
 * direct mode at once, MSIZE being forced to PSIZE); at the end of the
 * cycle, or when software clears EN, the rest is flushed (a partial MSIZE
 * item is padded with zeros: the "undesired value" of 10.3.12).
 * Memory-to-peripheral streams prefetch MSIZE items from memory until the
 * FIFO is full (direct mode: one item) and write one PSIZE item to the
 * peripheral per request. Packing and unpacking are little-endian. NDTR
 * counts peripheral-side items. PINC/MINC, PINCOS, address alignment to the
 * data size, CIRC, DBM with CT (memory target switched at each cycle end,
 * M0AR/M1AR of the idle target writable while enabled) are modelled. At the
 * end of a non-circular cycle EN reads 0. The last item of a cycle pulses
 * the "dma-eot" output of the stream's channel (the DMA's "last data"
 * information, used by the HASH to start its final digest).
 *
 * Flags and interrupts (10.3.18, 10.5): TCIF at the end of each cycle and
 * when software stops a stream before NDTR reaches 0; HTIF when half of the
 * cycle's items are done; TEIF on a bus error (the stream is disabled, EN
 * reads 0), on a write to the current memory target's address register in
 * double-buffer mode, and for a reserved DIR or a memory-to-memory stream on
 * DMA1; FEIF (stream disabled) when FIFO mode is enabled with a memory burst
 * that does not divide the FIFO threshold (table 48). One interrupt line per
 * stream: (TCIF & TCIE) | (HTIF & HTIE) | (TEIF & TEIE) | (DMEIF & DMEIE) |
 * (FEIF & FEIE). FIFO overrun/underrun and the direct mode error need a bus
 * that is not granted in time, which never happens here: FEIF and DMEIF are
 * not set for them.
 *
 * Registers are word access only (10.2: "AHB slave programming interface
 * supporting only 32-bit accesses"): narrower accesses are guest errors,
 * ignored (reads 0). Writes to locked fields while EN=1 (everything but EN
 * and the interrupt enables in SxCR, NDTR, PAR, M0AR/M1AR outside
 * double-buffer mode, FTH and DMDIS) are ignored with a guest error.
 *
 * Forced by hardware when EN is set: MSIZE=PSIZE and burst single in direct
 * mode, PINCOS=0 in direct mode or with peripheral bursts, CIRC=1 with DBM,
 * CIRC=0 with PFCTRL, DMDIS=1 and PFCTRL=0 for memory-to-memory. No
 * modelled peripheral is a flow controller (only SDIO is on the STM32F4):
 * with PFCTRL the stream counts NDTR as with DMA flow control (LOG_UNIMP).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/dma/stm32f4xx_dma.h"
#include "hw/dma/stm32f4xx_dma_burst.h"
#include "trace.h"

REG32(LISR, 0x00)
REG32(HISR, 0x04)
REG32(LIFCR, 0x08)
REG32(HIFCR, 0x0C)
/* Stream x registers are at 0x10 + 0x18 * x; offsets below are for x = 0 */
REG32(SCR, 0x10)
    FIELD(SCR, EN, 0, 1)
    FIELD(SCR, DMEIE, 1, 1)
    FIELD(SCR, TEIE, 2, 1)
    FIELD(SCR, HTIE, 3, 1)
    FIELD(SCR, TCIE, 4, 1)
    FIELD(SCR, PFCTRL, 5, 1)
    FIELD(SCR, DIR, 6, 2)
    FIELD(SCR, CIRC, 8, 1)
    FIELD(SCR, PINC, 9, 1)
    FIELD(SCR, MINC, 10, 1)
    FIELD(SCR, PSIZE, 11, 2)
    FIELD(SCR, MSIZE, 13, 2)
    FIELD(SCR, PINCOS, 15, 1)
    FIELD(SCR, PL, 16, 2)
    FIELD(SCR, DBM, 18, 1)
    FIELD(SCR, CT, 19, 1)
    FIELD(SCR, PBURST, 21, 2)
    FIELD(SCR, MBURST, 23, 2)
    FIELD(SCR, CHSEL, 25, 3)
REG32(SNDTR, 0x14)
    FIELD(SNDTR, NDT, 0, 16)
REG32(SPAR, 0x18)
REG32(SM0AR, 0x1C)
REG32(SM1AR, 0x20)
REG32(SFCR, 0x24)
    FIELD(SFCR, FTH, 0, 2)
    FIELD(SFCR, DMDIS, 2, 1)
    FIELD(SFCR, FS, 3, 3)
    FIELD(SFCR, FEIE, 7, 1)

#define STREAM_BASE         0x10
#define STREAM_STRIDE       0x18
#define REGS_END            (STREAM_BASE + \
                             STREAM_STRIDE * STM32F4XX_DMA_STREAMS)

#define SCR_RESERVED        ((1u << 20) | 0xF0000000u)
/* The only SxCR bits software may change while EN=1 */
#define SCR_UNLOCKED        (R_SCR_EN_MASK | R_SCR_DMEIE_MASK | \
                             R_SCR_TEIE_MASK | R_SCR_HTIE_MASK | \
                             R_SCR_TCIE_MASK)
#define SFCR_WRITABLE       (R_SFCR_FTH_MASK | R_SFCR_DMDIS_MASK | \
                             R_SFCR_FEIE_MASK)

/* Flags of one stream, in the LISR positions of stream 0 (bit 1 reserved) */
#define FLAG_FE             (1u << 0)
#define FLAG_DME            (1u << 2)
#define FLAG_TE             (1u << 3)
#define FLAG_HT             (1u << 4)
#define FLAG_TC             (1u << 5)
#define FLAGS_ALL           (FLAG_FE | FLAG_DME | FLAG_TE | FLAG_HT | FLAG_TC)
/* What xIFCR accepts without complaint: HAL writes 0x3F << shift */
#define IFCR_ACCEPTED       0x0FFF0FFFu

enum {
    DIR_P2M = 0,
    DIR_M2P = 1,
    DIR_M2M = 2,
};

/* Items moved per run before the CPU gets a turn, and the pause after */
#define DMA_RUN_BUDGET      (1u << 18)
#define DMA_RESUME_NS       100000

static const uint8_t flag_shift[4] = { 0, 6, 16, 22 };

static const char *const dir_name[4] = {
    "peripheral-to-memory", "memory-to-peripheral", "memory-to-memory",
    "reserved",
};

static unsigned dma_size(unsigned field)
{
    return field >= 2 ? 4 : 1u << field;    /* 11 is reserved (logged) */
}

static unsigned dma_psize(const STM32F4xxDmaStream *st)
{
    return dma_size(FIELD_EX32(st->cr, SCR, PSIZE));
}

static unsigned dma_msize(const STM32F4xxDmaStream *st)
{
    return dma_size(FIELD_EX32(st->cr, SCR, MSIZE));
}

static unsigned dma_dir(const STM32F4xxDmaStream *st)
{
    return FIELD_EX32(st->cr, SCR, DIR);
}

static bool dma_direct(const STM32F4xxDmaStream *st)
{
    return !FIELD_EX32(st->fcr, SFCR, DMDIS);
}

static bool dma_enabled(const STM32F4xxDmaStream *st)
{
    return FIELD_EX32(st->cr, SCR, EN);
}

/* FIFO threshold in bytes: 1/4, 1/2, 3/4 or all of the 16 bytes */
static unsigned dma_threshold(const STM32F4xxDmaStream *st)
{
    return (FIELD_EX32(st->fcr, SFCR, FTH) + 1) * 4;
}

static unsigned dma_burst_beats(unsigned field)
{
    return field ? 2u << field : 1;         /* single, INCR4, INCR8, INCR16 */
}

/* RM0090 table 48: memory bursts must fill the threshold exactly */
static bool dma_fifo_burst_ok(const STM32F4xxDmaStream *st)
{
    unsigned burst = dma_burst_beats(FIELD_EX32(st->cr, SCR, MBURST)) *
                     dma_msize(st);

    return dma_threshold(st) % burst == 0;
}

/* FS: FIFO level in quarters, 100 empty, 101 full */
static unsigned dma_fifo_status(const STM32F4xxDmaStream *st)
{
    if (st->fifo_level == 0) {
        return 4;
    }
    if (st->fifo_level >= STM32F4XX_DMA_FIFO_BYTES) {
        return 5;
    }
    return st->fifo_level / 4;
}

static uint32_t dma_periph_addr(const STM32F4xxDmaStream *st)
{
    unsigned psize = dma_psize(st);
    uint32_t addr = st->par & ~(psize - 1);

    if (FIELD_EX32(st->cr, SCR, PINC)) {
        addr += st->pidx * (FIELD_EX32(st->cr, SCR, PINCOS) ? 4 : psize);
    }
    return addr;
}

static uint32_t dma_mem_addr(const STM32F4xxDmaStream *st)
{
    uint32_t base = FIELD_EX32(st->cr, SCR, DBM) &&
                    FIELD_EX32(st->cr, SCR, CT) ? st->m1ar : st->m0ar;

    base &= ~(dma_msize(st) - 1);
    return FIELD_EX32(st->cr, SCR, MINC) ? base + st->moff : base;
}

static void dma_fifo_push(STM32F4xxDmaStream *st, uint32_t value, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        st->fifo[st->fifo_level++] = value >> (8 * i);
    }
}

/* Pop n bytes little-endian; missing bytes of a partial item read 0 */
static uint32_t dma_fifo_pop(STM32F4xxDmaStream *st, unsigned n)
{
    unsigned take = MIN(n, st->fifo_level);
    uint32_t value = 0;

    for (unsigned i = 0; i < take; i++) {
        value |= (uint32_t)st->fifo[i] << (8 * i);
    }
    st->fifo_level -= take;
    memmove(st->fifo, &st->fifo[take], st->fifo_level);
    return value;
}

static void dma_update_irq(STM32F4xxDmaState *s)
{
    for (int n = 0; n < STM32F4XX_DMA_STREAMS; n++) {
        STM32F4xxDmaStream *st = &s->stream[n];
        uint32_t pending = 0;

        if (FIELD_EX32(st->cr, SCR, TCIE)) {
            pending |= st->flags & FLAG_TC;
        }
        if (FIELD_EX32(st->cr, SCR, HTIE)) {
            pending |= st->flags & FLAG_HT;
        }
        if (FIELD_EX32(st->cr, SCR, TEIE)) {
            pending |= st->flags & FLAG_TE;
        }
        if (FIELD_EX32(st->cr, SCR, DMEIE)) {
            pending |= st->flags & FLAG_DME;
        }
        if (FIELD_EX32(st->fcr, SFCR, FEIE)) {
            pending |= st->flags & FLAG_FE;
        }
        qemu_set_irq(s->irq[n], pending != 0);
    }
}

/* Stop a stream with TEIF: a bus error or a forbidden configuration */
static bool dma_transfer_error(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];

    st->flags |= FLAG_TE;
    st->cr = FIELD_DP32(st->cr, SCR, EN, 0);
    st->fifo_level = 0;
    trace_stm32f4xx_dma_error(s->controller, n, st->ndtr);
    return false;
}

static bool dma_bus_error(STM32F4xxDmaState *s, int n, const char *port,
                          bool write, uint32_t addr)
{
    qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d: bus error on the %s "
                  "port %s 0x%08" PRIx32 ", stream disabled (TEIF)\n",
                  __func__, s->controller, n, port,
                  write ? "writing" : "reading", addr);
    return dma_transfer_error(s, n);
}

static bool dma_read(AddressSpace *as, uint32_t addr, unsigned size,
                     uint32_t *value)
{
    uint8_t buf[4];

    if (address_space_read(as, addr, MEMTXATTRS_UNSPECIFIED, buf, size) !=
        MEMTX_OK) {
        return false;
    }
    *value = ldn_le_p(buf, size);
    return true;
}

static bool dma_write(AddressSpace *as, uint32_t addr, unsigned size,
                      uint32_t value)
{
    uint8_t buf[4];

    stn_le_p(buf, size, value);
    return address_space_write(as, addr, MEMTXATTRS_UNSPECIFIED, buf, size) ==
           MEMTX_OK;
}

/* Empty the FIFO to memory in MSIZE items; flush: also a partial last one */
static bool dma_fifo_drain(STM32F4xxDmaState *s, int n, bool flush)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    unsigned msize = dma_msize(st);

    while (st->fifo_level >= msize || (flush && st->fifo_level)) {
        uint32_t addr = dma_mem_addr(st);
        uint32_t value = dma_fifo_pop(st, msize);

        if (!dma_write(&s->mem_as, addr, msize, value)) {
            return dma_bus_error(s, n, "memory", true, addr);
        }
        st->moff += msize;
    }
    return true;
}

/* Memory-to-peripheral: prefetch from memory (direct mode: one item) */
static bool dma_fifo_fill(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    unsigned msize = dma_msize(st);
    unsigned limit = dma_direct(st) ? dma_psize(st) : STM32F4XX_DMA_FIFO_BYTES;

    while (st->mfetch && st->fifo_level + msize <= limit) {
        uint32_t addr = dma_mem_addr(st);
        uint32_t value;

        if (!dma_read(&s->mem_as, addr, msize, &value)) {
            return dma_bus_error(s, n, "memory", false, addr);
        }
        dma_fifo_push(st, value, msize);
        st->moff += msize;
        st->mfetch -= MIN(msize, st->mfetch);
    }
    return true;
}

static void dma_cycle_start(STM32F4xxDmaStream *st)
{
    st->ndtr = st->ndtr_reload;
    st->pidx = 0;
    st->moff = 0;
    st->mfetch = st->ndtr_reload * dma_psize(st);
    st->fifo_level = 0;
    st->ht_done = false;
}

/* count items reached the peripheral port (HTIF as item by item) */
static void dma_items_done(STM32F4xxDmaState *s, STM32F4xxDmaStream *st,
                           uint32_t count)
{
    st->pidx += count;
    st->ndtr -= count;
    s->items += count;
    if (!st->ht_done &&
        (uint64_t)(st->ndtr_reload - st->ndtr) * 2 >= st->ndtr_reload) {
        st->flags |= FLAG_HT;
        st->ht_done = true;
    }
}

static void dma_item_done(STM32F4xxDmaState *s, STM32F4xxDmaStream *st)
{
    dma_items_done(s, st, 1);
}

/* NDTR reached 0 and the data is at its destination */
static bool dma_cycle_end(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];

    st->flags |= FLAG_TC;
    trace_stm32f4xx_dma_complete(s->controller, n,
                                 FIELD_EX32(st->cr, SCR, CT));
    if (dma_dir(st) != DIR_M2M) {
        /* the peripheral learns that this was the last item */
        qemu_irq_pulse(s->eot[STM32F4XX_DMA_REQ(n, FIELD_EX32(st->cr, SCR,
                                                               CHSEL))]);
    }
    if (!dma_enabled(st)) {
        return false;       /* the peripheral reset the stream meanwhile */
    }
    if (!FIELD_EX32(st->cr, SCR, CIRC)) {
        st->cr = FIELD_DP32(st->cr, SCR, EN, 0);
        return true;
    }
    if (FIELD_EX32(st->cr, SCR, DBM)) {
        st->cr ^= R_SCR_CT_MASK;
    }
    dma_cycle_start(st);
    if (dma_dir(st) == DIR_M2P) {
        return dma_fifo_fill(s, n);
    }
    return true;
}

/* Peripheral-to-memory, memory-to-memory: an item from the peripheral port */
static bool dma_step_to_memory(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    unsigned psize = dma_psize(st);
    uint32_t addr = dma_periph_addr(st);
    uint32_t value;

    if (st->fifo_level + psize > STM32F4XX_DMA_FIFO_BYTES &&
        !dma_fifo_drain(s, n, false)) {
        return false;
    }
    if (!dma_read(&s->periph_as, addr, psize, &value)) {
        return dma_bus_error(s, n, "peripheral", false, addr);
    }
    dma_fifo_push(st, value, psize);
    dma_item_done(s, st);
    if (st->ndtr == 0) {
        return dma_fifo_drain(s, n, true) && dma_cycle_end(s, n);
    }
    if (dma_direct(st) || st->fifo_level >= dma_threshold(st)) {
        return dma_fifo_drain(s, n, false);
    }
    return true;
}

/* Memory-to-peripheral: one item from the FIFO to the peripheral */
static bool dma_step_to_periph(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    unsigned psize = dma_psize(st);
    uint32_t addr = dma_periph_addr(st);
    uint32_t value;

    if (!dma_fifo_fill(s, n)) {
        return false;
    }
    value = dma_fifo_pop(st, psize);
    if (!dma_write(&s->periph_as, addr, psize, value)) {
        return dma_bus_error(s, n, "peripheral", true, addr);
    }
    dma_item_done(s, st);
    if (st->ndtr == 0) {
        st->fifo_level = 0;     /* bytes beyond NDTR (table 49 restriction) */
        return dma_cycle_end(s, n);
    }
    return dma_fifo_fill(s, n);
}

static bool dma_stream_ready(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    unsigned line = STM32F4XX_DMA_REQ(n, FIELD_EX32(st->cr, SCR, CHSEL));

    if (!dma_enabled(st) || st->ndtr == 0) {
        return false;
    }
    return dma_dir(st) == DIR_M2M || (s->requests & (1ULL << line));
}

/* The arbiter: highest software priority, then lowest stream number */
static int dma_pick(STM32F4xxDmaState *s)
{
    int best = -1;
    unsigned best_pl = 0;

    for (int n = 0; n < STM32F4XX_DMA_STREAMS; n++) {
        unsigned pl = FIELD_EX32(s->stream[n].cr, SCR, PL);

        if (dma_stream_ready(s, n) && (best < 0 || pl > best_pl)) {
            best = n;
            best_pl = pl;
        }
    }
    return best;
}

/*
 * Bursts (host speed only). A stream with 32-bit peripheral items and 32-bit
 * memory items (peripheral-to-memory and memory-to-peripheral in FIFO mode:
 * also bytes or half-words, which the FIFO packs and unpacks in the same
 * little-endian order, so a run of words is the same bytes), a fixed
 * peripheral address and an incrementing memory address (memory-to-
 * memory: 32-bit on both ports, an incrementing source, a fixed
 * destination), whose device
 * register belongs to a device with the stm32f4xx-dma-burst interface
 * (include/hw/dma/stm32f4xx_dma_burst.h), hands that device a run of items
 * in one call, with one access to the memory side, instead of two bus
 * accesses per item. A burst is exactly a run of items the loop would move
 * one by one:
 *  - it ends before NDTR passes 0 and within the run budget;
 *  - it covers only items whose memory accesses, the FIFO's prefetches and
 *    drains included, all reach RAM, so a bus error still comes at its item;
 *  - while the device takes it, dma_request() stops it where the arbiter
 *    would leave the stream: its request fell, or a stream that wins the
 *    arbitration became ready (the CRYP's OUT request, raised by the block
 *    an IN burst completed, hands over to the OUT stream as item by item);
 *  - afterwards the FIFO, the addresses, NDTR, HTIF, TCIF and the
 *    end-of-transfer pulse are what the items one by one leave (HTIF shows
 *    no earlier: the interrupt lines are updated when the loop ends).
 * Any other stream, or a device without the interface, goes item by item.
 */
static bool dma_burst_config(const STM32F4xxDmaStream *st)
{
    /*
     * Item by item, a FIFO of packed memory items fills to the same 16 bytes
     * and drains whole at the threshold (a multiple of 4 bytes), as with words
     */
    return FIELD_EX32(st->cr, SCR, PSIZE) == 2 &&
           (FIELD_EX32(st->cr, SCR, MSIZE) == 2 || !dma_direct(st)) &&
           !FIELD_EX32(st->cr, SCR, PINC) && FIELD_EX32(st->cr, SCR, MINC) &&
           !FIELD_EX32(st->cr, SCR, PFCTRL) && st->fifo_level % 4 == 0;
}

/*
 * Items to offer in a burst: twice what the device took last time (it takes
 * a run up to where another stream takes over: a block or two of the CRYP,
 * a whole transfer of the HASH), so the words read but not taken stay few.
 */
#define DMA_BURST_MIN       8

static uint32_t dma_burst_want(STM32F4xxDmaStream *st, uint32_t budget)
{
    uint32_t len = MAX(st->burst_len, DMA_BURST_MIN);

    return MIN(MIN(st->ndtr, budget), MIN(len, STM32F4XX_DMA_BURST_WORDS));
}

static void dma_burst_taken(STM32F4xxDmaStream *st, uint32_t taken)
{
    st->burst_len = MIN(2 * taken, STM32F4XX_DMA_BURST_WORDS);
}

/*
 * The lookups below are cached until the memory map changes (any memory
 * transaction: map_gen); the BQL is held throughout, so nothing they found
 * goes away meanwhile.
 */
static void dma_map_changed(MemoryListener *listener)
{
    container_of(listener, STM32F4xxDmaState, map_listener)->map_gen++;
}

/*
 * How many of the len bytes at addr are RAM the port (memory, or peripheral
 * for a memory-to-memory source) reaches directly (for writing: writable
 * RAM), and where the host keeps them.
 */
static uint32_t dma_ram(STM32F4xxDmaState *s, bool periph, uint32_t addr,
                        uint32_t len, bool write, uint8_t **host)
{
    STM32F4xxDmaRamCache *c = &s->ram_cache[periph][write];

    if (len == 0) {
        return 0;
    }
    if (c->map_gen != s->map_gen || addr - c->addr >= c->len) {
        hwaddr xlat, plen = 0x100000000ULL - addr;
        MemoryRegion *mr;

        RCU_READ_LOCK_GUARD();
        mr = address_space_translate(periph ? &s->periph_as : &s->mem_as,
                                     addr, &xlat, &plen, write,
                                     MEMTXATTRS_UNSPECIFIED);
        if (!memory_access_is_direct(mr, write, MEMTXATTRS_UNSPECIFIED)) {
            return 0;
        }
        c->map_gen = s->map_gen;
        c->addr = addr;
        c->len = MIN(plen, UINT32_MAX);
        c->host = (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
    }
    *host = c->host + (addr - c->addr);
    return MIN(len, c->len - (addr - c->addr));
}

/*
 * The burst interface of the device whose register is at PAR (at M0AR for a
 * memory-to-memory destination: mem_port), if any.
 */
static STM32F4xxDmaBurstClass *dma_burst_device(STM32F4xxDmaState *s,
                                                STM32F4xxDmaStream *st,
                                                bool mem_port, bool write,
                                                STM32F4xxDmaBurst **dev,
                                                hwaddr *offset)
{
    uint32_t addr = mem_port ? dma_mem_addr(st) : dma_periph_addr(st);

    if (st->burst_map_gen != s->map_gen || st->burst_addr != addr ||
        st->burst_write != write || st->burst_mem_port != mem_port) {
        hwaddr len = 4;
        MemoryRegion *mr;
        Object *owner;

        RCU_READ_LOCK_GUARD();
        mr = address_space_translate(mem_port ? &s->mem_as : &s->periph_as,
                                     addr, &st->burst_offset, &len, write,
                                     MEMTXATTRS_UNSPECIFIED);
        owner = memory_region_is_ram(mr) ? NULL : memory_region_owner(mr);
        st->burst_dev = (STM32F4xxDmaBurst *)owner;
        st->burst_class = NULL;     /* also a block whose gate is closed */
        if (owner) {
            ObjectClass *oc = object_get_class(owner);

            /* whether a class has the interface never changes */
            if (oc != s->burst_owner_class) {
                s->burst_owner_class = oc;
                s->burst_class =
                    object_class_dynamic_cast(oc, TYPE_STM32F4XX_DMA_BURST) ?
                    STM32F4XX_DMA_BURST_CLASS(oc) : NULL;
            }
            st->burst_class = s->burst_class;
        }
        st->burst_map_gen = s->map_gen;
        st->burst_addr = addr;
        st->burst_write = write;
        st->burst_mem_port = mem_port;
    }
    *dev = st->burst_dev;
    *offset = st->burst_offset;
    return st->burst_class;
}

/* Memory-to-peripheral: the items moved, 0 if the burst does not apply */
static uint32_t dma_burst_to_periph(STM32F4xxDmaState *s, int n,
                                    uint32_t budget)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    /* the items, then the words the FIFO fetches after them */
    uint32_t *words = s->burst_words;
    /* item by item, the fill after item k has fetched up to word k + depth */
    uint32_t depth = dma_direct(st) ? 1 : STM32F4XX_DMA_FIFO_BYTES / 4;
    uint32_t want = dma_burst_want(st, budget);
    uint32_t queued, need, ram, k, taken, next;
    uint8_t *host;
    STM32F4xxDmaBurstClass *bc;
    STM32F4xxDmaBurst *dev;
    hwaddr offset;

    if (!s->burst || want < 2 || !dma_burst_config(st)) {
        return 0;
    }
    bc = dma_burst_device(s, st, false, true, &dev, &offset);
    if (!bc || !bc->burst_write) {
        return 0;
    }
    /* the FIFO's words come first, then memory from the fetch address */
    queued = MIN(st->fifo_level / 4, want);
    for (uint32_t i = 0; i < queued; i++) {
        words[i] = ldl_le_p(&st->fifo[4 * i]);
    }
    ram = dma_ram(s, false, dma_mem_addr(st),
                  MIN(want - queued + depth, st->mfetch / 4) * 4, false,
                  &host) / 4;
    for (uint32_t i = 0; i < ram; i++) {
        words[queued + i] = ldl_le_p(host + 4 * i);
    }
    /* every fetch of the items before the last one must be RAM */
    need = MIN(want - queued + depth - 1, st->mfetch / 4);
    k = want;
    if (ram < need) {
        k = ram + queued + 1 > depth ? MIN(want, ram + queued + 1 - depth) : 0;
    }
    if (k < 2) {
        return 0;
    }

    s->burst_stream = n;
    s->burst_stop = false;
    taken = MIN(bc->burst_write(dev, offset, words, k, &s->burst_stop), k);
    s->burst_stream = -1;
    dma_burst_taken(st, taken);
    trace_stm32f4xx_dma_burst(s->controller, n, true, k, taken);
    if (taken == 0) {
        return 0;
    }
    if (taken <= queued) {
        st->fifo_level -= taken * 4;
        memmove(st->fifo, &st->fifo[taken * 4], st->fifo_level);
        next = queued;
    } else {
        st->fifo_level = 0;
        st->moff += (taken - queued) * 4;
        st->mfetch -= (taken - queued) * 4;
        next = taken;
    }
    dma_items_done(s, st, taken);
    s->burst_items += taken;
    if (st->ndtr == 0) {
        st->fifo_level = 0;
        dma_cycle_end(s, n);
        return taken;
    }
    /* the FIFO's fetches after the last item: words read above, then the bus */
    while (st->mfetch && next < queued + ram &&
           st->fifo_level + 4 <= depth * 4) {
        stl_le_p(&st->fifo[st->fifo_level], words[next++]);
        st->fifo_level += 4;
        st->moff += 4;
        st->mfetch -= 4;
    }
    dma_fifo_fill(s, n);
    return taken;
}

/* Peripheral-to-memory: the items moved, 0 if the burst does not apply */
static uint32_t dma_burst_to_memory(STM32F4xxDmaState *s, int n,
                                    uint32_t budget)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    uint32_t *words = s->burst_words;
    uint8_t *buf = s->burst_bytes;
    /* item by item the FIFO goes to memory whenever it holds this much */
    uint32_t thr = dma_direct(st) ? 4 : dma_threshold(st);
    uint32_t held = st->fifo_level;
    uint32_t want = dma_burst_want(st, budget);
    uint32_t ram, k, taken, total, keep, addr;
    uint8_t *host;
    STM32F4xxDmaBurstClass *bc;
    STM32F4xxDmaBurst *dev;
    hwaddr offset;

    if (!s->burst || want < 2 || dma_dir(st) != DIR_P2M ||
        !dma_burst_config(st) || held >= thr) {
        return 0;
    }
    bc = dma_burst_device(s, st, false, false, &dev, &offset);
    if (!bc || !bc->burst_read) {
        return 0;
    }
    /* at most the FIFO and every item go to memory, all of it RAM */
    addr = dma_mem_addr(st);
    ram = dma_ram(s, false, addr, held + 4 * want, true, &host);
    k = ram >= held + 4 * want ? want : ram > held ? (ram - held) / 4 : 0;
    if (k < 2) {
        return 0;
    }

    s->burst_stream = n;
    s->burst_stop = false;
    taken = MIN(bc->burst_read(dev, offset, words, k, &s->burst_stop), k);
    s->burst_stream = -1;
    dma_burst_taken(st, taken);
    trace_stm32f4xx_dma_burst(s->controller, n, false, k, taken);
    if (taken == 0) {
        return 0;
    }
    memcpy(buf, st->fifo, held);
    for (uint32_t i = 0; i < taken; i++) {
        stl_le_p(&buf[held + 4 * i], words[i]);
    }
    total = held + 4 * taken;
    /* the last item of the cycle flushes the FIFO */
    keep = taken == st->ndtr ? 0 : total % thr;
    dma_items_done(s, st, taken);
    s->burst_items += taken;
    if (address_space_write(&s->mem_as, addr, MEMTXATTRS_UNSPECIFIED, buf,
                            total - keep) != MEMTX_OK) {
        dma_bus_error(s, n, "memory", true, addr);
        return taken;
    }
    st->moff += total - keep;
    memcpy(st->fifo, &buf[total - keep], keep);
    st->fifo_level = keep;
    if (st->ndtr == 0) {
        dma_cycle_end(s, n);
    }
    return taken;
}

/*
 * Memory-to-memory from RAM (PINC) into a device register (MINC=0), such as
 * HASH_DIN fed without its DMA request: the items moved, 0 if the burst
 * does not apply. Item by item, each item goes into the FIFO and the FIFO
 * goes to the register whenever it reaches the threshold (and at the end);
 * the device takes each such drain whole, since the arbiter only acts
 * between items.
 */
static uint32_t dma_burst_m2m(STM32F4xxDmaState *s, int n, uint32_t budget)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    uint32_t *words = s->burst_words;
    uint32_t thr = dma_threshold(st);
    uint32_t held = st->fifo_level / 4;
    uint32_t want = dma_burst_want(st, budget);
    uint32_t ram, level, sent = 0, done = 0;
    const bool never = false;
    bool refused = false;
    STM32F4xxDmaBurstClass *bc;
    STM32F4xxDmaBurst *dev;
    hwaddr offset;
    uint8_t *host;

    if (!s->burst || want < 2 || dma_dir(st) != DIR_M2M ||
        FIELD_EX32(st->cr, SCR, PSIZE) != 2 ||
        FIELD_EX32(st->cr, SCR, MSIZE) != 2 ||
        !FIELD_EX32(st->cr, SCR, PINC) || FIELD_EX32(st->cr, SCR, MINC) ||
        st->fifo_level % 4 || st->fifo_level >= thr) {
        return 0;
    }
    bc = dma_burst_device(s, st, true, true, &dev, &offset);
    if (!bc || !bc->burst_write) {
        return 0;
    }
    /* the items' reads of the source, all RAM */
    ram = dma_ram(s, true, dma_periph_addr(st), 4 * want, false, &host) / 4;
    if (ram < 2) {
        return 0;
    }
    for (uint32_t i = 0; i < held; i++) {
        words[i] = ldl_le_p(&st->fifo[4 * i]);
    }
    for (uint32_t i = 0; i < ram; i++) {
        words[held + i] = ldl_le_p(host + 4 * i);
    }

    s->burst_stream = n;
    s->burst_stop = false;
    level = held;
    while (done < ram && !s->burst_stop) {
        done++;
        level++;
        if (done == st->ndtr || 4 * level >= thr) {
            if (bc->burst_write(dev, offset, &words[sent], level, &never) == 0
                && sent == 0) {
                refused = true;         /* not a register it takes bursts to */
                break;
            }
            sent += level;
            level = 0;
        }
    }
    s->burst_stream = -1;
    trace_stm32f4xx_dma_burst(s->controller, n, true, ram,
                              refused ? 0 : done);
    if (refused) {
        return 0;
    }
    dma_burst_taken(st, done);
    for (uint32_t i = 0; i < level; i++) {     /* what stays in the FIFO */
        stl_le_p(&st->fifo[4 * i], words[sent + i]);
    }
    st->fifo_level = 4 * level;
    st->moff += 4 * sent;
    dma_items_done(s, st, done);
    s->burst_items += done;
    if (st->ndtr == 0) {
        dma_cycle_end(s, n);
    }
    return done;
}

/* A request changed during a burst: stop it where the arbiter would */
static void dma_burst_request(STM32F4xxDmaState *s, int n, int level)
{
    int b = s->burst_stream;
    unsigned pl = FIELD_EX32(s->stream[n].cr, SCR, PL);
    unsigned bpl = FIELD_EX32(s->stream[b].cr, SCR, PL);

    if (n == b) {
        /* a memory-to-memory stream does not wait for requests */
        s->burst_stop |= !level && dma_dir(&s->stream[b]) != DIR_M2M;
    } else if (level && dma_stream_ready(s, n) &&
               (pl > bpl || (pl == bpl && n < b))) {
        s->burst_stop = true;
    }
}

static void dma_run(STM32F4xxDmaState *s)
{
    uint32_t budget = DMA_RUN_BUDGET;
    int n;

    if (s->in_service) {
        return;     /* the running loop sees every request change */
    }
    s->in_service = true;
    while ((n = dma_pick(s)) >= 0) {
        uint32_t moved;

        if (budget == 0) {
            timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                      DMA_RESUME_NS);
            break;
        }
        if (dma_dir(&s->stream[n]) == DIR_M2P) {
            moved = dma_burst_to_periph(s, n, budget);
            if (!moved) {
                dma_step_to_periph(s, n);
                moved = 1;
            }
        } else {
            moved = dma_dir(&s->stream[n]) == DIR_M2M ?
                    dma_burst_m2m(s, n, budget) :
                    dma_burst_to_memory(s, n, budget);
            if (!moved) {
                dma_step_to_memory(s, n);
                moved = 1;
            }
        }
        budget -= moved;
    }
    s->in_service = false;
    dma_update_irq(s);
}

static void dma_timer_expired(void *opaque)
{
    dma_run(opaque);
}

static void dma_request(void *opaque, int line, int level)
{
    STM32F4xxDmaState *s = opaque;
    uint64_t bit = 1ULL << line;
    int n = line / STM32F4XX_DMA_CHANNELS;

    if (!(s->requests & bit) == !level) {
        return;
    }
    s->requests ^= bit;
    trace_stm32f4xx_dma_request(s->controller, n,
                                line % STM32F4XX_DMA_CHANNELS, level);
    if (s->burst_stream >= 0 &&
        line % STM32F4XX_DMA_CHANNELS ==
        FIELD_EX32(s->stream[n].cr, SCR, CHSEL)) {
        dma_burst_request(s, n, level);
    }
    if (level && !s->in_service &&
        line == STM32F4XX_DMA_REQ(n, FIELD_EX32(s->stream[n].cr, SCR, CHSEL)) &&
        dma_stream_ready(s, n)) {
        /* outside the requester's register access (see the top) */
        timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
}

static void dma_stream_enable(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    uint32_t cr = st->cr;
    unsigned dir = FIELD_EX32(cr, SCR, DIR);

    if (st->flags) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d enabled with its "
                      "flags 0x%02" PRIx32 " not cleared (RM0090 10.3.17)\n",
                      __func__, s->controller, n, st->flags);
    }
    if (dir == 3 || (dir == DIR_M2M && s->controller != 2)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d: %s, stream "
                      "disabled (TEIF)\n", __func__, s->controller, n,
                      dir == 3 ? "reserved DIR=11" :
                      "memory-to-memory is a DMA2 feature");
        dma_transfer_error(s, n);
        return;
    }
    if (FIELD_EX32(cr, SCR, PSIZE) == 3 || FIELD_EX32(cr, SCR, MSIZE) == 3) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d: reserved "
                      "PSIZE/MSIZE 11, using 32 bits\n", __func__,
                      s->controller, n);
    }
    if (dir == DIR_M2M) {
        if (FIELD_EX32(cr, SCR, CIRC) || FIELD_EX32(cr, SCR, DBM)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d: circular "
                          "and double-buffer modes are not allowed in "
                          "memory-to-memory mode (ignored)\n", __func__,
                          s->controller, n);
            cr &= ~(R_SCR_CIRC_MASK | R_SCR_DBM_MASK);
        }
        cr = FIELD_DP32(cr, SCR, PFCTRL, 0);
        st->fcr = FIELD_DP32(st->fcr, SFCR, DMDIS, 1);
    }
    if (FIELD_EX32(cr, SCR, PFCTRL)) {
        qemu_log_mask(LOG_UNIMP, "%s: DMA%u stream %d: no modelled "
                      "peripheral is a flow controller, NDTR counts the "
                      "transfer\n", __func__, s->controller, n);
        cr = FIELD_DP32(cr, SCR, CIRC, 0);
    }
    if (FIELD_EX32(cr, SCR, DBM)) {
        cr = FIELD_DP32(cr, SCR, CIRC, 1);
    }
    if (dma_direct(st)) {
        cr = FIELD_DP32(cr, SCR, MSIZE, FIELD_EX32(cr, SCR, PSIZE));
        cr = FIELD_DP32(cr, SCR, PBURST, 0);
        cr = FIELD_DP32(cr, SCR, MBURST, 0);
    }
    if (dma_direct(st) || FIELD_EX32(cr, SCR, PBURST)) {
        cr = FIELD_DP32(cr, SCR, PINCOS, 0);
    }
    st->cr = cr;
    if (!dma_direct(st) && !dma_fifo_burst_ok(st)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d: memory burst of "
                      "%u x %u bytes does not fit the FIFO threshold of %u "
                      "bytes (RM0090 table 48), stream disabled (FEIF)\n",
                      __func__, s->controller, n,
                      dma_burst_beats(FIELD_EX32(cr, SCR, MBURST)),
                      dma_msize(st), dma_threshold(st));
        st->flags |= FLAG_FE;
        st->cr = FIELD_DP32(st->cr, SCR, EN, 0);
        return;
    }
    if (dma_psize(st) < dma_msize(st) &&
        (st->ndtr * dma_psize(st)) % dma_msize(st)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u stream %d: NDTR %" PRIu32
                      " is not a multiple of MSIZE/PSIZE (RM0090 table 49)\n",
                      __func__, s->controller, n, st->ndtr);
    }
    st->ndtr_reload = st->ndtr;
    dma_cycle_start(st);
    trace_stm32f4xx_dma_enable(s->controller, n, dir_name[dir],
                               FIELD_EX32(cr, SCR, CHSEL), st->ndtr,
                               dma_direct(st));
    if (dir == DIR_M2P && !dma_fifo_fill(s, n)) {
        return;
    }
    dma_run(s);
}

/* Software cleared EN */
static void dma_stream_disable(STM32F4xxDmaState *s, int n)
{
    STM32F4xxDmaStream *st = &s->stream[n];

    if (dma_dir(st) != DIR_M2P && st->fifo_level) {
        /* 10.3.12: the FIFO is flushed to memory even though EN reads 0 */
        dma_fifo_drain(s, n, true);
    }
    st->fifo_level = 0;
    if (st->ndtr) {
        /* 10.3.17: TCIF tells software the stream stopped; NDTR the rest */
        st->flags |= FLAG_TC;
    }
    trace_stm32f4xx_dma_disable(s->controller, n, st->ndtr);
}

static void dma_write_cr(STM32F4xxDmaState *s, int n, uint32_t value)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    uint32_t old = st->cr;

    if (value & SCR_RESERVED) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%dCR: reserved bits "
                      "0x%08" PRIx32 " written\n", __func__, s->controller, n,
                      value & SCR_RESERVED);
        value &= ~SCR_RESERVED;
    }
    if (dma_enabled(st)) {
        uint32_t locked = ~(SCR_UNLOCKED | SCR_RESERVED);

        if ((value ^ old) & locked) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%dCR: bits 0x%08"
                          PRIx32 " cannot change while EN=1 (ignored)\n",
                          __func__, s->controller, n, (value ^ old) & locked);
        }
        value = (value & SCR_UNLOCKED) | (old & locked);
    }
    st->cr = value;
    if (!(old & R_SCR_EN_MASK) && (value & R_SCR_EN_MASK)) {
        dma_stream_enable(s, n);
    } else if ((old & R_SCR_EN_MASK) && !(value & R_SCR_EN_MASK)) {
        dma_stream_disable(s, n);
    }
}

static bool dma_unlocked(STM32F4xxDmaState *s, int n, const char *reg)
{
    if (!dma_enabled(&s->stream[n])) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%d%s is read-only while EN=1 "
                  "(write ignored)\n", __func__, s->controller, n, reg);
    return false;
}

/* Double-buffer mode: the idle target's address may change on the fly */
static void dma_write_mar(STM32F4xxDmaState *s, int n, unsigned target,
                          uint32_t value)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    uint32_t *mar = target ? &st->m1ar : &st->m0ar;

    if (!dma_enabled(st)) {
        *mar = value;
    } else if (!FIELD_EX32(st->cr, SCR, DBM)) {
        dma_unlocked(s, n, target ? "M1AR" : "M0AR");
    } else if (FIELD_EX32(st->cr, SCR, CT) != target) {
        *mar = value;
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%dM%uAR written while it "
                      "is the current target (CT=%u), stream disabled "
                      "(TEIF)\n", __func__, s->controller, n, target, target);
        dma_transfer_error(s, n);
    }
}

static void dma_write_fcr(STM32F4xxDmaState *s, int n, uint32_t value)
{
    STM32F4xxDmaStream *st = &s->stream[n];
    uint32_t locked = R_SFCR_FTH_MASK | R_SFCR_DMDIS_MASK;

    /* FS is read-only: HAL_DMA_DeInit writes the reset value 0x21 */
    if (value & ~(SFCR_WRITABLE | R_SFCR_FS_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%dFCR: reserved bits "
                      "0x%08" PRIx32 " written\n", __func__, s->controller, n,
                      value & ~(SFCR_WRITABLE | R_SFCR_FS_MASK));
    }
    if (dma_enabled(st)) {
        if ((value ^ st->fcr) & locked) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%dFCR: FTH/DMDIS "
                          "cannot change while EN=1 (ignored)\n", __func__,
                          s->controller, n);
        }
        st->fcr = (st->fcr & locked) | (value & R_SFCR_FEIE_MASK);
    } else {
        st->fcr = value & SFCR_WRITABLE;
    }
}

static uint32_t dma_read_isr(STM32F4xxDmaState *s, int first)
{
    uint32_t value = 0;

    for (int i = 0; i < 4; i++) {
        value |= s->stream[first + i].flags << flag_shift[i];
    }
    return value;
}

static void dma_write_ifcr(STM32F4xxDmaState *s, int first, uint32_t value)
{
    if (value & ~IFCR_ACCEPTED) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u %cIFCR: reserved bits "
                      "0x%08" PRIx32 " written\n", __func__, s->controller,
                      first ? 'H' : 'L', value & ~IFCR_ACCEPTED);
    }
    for (int i = 0; i < 4; i++) {
        s->stream[first + i].flags &= ~((value >> flag_shift[i]) & FLAGS_ALL);
    }
}

static bool dma_word_access(STM32F4xxDmaState *s, hwaddr addr, unsigned size,
                            bool write)
{
    if (size == 4 && !(addr & 3)) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u: %u-byte %s at 0x%02"
                  HWADDR_PRIx " (32-bit accesses only, %s)\n", __func__,
                  s->controller, size, write ? "write" : "read", addr,
                  write ? "ignored" : "reads 0");
    return false;
}

/*
 * The timer that runs the streams is due now but runs from the main loop,
 * which a busy host can hold up for milliseconds while the vCPU polls the
 * flags: a read of the controller's registers first runs what is due, so the
 * guest sees the transfer as on the silicon, where nothing waits for a host.
 */
static void dma_catch_up(STM32F4xxDmaState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (!s->in_service && timer_pending(s->timer) &&
        timer_expire_time_ns(s->timer) <= now) {
        timer_del(s->timer);
        dma_run(s);
    }
}

static uint64_t stm32f4xx_dma_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxDmaState *s = opaque;
    uint32_t value = 0;

    if (!dma_word_access(s, addr, size, false)) {
        return 0;
    }
    dma_catch_up(s);
    switch (addr) {
    case A_LISR:
        value = dma_read_isr(s, 0);
        break;
    case A_HISR:
        value = dma_read_isr(s, 4);
        break;
    case A_LIFCR:
    case A_HIFCR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u: %cIFCR is write-only "
                      "(reads 0)\n", __func__, s->controller,
                      addr == A_HIFCR ? 'H' : 'L');
        break;
    case STREAM_BASE ... REGS_END - 1: {
        int n = (addr - STREAM_BASE) / STREAM_STRIDE;
        STM32F4xxDmaStream *st = &s->stream[n];

        switch ((addr - STREAM_BASE) % STREAM_STRIDE + STREAM_BASE) {
        case A_SCR:
            value = st->cr;
            break;
        case A_SNDTR:
            value = st->ndtr;
            break;
        case A_SPAR:
            value = st->par;
            break;
        case A_SM0AR:
            value = st->m0ar;
            break;
        case A_SM1AR:
            value = st->m1ar;
            break;
        case A_SFCR:
            value = FIELD_DP32(st->fcr, SFCR, FS, dma_fifo_status(st));
            break;
        }
        break;
    }
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u: bad offset 0x%"
                      HWADDR_PRIx "\n", __func__, s->controller, addr);
        break;
    }
    trace_stm32f4xx_dma_read(s->controller, addr, value);
    return value;
}

static void stm32f4xx_dma_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    STM32F4xxDmaState *s = opaque;
    uint32_t value = val64;

    if (!dma_word_access(s, addr, size, true)) {
        return;
    }
    trace_stm32f4xx_dma_write(s->controller, addr, value);
    switch (addr) {
    case A_LISR:
    case A_HISR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u: %cISR is read-only (write "
                      "ignored)\n", __func__, s->controller,
                      addr == A_HISR ? 'H' : 'L');
        break;
    case A_LIFCR:
        dma_write_ifcr(s, 0, value);
        break;
    case A_HIFCR:
        dma_write_ifcr(s, 4, value);
        break;
    case STREAM_BASE ... REGS_END - 1: {
        int n = (addr - STREAM_BASE) / STREAM_STRIDE;
        STM32F4xxDmaStream *st = &s->stream[n];

        switch ((addr - STREAM_BASE) % STREAM_STRIDE + STREAM_BASE) {
        case A_SCR:
            dma_write_cr(s, n, value);
            break;
        case A_SNDTR:
            if (value & ~R_SNDTR_NDT_MASK) {
                qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u S%dNDTR: reserved "
                              "bits 0x%08" PRIx32 " written\n", __func__,
                              s->controller, n, value & ~R_SNDTR_NDT_MASK);
            }
            if (dma_unlocked(s, n, "NDTR")) {
                st->ndtr = value & R_SNDTR_NDT_MASK;
            }
            break;
        case A_SPAR:
            if (dma_unlocked(s, n, "PAR")) {
                st->par = value;
            }
            break;
        case A_SM0AR:
            dma_write_mar(s, n, 0, value);
            break;
        case A_SM1AR:
            dma_write_mar(s, n, 1, value);
            break;
        case A_SFCR:
            dma_write_fcr(s, n, value);
            break;
        }
        break;
    }
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA%u: bad offset 0x%"
                      HWADDR_PRIx "\n", __func__, s->controller, addr);
        break;
    }
    dma_update_irq(s);
}

static const MemoryRegionOps stm32f4xx_dma_ops = {
    .read = stm32f4xx_dma_read,
    .write = stm32f4xx_dma_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* narrower accesses reach the handlers, which refuse them with a log */
    .valid.min_access_size = 1,
    .valid.max_access_size = 4,
    .impl.min_access_size = 1,
    .impl.max_access_size = 4,
};

static void stm32f4xx_dma_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxDmaState *s = STM32F4XX_DMA(obj);

    /* the request inputs are the peripherals' levels: they stay */
    timer_del(s->timer);
    for (int n = 0; n < STM32F4XX_DMA_STREAMS; n++) {
        STM32F4xxDmaStream *st = &s->stream[n];

        memset(st, 0, sizeof(*st));
        st->fcr = FIELD_DP32(0, SFCR, FTH, 1);      /* SxFCR reads 0x21 */
    }
}

static void stm32f4xx_dma_reset_exit(Object *obj, ResetType type)
{
    dma_update_irq(STM32F4XX_DMA(obj));
}

static void stm32f4xx_dma_init(Object *obj)
{
    STM32F4xxDmaState *s = STM32F4XX_DMA(obj);
    DeviceState *dev = DEVICE(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_dma_ops, s,
                          TYPE_STM32F4XX_DMA, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    for (int n = 0; n < STM32F4XX_DMA_STREAMS; n++) {
        sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq[n]);
    }
    qdev_init_gpio_in_named(dev, dma_request, "dma-req",
                            STM32F4XX_DMA_REQUESTS);
    qdev_init_gpio_out_named(dev, s->eot, "dma-eot", STM32F4XX_DMA_REQUESTS);
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, dma_timer_expired, s);
    s->burst_stream = -1;
    s->map_gen = 1;
    /* for tests: items moved since power-on, and those moved in bursts */
    object_property_add_uint64_ptr(obj, "items", &s->items,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "burst-items", &s->burst_items,
                                   OBJ_PROP_FLAG_READ);
}

static void stm32f4xx_dma_finalize(Object *obj)
{
    STM32F4xxDmaState *s = STM32F4XX_DMA(obj);

    memory_listener_unregister(&s->map_listener);
    timer_free(s->timer);
}

static void stm32f4xx_dma_realize(DeviceState *dev, Error **errp)
{
    STM32F4xxDmaState *s = STM32F4XX_DMA(dev);

    if (s->controller < 1 || s->controller > 2) {
        error_setg(errp, "controller must be 1 (DMA1) or 2 (DMA2)");
        return;
    }
    if (!s->mem_port || !s->periph_port) {
        error_setg(errp, "the memory-port and periph-port links must be set");
        return;
    }
    address_space_init(&s->mem_as, s->mem_port,
                       s->controller == 1 ? "dma1-memory-port" :
                                            "dma2-memory-port");
    address_space_init(&s->periph_as, s->periph_port,
                       s->controller == 1 ? "dma1-peripheral-port" :
                                            "dma2-peripheral-port");
    s->map_listener.commit = dma_map_changed;
    s->map_listener.name = "stm32f4xx-dma";
    memory_listener_register(&s->map_listener, &s->mem_as);
}

static int stm32f4xx_dma_post_load(void *opaque, int version_id)
{
    STM32F4xxDmaState *s = opaque;

    for (int n = 0; n < STM32F4XX_DMA_STREAMS; n++) {
        if (s->stream[n].fifo_level > STM32F4XX_DMA_FIFO_BYTES) {
            return -EINVAL;
        }
    }
    return 0;
}

static const VMStateDescription vmstate_stm32f4xx_dma_stream = {
    .name = "stm32f4xx-dma-stream",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, STM32F4xxDmaStream),
        VMSTATE_UINT32(ndtr, STM32F4xxDmaStream),
        VMSTATE_UINT32(par, STM32F4xxDmaStream),
        VMSTATE_UINT32(m0ar, STM32F4xxDmaStream),
        VMSTATE_UINT32(m1ar, STM32F4xxDmaStream),
        VMSTATE_UINT32(fcr, STM32F4xxDmaStream),
        VMSTATE_UINT32(flags, STM32F4xxDmaStream),
        VMSTATE_UINT32(ndtr_reload, STM32F4xxDmaStream),
        VMSTATE_UINT32(pidx, STM32F4xxDmaStream),
        VMSTATE_UINT32(moff, STM32F4xxDmaStream),
        VMSTATE_UINT32(mfetch, STM32F4xxDmaStream),
        VMSTATE_UINT32(fifo_level, STM32F4xxDmaStream),
        VMSTATE_UINT8_ARRAY(fifo, STM32F4xxDmaStream,
                            STM32F4XX_DMA_FIFO_BYTES),
        VMSTATE_BOOL(ht_done, STM32F4xxDmaStream),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_stm32f4xx_dma = {
    .name = TYPE_STM32F4XX_DMA,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = stm32f4xx_dma_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(stream, STM32F4xxDmaState, STM32F4XX_DMA_STREAMS,
                             1, vmstate_stm32f4xx_dma_stream,
                             STM32F4xxDmaStream),
        VMSTATE_UINT64(requests, STM32F4xxDmaState),
        VMSTATE_TIMER_PTR(timer, STM32F4xxDmaState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property stm32f4xx_dma_properties[] = {
    DEFINE_PROP_UINT8("controller", STM32F4xxDmaState, controller, 2),
    /* off: every item through the bus, to compare (-global) */
    DEFINE_PROP_BOOL("burst", STM32F4xxDmaState, burst, true),
    DEFINE_PROP_LINK("memory-port", STM32F4xxDmaState, mem_port,
                     TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_LINK("periph-port", STM32F4xxDmaState, periph_port,
                     TYPE_MEMORY_REGION, MemoryRegion *),
};

static void stm32f4xx_dma_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = stm32f4xx_dma_realize;
    dc->vmsd = &vmstate_stm32f4xx_dma;
    rc->phases.hold = stm32f4xx_dma_reset_hold;
    rc->phases.exit = stm32f4xx_dma_reset_exit;
    device_class_set_props(dc, stm32f4xx_dma_properties);
}

static const TypeInfo stm32f4xx_dma_info = {
    .name              = TYPE_STM32F4XX_DMA,
    .parent            = TYPE_SYS_BUS_DEVICE,
    .instance_size     = sizeof(STM32F4xxDmaState),
    .instance_init     = stm32f4xx_dma_init,
    .instance_finalize = stm32f4xx_dma_finalize,
    .class_init        = stm32f4xx_dma_class_init,
};

static const TypeInfo stm32f4xx_dma_burst_info = {
    .name       = TYPE_STM32F4XX_DMA_BURST,
    .parent     = TYPE_INTERFACE,
    .class_size = sizeof(STM32F4xxDmaBurstClass),
};

static void stm32f4xx_dma_register_types(void)
{
    type_register_static(&stm32f4xx_dma_info);
    type_register_static(&stm32f4xx_dma_burst_info);
}

type_init(stm32f4xx_dma_register_types)
