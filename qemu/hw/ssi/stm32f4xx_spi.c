/*
 * STM32F4xx serial peripheral interface (SPI1..SPI5)
 *
 * Reference: RM0383 rev 3 (STM32F411xC/E), section 20 "Serial peripheral
 * interface / inter-IC sound (SPI/I2S)"; the same block as RM0090 section 28.
 *
 * The SPI is the master of an SSI bus; the board wires its chip selects to
 * GPIO pins. A frame written to DR goes to the transmit buffer (TXE = 0);
 * with SPE and MSTR set it is shifted out at once: exactly one frame is
 * clocked per DR write (QEMU's stm32f2xx_spi also clocks a frame on every
 * DR read, which a W5100 takes as the start of a new command). The frame
 * clocked in lands in the receive buffer with RXNE; if RXNE is still set it
 * is lost and OVR is set (20.4.8). A DR read returns the receive buffer and
 * clears RXNE. Transfers take no time, so BSY always reads 0 and TXE is set
 * again by the time the DR write returns.
 *
 * 8-bit frames (DFF = 0) are one ssi_transfer() of a byte; 16-bit frames are
 * two, most significant byte first (LSBFIRST reverses the bits of the whole
 * frame, so then the least significant byte goes first): the SSI devices
 * QEMU has are byte-wide. LSBFIRST is modelled by reversing the bit order on
 * the way out and in. Hardware CRC (CRCEN, CRCNEXT, CRCPR, RXCRCR, TXCRCR,
 * CRCERR) is computed MSB first over each frame as 20.4.12 describes.
 *
 * Interrupt: TXEIE with TXE, RXNEIE with RXNE, ERRIE with OVR, MODF or
 * CRCERR. DMA requests: outputs "dma-tx" (TXDMAEN and TXE; held low while
 * RXDMAEN and RXNE, see stm32f4xx_spi_update) and "dma-rx" (RXDMAEN and
 * RXNE).
 *
 * Not modelled: slave mode (MSTR = 0 leaves written frames in the transmit
 * buffer), receive-only and bidirectional receive modes, the TI frame
 * format, the NSS pin as an input (with SSM = 0 it is taken as high), the
 * baud rate, the I2S mode (I2SCFGR and I2SPR are stored): each is logged as
 * unimplemented when selected.
 *
 * Access widths (RM0383 20.5: half-word or word): every register takes
 * half-words and words; DR also takes bytes in 8-bit mode, as ST's HAL
 * reads and writes it (*(__IO uint8_t *)&SPIx->DR).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bitops.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/ssi/stm32f4xx_spi.h"
#include "hw/misc/stm32f4xx_regs.h"
#include "trace.h"

REG32(CR1, 0x00)
    FIELD(CR1, CPHA, 0, 1)
    FIELD(CR1, CPOL, 1, 1)
    FIELD(CR1, MSTR, 2, 1)
    FIELD(CR1, BR, 3, 3)
    FIELD(CR1, SPE, 6, 1)
    FIELD(CR1, LSBFIRST, 7, 1)
    FIELD(CR1, SSI, 8, 1)
    FIELD(CR1, SSM, 9, 1)
    FIELD(CR1, RXONLY, 10, 1)
    FIELD(CR1, DFF, 11, 1)
    FIELD(CR1, CRCNEXT, 12, 1)
    FIELD(CR1, CRCEN, 13, 1)
    FIELD(CR1, BIDIOE, 14, 1)
    FIELD(CR1, BIDIMODE, 15, 1)
REG32(CR2, 0x04)
    FIELD(CR2, RXDMAEN, 0, 1)
    FIELD(CR2, TXDMAEN, 1, 1)
    FIELD(CR2, SSOE, 2, 1)
    FIELD(CR2, FRF, 4, 1)
    FIELD(CR2, ERRIE, 5, 1)
    FIELD(CR2, RXNEIE, 6, 1)
    FIELD(CR2, TXEIE, 7, 1)
REG32(SR, 0x08)
    FIELD(SR, RXNE, 0, 1)
    FIELD(SR, TXE, 1, 1)
    FIELD(SR, CHSIDE, 2, 1)
    FIELD(SR, UDR, 3, 1)
    FIELD(SR, CRCERR, 4, 1)
    FIELD(SR, MODF, 5, 1)
    FIELD(SR, OVR, 6, 1)
    FIELD(SR, BSY, 7, 1)
    FIELD(SR, FRE, 8, 1)
REG32(DR, 0x0C)
REG32(CRCPR, 0x10)
REG32(RXCRCR, 0x14)
REG32(TXCRCR, 0x18)
REG32(I2SCFGR, 0x1C)
    FIELD(I2SCFGR, I2SMOD, 11, 1)
REG32(I2SPR, 0x20)

#define CR2_WMASK       0x00F7
#define I2SCFGR_WMASK   0x0FBF
#define I2SPR_WMASK     0x03FF
#define SR_RESET        R_SR_TXE_MASK
#define CRCPR_RESET     0x0007
#define I2SPR_RESET     0x0002

static bool spi_16bit(STM32F4xxSpiState *s)
{
    return FIELD_EX32(s->cr1, CR1, DFF);
}

static void stm32f4xx_spi_update(STM32F4xxSpiState *s)
{
    bool txe = s->sr & R_SR_TXE_MASK;
    bool rxne = s->sr & R_SR_RXNE_MASK;
    bool err = s->sr & (R_SR_OVR_MASK | R_SR_MODF_MASK | R_SR_CRCERR_MASK);

    qemu_set_irq(s->irq, (FIELD_EX32(s->cr2, CR2, TXEIE) && txe) ||
                         (FIELD_EX32(s->cr2, CR2, RXNEIE) && rxne) ||
                         (FIELD_EX32(s->cr2, CR2, ERRIE) && err));
    /*
     * A frame takes no time here, while on silicon the RX stream reads DR long
     * before the next frame is shifted in: hold the TX request while a frame
     * waits for the RX stream, so full-duplex DMA never overruns whichever
     * stream the arbiter serves first.
     */
    qemu_set_irq(s->dma_tx, FIELD_EX32(s->cr2, CR2, TXDMAEN) && txe &&
                            !(FIELD_EX32(s->cr2, CR2, RXDMAEN) && rxne));
    qemu_set_irq(s->dma_rx, FIELD_EX32(s->cr2, CR2, RXDMAEN) && rxne);
}

/* CRC over one frame, MSB first, with CRCPR as polynomial (RM0383 20.4.12) */
static uint16_t spi_crc(uint16_t crc, uint16_t poly, uint16_t frame, int bits)
{
    uint16_t top = 1u << (bits - 1);
    int i;

    for (i = bits - 1; i >= 0; i--) {
        bool feedback = !!(crc & top) ^ !!(frame & (1u << i));

        crc <<= 1;
        if (feedback) {
            crc ^= poly;
        }
    }
    return bits == 8 ? crc & 0xFF : crc;
}

/* One frame on the wire: the bytes in bus order, the answer in DR's order */
static uint16_t spi_shift(STM32F4xxSpiState *s, uint16_t out)
{
    int bits = spi_16bit(s) ? 16 : 8;
    bool lsb = FIELD_EX32(s->cr1, CR1, LSBFIRST);
    uint16_t wire = lsb ? revbit32(out) >> (32 - bits) : out;
    uint16_t in;

    if (bits == 16) {
        in = (ssi_transfer(s->ssi, wire >> 8) & 0xFF) << 8;
        in |= ssi_transfer(s->ssi, wire & 0xFF) & 0xFF;
    } else {
        in = ssi_transfer(s->ssi, wire) & 0xFF;
    }
    return lsb ? revbit32(in) >> (32 - bits) : in;
}

static void spi_receive(STM32F4xxSpiState *s, uint16_t in)
{
    if (FIELD_EX32(s->cr1, CR1, BIDIMODE)) {
        return;     /* transmit-only half duplex: MISO is not used */
    }
    if (s->sr & R_SR_RXNE_MASK) {
        /* 20.4.8: the new frame is lost, DR keeps the unread one */
        s->sr |= R_SR_OVR_MASK;
        trace_stm32f4xx_spi_overrun(in);
        return;
    }
    s->rx_buf = in;
    s->sr |= R_SR_RXNE_MASK;
}

static bool spi_can_shift(STM32F4xxSpiState *s)
{
    if (!FIELD_EX32(s->cr1, CR1, SPE)) {
        return false;
    }
    if (!FIELD_EX32(s->cr1, CR1, MSTR)) {
        qemu_log_mask(LOG_UNIMP, "%s: slave mode is not modelled: the frame "
                      "stays in the transmit buffer\n", __func__);
        return false;
    }
    return true;
}

/* Shift out the transmit buffer (and a CRC after it, with CRCNEXT) */
static void stm32f4xx_spi_run(STM32F4xxSpiState *s)
{
    int bits = spi_16bit(s) ? 16 : 8;
    bool crcen = FIELD_EX32(s->cr1, CR1, CRCEN);
    uint16_t in;

    if (!spi_can_shift(s)) {
        return;
    }
    if (!(s->sr & R_SR_TXE_MASK)) {
        s->sr |= R_SR_TXE_MASK;
        in = spi_shift(s, s->tx_buf);
        trace_stm32f4xx_spi_transfer(s->tx_buf, in);
        if (crcen) {
            s->txcrc = spi_crc(s->txcrc, s->crcpr, s->tx_buf, bits);
            s->rxcrc = spi_crc(s->rxcrc, s->crcpr, in, bits);
        }
        spi_receive(s, in);
    }
    if (crcen && FIELD_EX32(s->cr1, CR1, CRCNEXT)) {
        /* the CRC follows the last frame; the one received must match */
        s->cr1 = FIELD_DP32(s->cr1, CR1, CRCNEXT, 0);
        in = spi_shift(s, s->txcrc);
        trace_stm32f4xx_spi_transfer(s->txcrc, in);
        if (in != s->rxcrc) {
            s->sr |= R_SR_CRCERR_MASK;
        }
        spi_receive(s, in);
    }
}

static void stm32f4xx_spi_check_modes(STM32F4xxSpiState *s)
{
    if (FIELD_EX32(s->cr1, CR1, BIDIMODE) ?
        !FIELD_EX32(s->cr1, CR1, BIDIOE) : FIELD_EX32(s->cr1, CR1, RXONLY)) {
        qemu_log_mask(LOG_UNIMP, "%s: receive-only modes are not modelled\n",
                      __func__);
    }
    if (FIELD_EX32(s->cr2, CR2, FRF)) {
        qemu_log_mask(LOG_UNIMP, "%s: TI frame format is not modelled\n",
                      __func__);
    }
    if (FIELD_EX32(s->i2scfgr, I2SCFGR, I2SMOD)) {
        qemu_log_mask(LOG_UNIMP, "%s: I2S mode is not modelled\n", __func__);
    }
}

static void stm32f4xx_spi_write_cr1(STM32F4xxSpiState *s, uint16_t value)
{
    uint16_t old = s->cr1;

    if (s->sr_read_modf) {
        /* 20.4.8: MODF clears with an SR read then a CR1 write */
        s->sr &= ~R_SR_MODF_MASK;
        s->sr_read_modf = false;
    }
    if (FIELD_EX32(old, CR1, SPE) &&
        (old ^ value) & (R_CR1_DFF_MASK | R_CR1_CRCEN_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DFF and CRCEN must only change "
                      "while SPE = 0\n", __func__);
    }
    if (!FIELD_EX32(old, CR1, CRCEN) && FIELD_EX32(value, CR1, CRCEN)) {
        s->txcrc = 0;
        s->rxcrc = 0;
    }
    s->cr1 = value;
    /* 20.3.1: NSS low on a master (SSM with SSI = 0) is a mode fault */
    if (FIELD_EX32(value, CR1, MSTR) && FIELD_EX32(value, CR1, SSM) &&
        !FIELD_EX32(value, CR1, SSI) && FIELD_EX32(value, CR1, SPE)) {
        s->sr |= R_SR_MODF_MASK;
        s->cr1 &= ~(R_CR1_SPE_MASK | R_CR1_MSTR_MASK);
        qemu_log_mask(LOG_GUEST_ERROR, "%s: master with NSS low (SSM = 1, "
                      "SSI = 0): mode fault\n", __func__);
    }
    stm32f4xx_spi_check_modes(s);
    stm32f4xx_spi_run(s);
}

static uint64_t stm32f4xx_spi_read(void *opaque, hwaddr addr, unsigned size)
{
    STM32F4xxSpiState *s = opaque;
    hwaddr reg = addr & ~(hwaddr)3;
    uint32_t value = 0;

    if (reg == A_DR && size == 1 && addr == A_DR && !spi_16bit(s)) {
        /* the HAL's byte read of DR in 8-bit mode */
    } else if (!stm32f4xx_reg_width_ok(__func__, addr, size,
                                       STM32F4XX_REG_HALFWORD, false)) {
        return 0;
    }
    switch (reg) {
    case A_CR1:
        value = s->cr1;
        break;
    case A_CR2:
        value = s->cr2;
        break;
    case A_SR:
        value = s->sr;
        if (s->sr & R_SR_MODF_MASK) {
            s->sr_read_modf = true;
        }
        if (s->dr_read_ovr) {
            /* 20.4.8: OVR clears with a DR read then an SR read */
            s->sr &= ~R_SR_OVR_MASK;
            s->dr_read_ovr = false;
        }
        break;
    case A_DR:
        value = s->rx_buf;
        if (addr == A_DR) {
            s->sr &= ~R_SR_RXNE_MASK;
            s->dr_read_ovr = s->sr & R_SR_OVR_MASK;
        }
        break;
    case A_CRCPR:
        value = s->crcpr;
        break;
    case A_RXCRCR:
        value = s->rxcrc;
        break;
    case A_TXCRCR:
        value = s->txcrc;
        break;
    case A_I2SCFGR:
        value = s->i2scfgr;
        break;
    case A_I2SPR:
        value = s->i2spr;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        return 0;
    }
    value = stm32f4xx_reg_extract(value, addr, size);
    trace_stm32f4xx_spi_read(addr, size, value);
    stm32f4xx_spi_update(s);
    return value;
}

static void stm32f4xx_spi_write(void *opaque, hwaddr addr, uint64_t val64,
                                unsigned size)
{
    STM32F4xxSpiState *s = opaque;
    STM32F4xxRegAccess a = stm32f4xx_reg_access(addr, val64, size);
    uint16_t value;

    if (a.offset == A_DR && size == 1 && addr == A_DR && !spi_16bit(s)) {
        /* the HAL's byte write of DR in 8-bit mode */
    } else if (!stm32f4xx_reg_width_ok(__func__, addr, size,
                                       STM32F4XX_REG_HALFWORD, true)) {
        return;
    }
    trace_stm32f4xx_spi_write(addr, size, val64);
    if (!(a.lanes & 0xFFFF)) {
        /* the upper half-word of every register is reserved */
        stm32f4xx_spi_update(s);
        return;
    }
    switch (a.offset) {
    case A_CR1:
        stm32f4xx_spi_write_cr1(s, stm32f4xx_reg_merge(s->cr1, &a));
        break;
    case A_CR2:
        value = stm32f4xx_reg_merge(s->cr2, &a);
        if (value & ~CR2_WMASK) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: CR2: reserved bits 0x%04x\n",
                          __func__, value & ~CR2_WMASK);
        }
        s->cr2 = value & CR2_WMASK;
        stm32f4xx_spi_check_modes(s);
        break;
    case A_SR:
        /* CRCERR is cleared by writing 0; the other flags are read-only */
        if (!(a.data & R_SR_CRCERR_MASK)) {
            s->sr &= ~R_SR_CRCERR_MASK;
        }
        break;
    case A_DR:
        s->tx_buf = spi_16bit(s) ? a.data & 0xFFFF : a.data & 0xFF;
        if (!(s->sr & R_SR_TXE_MASK)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: DR written with TXE = 0: the "
                          "previous frame is overwritten\n", __func__);
        }
        s->sr &= ~R_SR_TXE_MASK;
        stm32f4xx_spi_run(s);
        break;
    case A_CRCPR:
        if (FIELD_EX32(s->cr1, CR1, SPE)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: CRCPR written while SPE = 1\n",
                          __func__);
        }
        s->crcpr = stm32f4xx_reg_merge(s->crcpr, &a);
        break;
    case A_RXCRCR:
    case A_TXCRCR:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CRC registers are read-only\n",
                      __func__);
        break;
    case A_I2SCFGR:
        s->i2scfgr = stm32f4xx_reg_merge(s->i2scfgr, &a) & I2SCFGR_WMASK;
        stm32f4xx_spi_check_modes(s);
        break;
    case A_I2SPR:
        s->i2spr = stm32f4xx_reg_merge(s->i2spr, &a) & I2SPR_WMASK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: bad offset 0x%" HWADDR_PRIx "\n",
                      __func__, addr);
        break;
    }
    stm32f4xx_spi_update(s);
}

static const MemoryRegionOps stm32f4xx_spi_ops = {
    .read = stm32f4xx_spi_read,
    .write = stm32f4xx_spi_write,
    STM32F4XX_REG_ACCESS_SIZES,
};

static void stm32f4xx_spi_reset_hold(Object *obj, ResetType type)
{
    STM32F4xxSpiState *s = STM32F4XX_SPI(obj);

    s->cr1 = 0;
    s->cr2 = 0;
    s->sr = SR_RESET;
    s->tx_buf = 0;
    s->rx_buf = 0;
    s->crcpr = CRCPR_RESET;
    s->rxcrc = 0;
    s->txcrc = 0;
    s->i2scfgr = 0;
    s->i2spr = I2SPR_RESET;
    s->sr_read_modf = false;
    s->dr_read_ovr = false;
}

static void stm32f4xx_spi_reset_exit(Object *obj, ResetType type)
{
    stm32f4xx_spi_update(STM32F4XX_SPI(obj));
}

static void stm32f4xx_spi_init(Object *obj)
{
    STM32F4xxSpiState *s = STM32F4XX_SPI(obj);
    DeviceState *dev = DEVICE(obj);

    memory_region_init_io(&s->mmio, obj, &stm32f4xx_spi_ops, s,
                          TYPE_STM32F4XX_SPI, 0x400);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->mmio);
    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);
    qdev_init_gpio_out_named(dev, &s->dma_tx, "dma-tx", 1);
    qdev_init_gpio_out_named(dev, &s->dma_rx, "dma-rx", 1);
    s->ssi = ssi_create_bus(dev, "ssi");
}

static const VMStateDescription vmstate_stm32f4xx_spi = {
    .name = TYPE_STM32F4XX_SPI,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(cr1, STM32F4xxSpiState),
        VMSTATE_UINT16(cr2, STM32F4xxSpiState),
        VMSTATE_UINT16(sr, STM32F4xxSpiState),
        VMSTATE_UINT16(tx_buf, STM32F4xxSpiState),
        VMSTATE_UINT16(rx_buf, STM32F4xxSpiState),
        VMSTATE_UINT16(crcpr, STM32F4xxSpiState),
        VMSTATE_UINT16(rxcrc, STM32F4xxSpiState),
        VMSTATE_UINT16(txcrc, STM32F4xxSpiState),
        VMSTATE_UINT16(i2scfgr, STM32F4xxSpiState),
        VMSTATE_UINT16(i2spr, STM32F4xxSpiState),
        VMSTATE_BOOL(sr_read_modf, STM32F4xxSpiState),
        VMSTATE_BOOL(dr_read_ovr, STM32F4xxSpiState),
        VMSTATE_END_OF_LIST()
    }
};

static void stm32f4xx_spi_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    rc->phases.hold = stm32f4xx_spi_reset_hold;
    rc->phases.exit = stm32f4xx_spi_reset_exit;
    dc->vmsd = &vmstate_stm32f4xx_spi;
}

static const TypeInfo stm32f4xx_spi_types[] = {
    {
        .name          = TYPE_STM32F4XX_SPI,
        .parent        = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(STM32F4xxSpiState),
        .instance_init = stm32f4xx_spi_init,
        .class_init    = stm32f4xx_spi_class_init,
    },
};

DEFINE_TYPES(stm32f4xx_spi_types)
