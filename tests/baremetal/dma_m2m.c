// Memory-to-memory by DMA2 stream 0, programmed as HAL_DMA_Init and HAL_DMA_Start_IT /
// HAL_DMA_Start + HAL_DMA_PollForTransfer do: every PSIZE/MSIZE pair through the FIFO
// (interrupt driven), a copy out of flash (polled), and a copy from CCM RAM, which is not
// on the DMA's bus: the transfer-error interrupt and HAL's abort path.
#include "board.h"
#include "dma.h"

#define LEN 1024u
#define CCM_BASE 0x10000000u
#define DMA2_STREAM0_IRQ 56

static uint8_t src[LEN];
static uint8_t dst[LEN + 16];
static const char flash_text[64] = "copied out of flash by DMA2, stream 0, polled for completion";
static dma_handle_t hdma = {.dma = DMA2_BASE, .stream = 0};
static volatile uint32_t complete, errors;

static void dma2_stream0_irq(void) {
    dma_irq_handler(&hdma);
}

static void on_complete(dma_handle_t *h) {
    (void)h;
    complete = 1;
}

static void on_error(dma_handle_t *h) {
    (void)h;
    errors = 1;
}

static bool tail_is_zero(void) {
    for (uint32_t i = LEN; i < sizeof(dst); i++) {
        if (dst[i]) {
            return false;
        }
    }
    return true;
}

static void copy_case(uint32_t ps, uint32_t ms, uint32_t fth, uint32_t mburst) {
    static const char *const size_name[] = {"byte", "half", "word"};

    memset(dst, 0, sizeof(dst));
    hdma.config = DMA_CR_CHSEL(0) | DMA_CR_DIR_M2M | DMA_CR_PINC | DMA_CR_MINC |
                  DMA_CR_PSIZE(ps) | DMA_CR_MSIZE(ms) | DMA_CR_PL(2) | DMA_CR_MBURST(mburst);
    hdma.fifo = DMA_FCR_DMDIS | DMA_FCR_FTH(fth);
    hdma.xfer_cplt = on_complete;
    hdma.xfer_error = on_error;
    console_puts("m2m ");
    console_puts(size_name[ps]);
    console_puts("->");
    console_puts(size_name[ms]);
    console_puts(" fth ");
    console_putu(fth);
    console_puts(": ");
    if (!dma_init(&hdma)) {
        console_puts("init refused\n");
        return;
    }
    complete = 0;
    errors = 0;
    dma_start_it(&hdma, (uint32_t)src, (uint32_t)dst, LEN >> ps);
    if (!wait_flag(&complete, 100)) {
        console_puts("timeout\n");
        return;
    }
    console_puts(memcmp(src, dst, LEN) == 0 && tail_is_zero() && !errors ? "ok" : "MISMATCH");
    console_puts(" fnv ");
    put_hex32(fnv1a(dst, LEN));
    console_puts("\n");
}

int main(void) {
    const char *failed = clock_init();
    uint32_t hz = sysclk_hz();

    console_init(failed ? 16000000u : hz / 4u);
    systick_init(failed ? 16000000u : hz);
    console_puts("dma m2m\n");
    RCC_AHB1ENR |= 1u << 22;                                // __HAL_RCC_DMA2_CLK_ENABLE
    (void)RCC_AHB1ENR;
    irq_install(DMA2_STREAM0_IRQ, dma2_stream0_irq, 0);
    fill_pattern(src, LEN, 0x2545F491u);

    for (uint32_t ps = 0; ps < 3; ps++) {
        for (uint32_t ms = 0; ms < 3; ms++) {
            copy_case(ps, ms, 3, 1);                        // full FIFO, INCR4 memory bursts
        }
    }
    copy_case(0, 2, 1, 0);                                  // half-full FIFO, single
    copy_case(2, 0, 0, 1);                                  // quarter FIFO, INCR4 bytes

    // HAL_DMA_Start + HAL_DMA_PollForTransfer, no interrupt
    irq_disable(DMA2_STREAM0_IRQ);
    memset(dst, 0, sizeof(dst));
    hdma.config = DMA_CR_DIR_M2M | DMA_CR_PINC | DMA_CR_MINC | DMA_CR_PSIZE(2) | DMA_CR_MSIZE(2);
    hdma.fifo = DMA_FCR_DMDIS | DMA_FCR_FTH(3);
    dma_init(&hdma);
    dma_start(&hdma, (uint32_t)flash_text, (uint32_t)dst, sizeof(flash_text) / 4);
    console_puts("m2m flash polled: ");
    console_puts(dma_poll_for_transfer(&hdma, 100) && memcmp(dst, flash_text, 64) == 0 ?
                 "ok " : "FAILED ");
    console_puts((const char *)dst);
    console_puts("\n");

    // CCM RAM is on the CPU's D-bus only: a bus error, TEIF, HAL's abort path
    irq_install(DMA2_STREAM0_IRQ, dma2_stream0_irq, 0);
    *(volatile uint32_t *)CCM_BASE = 0xC0FFEE00u;
    hdma.config = DMA_CR_DIR_M2M | DMA_CR_PINC | DMA_CR_MINC | DMA_CR_PSIZE(2) | DMA_CR_MSIZE(2);
    dma_init(&hdma);
    complete = 0;
    errors = 0;
    dma_start_it(&hdma, CCM_BASE, (uint32_t)dst, 4);
    console_puts("m2m from ccm: ");
    if (wait_flag(&errors, 100) && (hdma.error & DMA_ERR_TE) && !complete &&
        !(REG(dma_stream_base(&hdma)) & DMA_CR_EN)) {
        console_puts("transfer error, stream disabled, ndtr ");
        console_putu(REG(dma_stream_base(&hdma) + 4));
        console_puts("\n");
    } else {
        console_puts("NO ERROR\n");
    }
    console_puts("done\n");
    for (;;) {
    }
}
