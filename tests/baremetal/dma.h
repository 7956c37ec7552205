// DMA streams driven the way ST's HAL drives them (stm32f4xx_hal_dma.c): the same
// registers, in the same order, with the same widths. Our own code, for the DMA tests.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define DMA1_BASE           0x40026000u
#define DMA2_BASE           0x40026400u

// SxCR
#define DMA_CR_EN           (1u << 0)
#define DMA_CR_DMEIE        (1u << 1)
#define DMA_CR_TEIE         (1u << 2)
#define DMA_CR_HTIE         (1u << 3)
#define DMA_CR_TCIE         (1u << 4)
#define DMA_CR_DIR_P2M      (0u << 6)
#define DMA_CR_DIR_M2P      (1u << 6)
#define DMA_CR_DIR_M2M      (2u << 6)
#define DMA_CR_CIRC         (1u << 8)
#define DMA_CR_PINC         (1u << 9)
#define DMA_CR_MINC         (1u << 10)
#define DMA_CR_PSIZE(n)     ((uint32_t)(n) << 11)    // 0 byte, 1 half-word, 2 word
#define DMA_CR_MSIZE(n)     ((uint32_t)(n) << 13)
#define DMA_CR_PL(n)        ((uint32_t)(n) << 16)
#define DMA_CR_DBM          (1u << 18)
#define DMA_CR_CT           (1u << 19)
#define DMA_CR_PBURST(n)    ((uint32_t)(n) << 21)
#define DMA_CR_MBURST(n)    ((uint32_t)(n) << 23)
#define DMA_CR_CHSEL(n)     ((uint32_t)(n) << 25)
// the bits HAL_DMA_Init replaces
#define DMA_CR_CONFIG       (DMA_CR_CHSEL(7) | DMA_CR_MBURST(3) | DMA_CR_PBURST(3) | \
                             DMA_CR_PL(3) | DMA_CR_MSIZE(3) | DMA_CR_PSIZE(3) | \
                             DMA_CR_MINC | DMA_CR_PINC | DMA_CR_CIRC | (3u << 6) | \
                             DMA_CR_CT | DMA_CR_DBM)
// SxFCR
#define DMA_FCR_FTH(n)      ((uint32_t)(n))
#define DMA_FCR_DMDIS       (1u << 2)
#define DMA_FCR_FEIE        (1u << 7)
// flags of one stream, as for stream 0
#define DMA_FLAG_FE         (1u << 0)
#define DMA_FLAG_DME        (1u << 2)
#define DMA_FLAG_TE         (1u << 3)
#define DMA_FLAG_HT         (1u << 4)
#define DMA_FLAG_TC         (1u << 5)

enum dma_state { DMA_RESET, DMA_READY, DMA_BUSY, DMA_ABORT };
enum { DMA_ERR_TE = 1, DMA_ERR_FE = 2, DMA_ERR_DME = 4, DMA_ERR_TIMEOUT = 32 };

typedef struct dma_handle dma_handle_t;
struct dma_handle {
    uint32_t dma;               // DMA1_BASE or DMA2_BASE
    uint32_t stream;            // 0..7
    uint32_t config;            // SxCR configuration bits (DMA_CR_CONFIG)
    uint32_t fifo;              // 0 (direct mode) or DMA_FCR_DMDIS | DMA_FCR_FTH(n)
    volatile enum dma_state state;
    volatile uint32_t error;
    void (*xfer_cplt)(dma_handle_t *h);
    void (*xfer_half)(dma_handle_t *h);
    void (*xfer_error)(dma_handle_t *h);
    void *parent;
};

uint32_t dma_stream_base(const dma_handle_t *h);
uint32_t dma_flags(const dma_handle_t *h);
void dma_clear_flags(const dma_handle_t *h, uint32_t flags);
// HAL_DMA_Init: false if the stream does not stop or the FIFO configuration is refused
bool dma_init(dma_handle_t *h);
// HAL_DMA_Start_IT
bool dma_start_it(dma_handle_t *h, uint32_t src, uint32_t dst, uint32_t count);
// HAL_DMA_Start (no interrupts) and HAL_DMA_PollForTransfer (full transfer)
bool dma_start(dma_handle_t *h, uint32_t src, uint32_t dst, uint32_t count);
bool dma_poll_for_transfer(dma_handle_t *h, uint32_t timeout_ms);
// HAL_DMA_IRQHandler
void dma_irq_handler(dma_handle_t *h);

// A vector table in SRAM (VTOR), so the programs can install interrupt handlers.
void irq_install(int irqn, void (*handler)(void), uint32_t priority);
void irq_disable(int irqn);

// Exclusive read-modify-write, as the HAL's ATOMIC_SET_BIT/ATOMIC_CLEAR_BIT
void atomic_set_bits(volatile uint32_t *reg, uint32_t bits);
void atomic_clear_bits(volatile uint32_t *reg, uint32_t bits);

// Wait for a volatile flag with a timeout in ms (SysTick must run)
bool wait_flag(volatile uint32_t *flag, uint32_t timeout_ms);

// Output helpers
void put_hex(const void *data, uint32_t len);
void put_hex32(uint32_t v);
// FNV-1a over bytes, to report long buffers
uint32_t fnv1a(const void *data, uint32_t len);
// xorshift32 test data (tests/test_dma_baremetal.py computes the same)
void fill_pattern(void *buf, uint32_t len, uint32_t seed);

// The C library functions GCC may call for copies and clears (the programs have no libc)
void *memset(void *dst, int c, unsigned int n);
void *memcpy(void *dst, const void *src, unsigned int n);
int memcmp(const void *a, const void *b, unsigned int n);
