// DMA streams the way ST's HAL drives them (HAL_DMA_Init, HAL_DMA_Start_IT,
// HAL_DMA_PollForTransfer, HAL_DMA_IRQHandler), plus interrupt and output helpers.
#include "dma.h"
#include "board.h"

#define SCB_VTOR        REG(0xE000ED08u)
#define NVIC_ISER(n)    REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n)    REG(0xE000E180u + 4u * (n))
#define NVIC_IPR(n)     (*(volatile uint8_t *)(0xE000E400u + (n)))
#define NUM_IRQS        91

static const uint8_t flag_shift[4] = {0, 6, 16, 22};

uint32_t dma_stream_base(const dma_handle_t *h) {
    return h->dma + 0x10u + 0x18u * h->stream;
}

#define S_CR(h)     REG(dma_stream_base(h) + 0x00)
#define S_NDTR(h)   REG(dma_stream_base(h) + 0x04)
#define S_PAR(h)    REG(dma_stream_base(h) + 0x08)
#define S_M0AR(h)   REG(dma_stream_base(h) + 0x0C)
#define S_FCR(h)    REG(dma_stream_base(h) + 0x14)
#define S_ISR(h)    REG((h)->dma + ((h)->stream > 3 ? 0x04u : 0x00u))
#define S_IFCR(h)   REG((h)->dma + ((h)->stream > 3 ? 0x0Cu : 0x08u))
#define SHIFT(h)    flag_shift[(h)->stream & 3]

uint32_t dma_flags(const dma_handle_t *h) {
    return (S_ISR(h) >> SHIFT(h)) & 0x3Du;
}

void dma_clear_flags(const dma_handle_t *h, uint32_t flags) {
    S_IFCR(h) = flags << SHIFT(h);
}

static bool wait_disabled(const dma_handle_t *h) {
    uint32_t start = ticks_ms;
    while (S_CR(h) & DMA_CR_EN) {
        if (ticks_ms - start > 5u) {
            return false;
        }
    }
    return true;
}

// RM0090 table 48, as HAL's DMA_CheckFifoParam
static bool fifo_param_ok(const dma_handle_t *h) {
    uint32_t beats_log = (h->config >> 23) & 3u;    // 0 single, 1 INCR4, 2 INCR8, 3 INCR16
    uint32_t msize = 1u << ((h->config >> 13) & 3u);
    uint32_t threshold = ((h->fifo & 3u) + 1u) * 4u;
    uint32_t burst = (beats_log ? 2u << beats_log : 1u) * msize;
    return threshold % burst == 0;
}

bool dma_init(dma_handle_t *h) {
    uint32_t tmp;

    h->state = DMA_BUSY;
    S_CR(h) &= ~DMA_CR_EN;
    if (!wait_disabled(h)) {
        h->error = DMA_ERR_TIMEOUT;
        return false;
    }
    tmp = S_CR(h);
    tmp &= ~DMA_CR_CONFIG;
    // bursts only with the FIFO on, as the HAL
    tmp |= h->config & ~(h->fifo & DMA_FCR_DMDIS ? 0u : DMA_CR_MBURST(3) | DMA_CR_PBURST(3));
    S_CR(h) = tmp;
    tmp = S_FCR(h);
    tmp &= ~(DMA_FCR_DMDIS | DMA_FCR_FTH(3));
    tmp |= h->fifo & DMA_FCR_DMDIS;
    if (h->fifo & DMA_FCR_DMDIS) {
        tmp |= h->fifo & DMA_FCR_FTH(3);
        if ((h->config & DMA_CR_MBURST(3)) && !fifo_param_ok(h)) {
            h->error = DMA_ERR_FE;
            h->state = DMA_READY;
            return false;
        }
    }
    S_FCR(h) = tmp;
    S_IFCR(h) = 0x3Fu << SHIFT(h);
    h->error = 0;
    h->state = DMA_READY;
    return true;
}

static void set_config(dma_handle_t *h, uint32_t src, uint32_t dst, uint32_t count) {
    S_CR(h) &= ~DMA_CR_DBM;
    S_NDTR(h) = count;
    if ((h->config & (3u << 6)) == DMA_CR_DIR_M2P) {
        S_PAR(h) = dst;
        S_M0AR(h) = src;
    } else {
        S_PAR(h) = src;
        S_M0AR(h) = dst;
    }
}

bool dma_start_it(dma_handle_t *h, uint32_t src, uint32_t dst, uint32_t count) {
    if (h->state != DMA_READY) {
        return false;
    }
    h->state = DMA_BUSY;
    h->error = 0;
    set_config(h, src, dst, count);
    S_IFCR(h) = 0x3Fu << SHIFT(h);
    S_CR(h) |= DMA_CR_TCIE | DMA_CR_TEIE | DMA_CR_DMEIE;
    if (h->xfer_half) {
        S_CR(h) |= DMA_CR_HTIE;
    }
    S_CR(h) |= DMA_CR_EN;
    return true;
}

bool dma_start(dma_handle_t *h, uint32_t src, uint32_t dst, uint32_t count) {
    if (h->state != DMA_READY) {
        return false;
    }
    h->state = DMA_BUSY;
    h->error = 0;
    set_config(h, src, dst, count);
    S_CR(h) |= DMA_CR_EN;
    return true;
}

static void dma_abort(dma_handle_t *h) {
    S_CR(h) &= ~(DMA_CR_TCIE | DMA_CR_TEIE | DMA_CR_DMEIE);
    S_FCR(h) &= ~DMA_FCR_FEIE;
    if (h->xfer_half) {
        S_CR(h) &= ~DMA_CR_HTIE;
    }
    S_CR(h) &= ~DMA_CR_EN;
    if (!wait_disabled(h)) {
        h->error |= DMA_ERR_TIMEOUT;
    }
    S_IFCR(h) = 0x3Fu << SHIFT(h);
    h->state = DMA_READY;
}

bool dma_poll_for_transfer(dma_handle_t *h, uint32_t timeout_ms) {
    uint32_t start = ticks_ms, isr;

    if (h->state != DMA_BUSY || (S_CR(h) & DMA_CR_CIRC)) {
        return false;
    }
    isr = S_ISR(h);
    while (!(isr & (DMA_FLAG_TC << SHIFT(h))) && !(h->error & DMA_ERR_TE)) {
        if (ticks_ms - start > timeout_ms) {
            h->error |= DMA_ERR_TIMEOUT;
            h->state = DMA_READY;
            return false;
        }
        isr = S_ISR(h);
        if (isr & (DMA_FLAG_TE << SHIFT(h))) {
            h->error |= DMA_ERR_TE;
            S_IFCR(h) = DMA_FLAG_TE << SHIFT(h);
        }
        if (isr & (DMA_FLAG_FE << SHIFT(h))) {
            h->error |= DMA_ERR_FE;
            S_IFCR(h) = DMA_FLAG_FE << SHIFT(h);
        }
        if (isr & (DMA_FLAG_DME << SHIFT(h))) {
            h->error |= DMA_ERR_DME;
            S_IFCR(h) = DMA_FLAG_DME << SHIFT(h);
        }
    }
    if (h->error & DMA_ERR_TE) {
        dma_abort(h);
        S_IFCR(h) = (DMA_FLAG_HT | DMA_FLAG_TC) << SHIFT(h);
        return false;
    }
    S_IFCR(h) = (DMA_FLAG_HT | DMA_FLAG_TC) << SHIFT(h);
    h->state = DMA_READY;
    return true;
}

void dma_irq_handler(dma_handle_t *h) {
    uint32_t isr = S_ISR(h), sh = SHIFT(h);

    if ((isr & (DMA_FLAG_TE << sh)) && (S_CR(h) & DMA_CR_TEIE)) {
        S_CR(h) &= ~DMA_CR_TEIE;
        S_IFCR(h) = DMA_FLAG_TE << sh;
        h->error |= DMA_ERR_TE;
    }
    if ((isr & (DMA_FLAG_FE << sh)) && (S_FCR(h) & DMA_FCR_FEIE)) {
        S_IFCR(h) = DMA_FLAG_FE << sh;
        h->error |= DMA_ERR_FE;
    }
    if ((isr & (DMA_FLAG_DME << sh)) && (S_CR(h) & DMA_CR_DMEIE)) {
        S_IFCR(h) = DMA_FLAG_DME << sh;
        h->error |= DMA_ERR_DME;
    }
    if ((isr & (DMA_FLAG_HT << sh)) && (S_CR(h) & DMA_CR_HTIE)) {
        S_IFCR(h) = DMA_FLAG_HT << sh;
        if (!(S_CR(h) & DMA_CR_CIRC)) {
            S_CR(h) &= ~DMA_CR_HTIE;
        }
        if (h->xfer_half) {
            h->xfer_half(h);
        }
    }
    if ((isr & (DMA_FLAG_TC << sh)) && (S_CR(h) & DMA_CR_TCIE)) {
        S_IFCR(h) = DMA_FLAG_TC << sh;
        if (h->state == DMA_ABORT) {
            S_CR(h) &= ~(DMA_CR_TCIE | DMA_CR_TEIE | DMA_CR_DMEIE | DMA_CR_HTIE);
            S_FCR(h) &= ~DMA_FCR_FEIE;
            S_IFCR(h) = 0x3Fu << sh;
            h->state = DMA_READY;
            return;
        }
        if (!(S_CR(h) & DMA_CR_CIRC)) {
            S_CR(h) &= ~DMA_CR_TCIE;
            h->state = DMA_READY;
        }
        if (h->xfer_cplt) {
            h->xfer_cplt(h);
        }
    }
    if (h->error) {
        if (h->error & DMA_ERR_TE) {
            // HAL: abort state, disable, wait for EN to read 0
            uint32_t count = 0;
            h->state = DMA_ABORT;
            S_CR(h) &= ~DMA_CR_EN;
            while ((S_CR(h) & DMA_CR_EN) && ++count < 100000u) {
            }
            h->state = DMA_READY;
        }
        if (h->xfer_error) {
            h->xfer_error(h);
        }
    }
}

// --- interrupts ------------------------------------------------------------------------

static void unexpected_irq(void) {
    console_puts("unexpected interrupt\n");
    for (;;) {
    }
}

__attribute__((aligned(512))) static void (*ram_vectors[16 + NUM_IRQS])(void);

void irq_install(int irqn, void (*handler)(void), uint32_t priority) {
    if (SCB_VTOR != (uint32_t)ram_vectors) {
        const uint32_t *flash_vectors = (const uint32_t *)0x08000000u;
        for (int i = 0; i < 16; i++) {
            ram_vectors[i] = (void (*)(void))flash_vectors[i];
        }
        for (int i = 16; i < 16 + NUM_IRQS; i++) {
            ram_vectors[i] = unexpected_irq;
        }
        SCB_VTOR = (uint32_t)ram_vectors;
        __asm volatile("dsb\n isb" ::: "memory");
    }
    ram_vectors[16 + irqn] = handler;
    NVIC_IPR(irqn) = (uint8_t)(priority << 4);
    NVIC_ISER(irqn / 32) = 1u << (irqn % 32);
}

void irq_disable(int irqn) {
    NVIC_ICER(irqn / 32) = 1u << (irqn % 32);
}

void atomic_set_bits(volatile uint32_t *reg, uint32_t bits) {
    uint32_t value, failed;
    do {
        __asm volatile("ldrex %0, [%1]" : "=r"(value) : "r"(reg) : "memory");
        value |= bits;
        __asm volatile("strex %0, %2, [%1]" : "=&r"(failed) : "r"(reg), "r"(value) : "memory");
    } while (failed);
}

void atomic_clear_bits(volatile uint32_t *reg, uint32_t bits) {
    uint32_t value, failed;
    do {
        __asm volatile("ldrex %0, [%1]" : "=r"(value) : "r"(reg) : "memory");
        value &= ~bits;
        __asm volatile("strex %0, %2, [%1]" : "=&r"(failed) : "r"(reg), "r"(value) : "memory");
    } while (failed);
}

bool wait_flag(volatile uint32_t *flag, uint32_t timeout_ms) {
    uint32_t start = ticks_ms;
    while (!*flag) {
        if (ticks_ms - start > timeout_ms) {
            return false;
        }
    }
    return true;
}

// --- output ------------------------------------------------------------------------------

void put_hex(const void *data, uint32_t len) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    char s[3] = {0, 0, 0};
    for (uint32_t i = 0; i < len; i++) {
        s[0] = digits[p[i] >> 4];
        s[1] = digits[p[i] & 15];
        console_puts(s);
    }
}

void put_hex32(uint32_t v) {
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_hex(be, 4);
}

uint32_t fnv1a(const void *data, uint32_t len) {
    const uint8_t *p = data;
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

void fill_pattern(void *buf, uint32_t len, uint32_t seed) {
    uint8_t *p = buf;
    uint32_t x = seed;
    for (uint32_t i = 0; i < len; i++) {
        if (i % 4 == 0) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
        }
        p[i] = (uint8_t)(x >> (8 * (i % 4)));
    }
}

// --- what GCC may call (no libc): byte loops GCC must not turn back into calls --------

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memset(void *dst, int c, unsigned int n) {
    uint8_t *d = dst;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memcpy(void *dst, const void *src, unsigned int n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

int memcmp(const void *a, const void *b, unsigned int n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}
