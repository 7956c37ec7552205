// HAL_UART_Transmit_DMA and HAL_UART_Receive_DMA on the console USART3, the way ST's HAL
// drives them: DMA1 stream 3 channel 4 for TX (and stream 4 channel 7, the other mapping
// of USART3_TX), stream 1 channel 4 for RX; interrupt driven, with the HAL's exclusive
// read-modify-writes of CR1/CR3, the TC clear before DMAT, and the USART TC interrupt
// that ends a transmission.
#include "board.h"
#include "dma.h"

#define USART3_CR3          REG(USART3_BASE + 0x14)
#define USART_SR_TC         (1u << 6)
#define USART_CR1_TCIE      (1u << 6)
#define USART_CR1_PEIE      (1u << 8)
#define USART_CR3_EIE       (1u << 0)
#define USART_CR3_DMAR      (1u << 6)
#define USART_CR3_DMAT      (1u << 7)
#define DMA1_STREAM1_IRQ    12
#define DMA1_STREAM3_IRQ    14
#define DMA1_STREAM4_IRQ    15
#define USART3_IRQ          39
#define TEXT_LEN            1000u
#define RX_LEN              16u

static char text[TEXT_LEN];
static char rx_buf[RX_LEN + 1];
static dma_handle_t hdma_tx = {.dma = DMA1_BASE, .stream = 3};
static dma_handle_t hdma_tx_alt = {.dma = DMA1_BASE, .stream = 4};
static dma_handle_t hdma_rx = {.dma = DMA1_BASE, .stream = 1};
static volatile uint32_t tx_done, rx_done, tx_half, rx_half, dma_errors;

static void dma1_stream1_irq(void) {
    dma_irq_handler(&hdma_rx);
}

static void dma1_stream3_irq(void) {
    dma_irq_handler(&hdma_tx);
}

static void dma1_stream4_irq(void) {
    dma_irq_handler(&hdma_tx_alt);
}

// HAL_UART_IRQHandler, the part a DMA transmission ends with: TC with TCIE
static void usart3_irq(void) {
    if ((USART3_SR & USART_SR_TC) && (USART3_CR1 & USART_CR1_TCIE)) {
        atomic_clear_bits(&USART3_CR1, USART_CR1_TCIE);     // UART_EndTransmit_IT
        tx_done = 1;
    }
}

// UART_DMATransmitCplt
static void tx_complete(dma_handle_t *h) {
    if (!(REG(dma_stream_base(h)) & DMA_CR_CIRC)) {
        atomic_clear_bits(&USART3_CR3, USART_CR3_DMAT);
        atomic_set_bits(&USART3_CR1, USART_CR1_TCIE);
    }
}

static void tx_half_complete(dma_handle_t *h) {
    (void)h;
    tx_half++;
}

// UART_DMAReceiveCplt
static void rx_complete(dma_handle_t *h) {
    if (!(REG(dma_stream_base(h)) & DMA_CR_CIRC)) {
        atomic_clear_bits(&USART3_CR1, USART_CR1_PEIE);
        atomic_clear_bits(&USART3_CR3, USART_CR3_EIE);
        atomic_clear_bits(&USART3_CR3, USART_CR3_DMAR);
    }
    rx_done = 1;
}

static void rx_half_complete(dma_handle_t *h) {
    (void)h;
    rx_half++;
}

static void dma_error(dma_handle_t *h) {
    (void)h;
    dma_errors++;
}

// HAL_DMA_Init for a USART stream: channel, direction, memory increment, bytes, direct
static void uart_dma_init(dma_handle_t *h, uint32_t channel, uint32_t dir) {
    h->config = DMA_CR_CHSEL(channel) | dir | DMA_CR_MINC | DMA_CR_PSIZE(0) | DMA_CR_MSIZE(0) |
                DMA_CR_PL(0);
    h->fifo = 0;
    h->xfer_error = dma_error;
    dma_init(h);
}

// HAL_UART_Transmit_DMA
static void transmit_dma(dma_handle_t *h, const char *data, uint32_t len) {
    tx_done = 0;
    h->xfer_cplt = tx_complete;
    h->xfer_half = tx_half_complete;
    dma_start_it(h, (uint32_t)data, (uint32_t)&USART3_DR, len);
    USART3_SR = ~USART_SR_TC;                               // __HAL_UART_CLEAR_FLAG(TC)
    atomic_set_bits(&USART3_CR3, USART_CR3_DMAT);
}

// HAL_UART_Receive_DMA
static void receive_dma(dma_handle_t *h, char *buf, uint32_t len) {
    volatile uint32_t tmp;
    rx_done = 0;
    h->xfer_cplt = rx_complete;
    h->xfer_half = rx_half_complete;
    dma_start_it(h, (uint32_t)&USART3_DR, (uint32_t)buf, len);
    tmp = USART3_SR;                                        // __HAL_UART_CLEAR_OREFLAG
    tmp = USART3_DR;
    (void)tmp;
    atomic_set_bits(&USART3_CR3, USART_CR3_EIE);
    atomic_set_bits(&USART3_CR3, USART_CR3_DMAR);
}

int main(void) {
    const char *failed = clock_init();
    uint32_t hz = sysclk_hz();
    uint8_t pattern[TEXT_LEN];

    console_init(failed ? 16000000u : hz / 4u);
    systick_init(failed ? 16000000u : hz);
    console_puts("dma uart\n");
    RCC_AHB1ENR |= 1u << 21;                                // __HAL_RCC_DMA1_CLK_ENABLE
    (void)RCC_AHB1ENR;
    irq_install(DMA1_STREAM1_IRQ, dma1_stream1_irq, 1);
    irq_install(DMA1_STREAM3_IRQ, dma1_stream3_irq, 1);
    irq_install(DMA1_STREAM4_IRQ, dma1_stream4_irq, 1);
    irq_install(USART3_IRQ, usart3_irq, 2);
    uart_dma_init(&hdma_tx, 4, DMA_CR_DIR_M2P);
    uart_dma_init(&hdma_tx_alt, 7, DMA_CR_DIR_M2P);
    uart_dma_init(&hdma_rx, 4, DMA_CR_DIR_P2M);

    // 1000 printable characters, a line feed every 50 (the test computes the same)
    fill_pattern(pattern, TEXT_LEN, 0x9E3779B9u);
    for (uint32_t i = 0; i < TEXT_LEN; i++) {
        text[i] = (i % 50 == 49) ? '\n' : (char)(' ' + pattern[i] % 95);
    }
    console_puts("<<<");
    transmit_dma(&hdma_tx, text, TEXT_LEN);
    if (!wait_flag(&tx_done, 1000)) {
        console_puts("\ntx timeout\n");
    }
    console_puts(">>>\ntx stream 3: half ");
    console_putu(tx_half);
    console_puts(" errors ");
    console_putu(dma_errors);
    console_puts(" ndtr ");
    console_putu(REG(dma_stream_base(&hdma_tx) + 4));
    console_puts("\n");

    transmit_dma(&hdma_tx_alt, "USART3_TX on DMA1 stream 4 channel 7\n", 37);
    if (!wait_flag(&tx_done, 1000)) {
        console_puts("tx alt timeout\n");
    }

    receive_dma(&hdma_rx, rx_buf, RX_LEN);
    console_puts("send 16 bytes\n");
    if (wait_flag(&rx_done, 20000)) {
        rx_buf[RX_LEN] = 0;
        console_puts("rx: ");
        console_puts(rx_buf);
        console_puts(" half ");
        console_putu(rx_half);
        console_puts(" dmar ");
        console_putu((USART3_CR3 >> 6) & 1u);
        console_puts("\n");
    } else {
        console_puts("rx timeout\n");
    }
    console_puts("done\n");
    for (;;) {
    }
}
