// CRYP and HASH fed by DMA2 the way ST's HAL does it (HAL_CRYP_Encrypt_DMA /
// HAL_CRYP_Decrypt_DMA with CRYP_SetDMAConfig, HAL_HASH_SHA1_Start_DMA / _MD5_ and
// HAL_HASH_*_Finish, HAL_HMAC_SHA1_Start_DMA with its three DMA steps): CRYP IN on stream 6
// and OUT on stream 5 (channel 2, direct mode, OUT at the higher priority), HASH IN on
// stream 7 (channel 2, FIFO half full), completion by the DMA interrupts.
#include "board.h"
#include "dma.h"

#define RCC_AHB2ENR         REG(RCC_BASE + 0x34)

#define CRYP_BASE           0x50060000u
#define CRYP_CR             REG(CRYP_BASE + 0x00)
#define CRYP_SR             REG(CRYP_BASE + 0x04)
#define CRYP_DIN            (CRYP_BASE + 0x08)
#define CRYP_DOUT           (CRYP_BASE + 0x0C)
#define CRYP_DMACR          REG(CRYP_BASE + 0x10)
#define CRYP_K(n)           REG(CRYP_BASE + 0x20 + 4u * (n))    // K0LR, K0RR, .. K3RR
#define CRYP_IV(n)          REG(CRYP_BASE + 0x40 + 4u * (n))    // IV0LR .. IV1RR
#define CRYP_CR_ALGODIR     (1u << 2)
#define CRYP_CR_ALGOMODE    (7u << 3)
#define CRYP_CR_DATATYPE    (3u << 6)
#define CRYP_CR_KEYSIZE     (3u << 8)
#define CRYP_CR_CRYPEN      (1u << 15)
#define CRYP_TDES_CBC       (1u << 3)
#define CRYP_AES_CBC        (5u << 3)
#define CRYP_AES_KEY        (7u << 3)
#define CRYP_DATATYPE_8B    (2u << 6)
#define CRYP_SR_BUSY        (1u << 4)
#define CRYP_DMACR_DIEN     (1u << 0)
#define CRYP_DMACR_DOEN     (1u << 1)

#define HASH_BASE           0x50060400u
#define HASH_CR             REG(HASH_BASE + 0x00)
#define HASH_DIN            (HASH_BASE + 0x04)
#define HASH_STR            REG(HASH_BASE + 0x08)
#define HASH_HR(n)          REG(HASH_BASE + 0x0C + 4u * (n))
#define HASH_SR             REG(HASH_BASE + 0x24)
#define HASH_CR_INIT        (1u << 2)
#define HASH_CR_DMAE        (1u << 3)
#define HASH_CR_DATATYPE    (3u << 4)
#define HASH_CR_MODE        (1u << 6)
#define HASH_CR_ALGO        ((1u << 18) | (1u << 7))
#define HASH_CR_LKEY        (1u << 16)
#define HASH_DATATYPE_8B    (2u << 4)
#define HASH_ALGO_SHA1      0u
#define HASH_ALGO_MD5       (1u << 7)
#define HASH_SR_DCIS        (1u << 1)

#define DMA2_STREAM5_IRQ    68
#define DMA2_STREAM6_IRQ    69
#define DMA2_STREAM7_IRQ    70

#define AES_LEN             8192u
#define TDES_LEN            2048u
#define HASH_LEN            1001u
#define KEY_LEN             20u

static uint8_t plain[AES_LEN], cipher[AES_LEN], back[AES_LEN];
static uint8_t key[32], iv[16], hmac_key[KEY_LEN];
static dma_handle_t hdma_in = {.dma = DMA2_BASE, .stream = 6};
static dma_handle_t hdma_out = {.dma = DMA2_BASE, .stream = 5};
static dma_handle_t hdma_hash = {.dma = DMA2_BASE, .stream = 7};
static volatile uint32_t cryp_in_done, cryp_out_done, hash_in_done, dma_errors;

static void dma2_stream5_irq(void) {
    dma_irq_handler(&hdma_out);
}

static void dma2_stream6_irq(void) {
    dma_irq_handler(&hdma_in);
}

static void dma2_stream7_irq(void) {
    dma_irq_handler(&hdma_hash);
}

static void dma_error(dma_handle_t *h) {
    (void)h;
    dma_errors++;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// --- CRYP ------------------------------------------------------------------------------

// CRYP_DMAInCplt
static void cryp_in_complete(dma_handle_t *h) {
    (void)h;
    CRYP_DMACR &= ~CRYP_DMACR_DIEN;
    cryp_in_done = 1;
}

// CRYP_DMAOutCplt
static void cryp_out_complete(dma_handle_t *h) {
    (void)h;
    CRYP_DMACR &= ~CRYP_DMACR_DOEN;
    CRYP_CR &= ~CRYP_CR_CRYPEN;
    cryp_out_done = 1;
}

// HAL_CRYP_MspInit of ST's CRYP DMA examples: IN stream 6, OUT stream 5, channel 2
static void cryp_dma_init(void) {
    hdma_in.config = DMA_CR_CHSEL(2) | DMA_CR_DIR_M2P | DMA_CR_MINC | DMA_CR_PSIZE(2) |
                     DMA_CR_MSIZE(2) | DMA_CR_PL(2);
    hdma_in.fifo = 0;
    hdma_in.xfer_error = dma_error;
    dma_init(&hdma_in);
    hdma_out.config = DMA_CR_CHSEL(2) | DMA_CR_DIR_P2M | DMA_CR_MINC | DMA_CR_PSIZE(2) |
                      DMA_CR_MSIZE(2) | DMA_CR_PL(3);
    hdma_out.fifo = 0;
    hdma_out.xfer_error = dma_error;
    dma_init(&hdma_out);
}

// CRYP_SetKey: AES-128 in K2LR..K3RR (registers 4..7), TDES K1LR..K3RR (2..7)
static void cryp_set_key(uint32_t first, uint32_t words) {
    for (uint32_t i = 0; i < words; i++) {
        CRYP_K(first + i) = be32(&key[4 * i]);
    }
}

// CRYP_SetDMAConfig
static bool cryp_run_dma(const uint8_t *in, uint8_t *out, uint32_t len) {
    cryp_in_done = 0;
    cryp_out_done = 0;
    hdma_in.xfer_cplt = cryp_in_complete;
    hdma_out.xfer_cplt = cryp_out_complete;
    CRYP_CR |= CRYP_CR_CRYPEN;
    dma_start_it(&hdma_in, (uint32_t)in, CRYP_DIN, len / 4);
    dma_start_it(&hdma_out, CRYP_DOUT, (uint32_t)out, len / 4);
    CRYP_DMACR = CRYP_DMACR_DOEN | CRYP_DMACR_DIEN;
    return wait_flag(&cryp_out_done, 1000) && cryp_in_done;
}

// HAL_CRYP_Init + HAL_CRYP_Encrypt_DMA / HAL_CRYP_Decrypt_DMA, AES-128-CBC
static bool aes_cbc_dma(const uint8_t *in, uint8_t *out, uint32_t len, bool decrypt) {
    CRYP_CR = (CRYP_CR & ~(CRYP_CR_DATATYPE | CRYP_CR_KEYSIZE | CRYP_CR_ALGOMODE)) |
              CRYP_DATATYPE_8B | CRYP_AES_CBC;
    CRYP_CR = (CRYP_CR & ~CRYP_CR_ALGODIR) | (decrypt ? CRYP_CR_ALGODIR : 0);
    cryp_set_key(4, 4);
    if (decrypt) {
        // key derivation for ECB/CBC decryption, then back to CBC
        uint32_t start = ticks_ms;
        CRYP_CR = (CRYP_CR & ~CRYP_CR_ALGOMODE) | CRYP_AES_KEY;
        CRYP_CR |= CRYP_CR_CRYPEN;
        while (CRYP_SR & CRYP_SR_BUSY) {
            if (ticks_ms - start > 82) {
                return false;
            }
        }
        CRYP_CR = (CRYP_CR & ~CRYP_CR_ALGOMODE) | CRYP_AES_CBC;
    }
    for (uint32_t i = 0; i < 4; i++) {
        CRYP_IV(i) = be32(&iv[4 * i]);
    }
    return cryp_run_dma(in, out, len);
}

static bool tdes_cbc_dma(const uint8_t *in, uint8_t *out, uint32_t len, bool decrypt) {
    CRYP_CR = (CRYP_CR & ~(CRYP_CR_DATATYPE | CRYP_CR_KEYSIZE | CRYP_CR_ALGOMODE)) |
              CRYP_DATATYPE_8B | CRYP_TDES_CBC;
    CRYP_CR = (CRYP_CR & ~CRYP_CR_ALGODIR) | (decrypt ? CRYP_CR_ALGODIR : 0);
    cryp_set_key(2, 6);
    CRYP_IV(0) = be32(&iv[0]);
    CRYP_IV(1) = be32(&iv[4]);
    return cryp_run_dma(in, out, len);
}

static void report(const char *name, bool ok, const uint8_t *data, uint32_t len) {
    console_puts(name);
    console_puts(ok ? ": fnv " : ": FAILED fnv ");
    put_hex32(fnv1a(data, len));
    console_puts(" head ");
    put_hex(data, 16);
    console_puts("\n");
}

// --- HASH ------------------------------------------------------------------------------

static uint32_t hmac_step;
static const uint8_t *hmac_msg;
static uint32_t hmac_msg_len;

static void hash_start_dma_stream(const uint8_t *data, uint32_t len) {
    HASH_STR = (HASH_STR & ~0x1Fu) | 8u * (len % 4u);       // __HAL_HASH_SET_NBVALIDBITS
    dma_start_it(&hdma_hash, (uint32_t)data, HASH_DIN, (len + 3u) / 4u);
    HASH_CR |= HASH_CR_DMAE;
}

// HASH_DMAXferCplt, including the HMAC step changes
static void hash_in_complete(dma_handle_t *h) {
    (void)h;
    HASH_CR &= ~HASH_CR_DMAE;
    if (!(HASH_CR & HASH_CR_MODE) || hmac_step == 3) {
        hash_in_done = 1;
        return;
    }
    if (hmac_step == 1) {
        hmac_step = 2;
        hash_start_dma_stream(hmac_msg, hmac_msg_len);
    } else {
        hmac_step = 3;
        hash_start_dma_stream(hmac_key, KEY_LEN);
    }
}

// HAL_HASH_MspInit of ST's HASH_SHA1MD5_DMA example: stream 7, FIFO half full
static void hash_dma_init(void) {
    hdma_hash.config = DMA_CR_CHSEL(2) | DMA_CR_DIR_M2P | DMA_CR_MINC | DMA_CR_PSIZE(2) |
                       DMA_CR_MSIZE(2) | DMA_CR_PL(2);
    hdma_hash.fifo = DMA_FCR_DMDIS | DMA_FCR_FTH(1);
    hdma_hash.xfer_cplt = hash_in_complete;
    hdma_hash.xfer_error = dma_error;
    dma_init(&hdma_hash);
}

// HAL_HASH_Init (data type), HASH_Start_DMA, then HASH_Finish
static bool hash_dma(uint32_t algo, uint32_t mode, const uint8_t *data, uint32_t len,
                     uint8_t *digest, uint32_t words) {
    uint32_t start;

    HASH_CR = (HASH_CR & ~HASH_CR_DATATYPE) | HASH_DATATYPE_8B;
    hash_in_done = 0;
    HASH_CR = (HASH_CR & ~(HASH_CR_LKEY | HASH_CR_ALGO | HASH_CR_MODE | HASH_CR_INIT)) |
              algo | mode | HASH_CR_INIT;
    hash_start_dma_stream(data, len);
    if (!wait_flag(&hash_in_done, 1000)) {
        return false;
    }
    start = ticks_ms;
    while (!(HASH_SR & HASH_SR_DCIS)) {
        if (ticks_ms - start > 255u) {
            return false;
        }
    }
    for (uint32_t i = 0; i < words; i++) {
        uint32_t w = HASH_HR(i);
        digest[4 * i] = (uint8_t)(w >> 24);
        digest[4 * i + 1] = (uint8_t)(w >> 16);
        digest[4 * i + 2] = (uint8_t)(w >> 8);
        digest[4 * i + 3] = (uint8_t)w;
    }
    return true;
}

static void report_digest(const char *name, bool ok, const uint8_t *digest, uint32_t len) {
    console_puts(name);
    console_puts(ok ? ": " : ": FAILED ");
    put_hex(digest, len);
    console_puts("\n");
}

int main(void) {
    const char *failed = clock_init();
    uint32_t hz = sysclk_hz();
    uint8_t digest[20];
    bool ok;

    console_init(failed ? 16000000u : hz / 4u);
    systick_init(failed ? 16000000u : hz);
    console_puts("dma crypto\n");
    RCC_AHB1ENR |= 1u << 22;                                // DMA2
    (void)RCC_AHB1ENR;
    RCC_AHB2ENR |= (1u << 4) | (1u << 5);                   // CRYP, HASH
    (void)RCC_AHB2ENR;
    irq_install(DMA2_STREAM5_IRQ, dma2_stream5_irq, 15);
    irq_install(DMA2_STREAM6_IRQ, dma2_stream6_irq, 15);
    irq_install(DMA2_STREAM7_IRQ, dma2_stream7_irq, 15);

    fill_pattern(plain, AES_LEN, 0xA5A5A5A5u);
    fill_pattern(key, sizeof(key), 0x01234567u);
    fill_pattern(iv, sizeof(iv), 0x89ABCDEFu);
    fill_pattern(hmac_key, sizeof(hmac_key), 0x0BADF00Du);

    cryp_dma_init();
    ok = aes_cbc_dma(plain, cipher, AES_LEN, false);
    report("aes-128-cbc encrypt 8192", ok && !dma_errors, cipher, AES_LEN);
    ok = aes_cbc_dma(cipher, back, AES_LEN, true);
    console_puts(ok && memcmp(back, plain, AES_LEN) == 0 ? "aes-128-cbc decrypt 8192: match\n"
                                                        : "aes-128-cbc decrypt 8192: MISMATCH\n");
    ok = tdes_cbc_dma(plain, cipher, TDES_LEN, false);
    report("tdes-cbc encrypt 2048", ok && !dma_errors, cipher, TDES_LEN);
    ok = tdes_cbc_dma(cipher, back, TDES_LEN, true);
    console_puts(ok && memcmp(back, plain, TDES_LEN) == 0 ? "tdes-cbc decrypt 2048: match\n"
                                                         : "tdes-cbc decrypt 2048: MISMATCH\n");

    hash_dma_init();
    ok = hash_dma(HASH_ALGO_SHA1, 0, plain, HASH_LEN, digest, 5);
    report_digest("sha1 1001", ok, digest, 20);
    ok = hash_dma(HASH_ALGO_MD5, 0, plain, HASH_LEN, digest, 4);
    report_digest("md5 1001", ok, digest, 16);
    ok = hash_dma(HASH_ALGO_SHA1, 0, plain, 64, digest, 5);
    report_digest("sha1 64", ok, digest, 20);
    hmac_step = 1;
    hmac_msg = plain;
    hmac_msg_len = 333;
    ok = hash_dma(HASH_ALGO_SHA1, HASH_CR_MODE, hmac_key, KEY_LEN, digest, 5);
    report_digest("hmac-sha1 333", ok, digest, 20);
    hmac_step = 1;
    ok = hash_dma(HASH_ALGO_MD5, HASH_CR_MODE, hmac_key, KEY_LEN, digest, 4);
    report_digest("hmac-md5 333", ok, digest, 16);
    console_puts("dma errors ");
    console_putu(dma_errors);
    console_puts("\ndone\n");
    for (;;) {
    }
}
