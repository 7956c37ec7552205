/*
 * Ilitek ILI9325 a-Si TFT LCD single-chip driver (240RGB x 320, 262K colour)
 *
 * Reference: ILI9325 datasheet (ILI Technology Corp., V0.43): 7.2.2 i80
 * 16-bit system interface, 8 register descriptions (R00h..R98h), 10 GRAM
 * address map, 11 window address function; and what ST's STM324xG-EVAL BSP
 * (ili9325.c, stm324xg_eval_lcd.c) relies on.
 *
 * Bus: the 16-bit i80 interface with RS on the FSMC's A0 (byte offset 0: the
 * index register, offset 2: the register or GRAM data port). The ILI9325 has
 * no byte lanes: a byte access is a guest error and moves a whole word (the
 * other byte reads as 0). Writing the index selects a register (IR[7:0]);
 * data writes and reads then go to that register.
 *
 * Modelled:
 * - R00h reads the driver code 0x9325 (a write starts the oscillator).
 * - R03h entry mode: I/D[1:0] and AM drive the address counter (AC) after
 *   each GRAM access inside the window R50h..R53h (HSA/HEA, VSA/VEA): AM=0
 *   moves AD[7:0] first, AM=1 moves AD[16:8] first, and at the window's edge
 *   the other coordinate steps and the first wraps. BGR=1 swaps the R and B
 *   fields of the written data on its way into GRAM (reads return GRAM as
 *   stored). TRI=0/DFM=0 only (one 16-bit RGB565 transfer per pixel).
 * - R20h/R21h set AC; R22h writes GRAM at AC, or reads it through the read
 *   latch: the first read after setting AC returns stale data (the
 *   datasheet's dummy read), each read then returns the pixel the previous
 *   read fetched.
 * - The panel: R01h.SS mirrors the sources, R60h.GS reverses the gate scan,
 *   R61h.VLE with R6Ah scrolls the base image, R61h.REV inverts grey levels
 *   (REV=1 is the normal picture on the normally-black panels these modules
 *   use, as ST and every ILI9325 driver set it). The picture shows only with
 *   the display on: R07h D[1:0]=11, DTE, GON and BASEE set, and R10h STB and
 *   SLP clear; otherwise the screen is black.
 * - Every other register is stored and reads back.
 *
 * The screen is a QEMU graphic console of the mounted panel: the "rotation"
 * property turns the native portrait picture (S1 at the left, G1 at the top)
 * clockwise by 0, 90, 180 or 270 degrees. The sub-pixels are B, G, R from S1
 * (which is why BGR=1 shows RGB565 data in its true colours).
 *
 * Not modelled: partial images (R80h..R85h, PTDE), the resizing function
 * (R04h), interlaced gate scan (SM), NL/SCN (the panel always has 320
 * lines), 8/9/18-bit and serial interfaces, TRI/DFM transfer modes, the RGB
 * and VSYNC interfaces, frame timing, OTP, power supply sequencing. GRAM is
 * zero (black) at reset; the datasheet leaves it undefined.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/registerfields.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/display/ili9325.h"
#include "ui/console.h"
#include "trace.h"

/* Register indexes (the index register selects one of these) */
#define R_ID                0x00    /* driver code read */
#define R_DRIVER_OUTPUT     0x01
    FIELD(DRIVER_OUTPUT, SS, 8, 1)
    FIELD(DRIVER_OUTPUT, SM, 10, 1)
#define R_ENTRY_MODE        0x03
    FIELD(ENTRY_MODE, AM, 3, 1)
    FIELD(ENTRY_MODE, ID, 4, 2)
    FIELD(ENTRY_MODE, ORG, 7, 1)
    FIELD(ENTRY_MODE, BGR, 12, 1)
    FIELD(ENTRY_MODE, DFM, 14, 1)
    FIELD(ENTRY_MODE, TRI, 15, 1)
#define R_RESIZE            0x04
#define R_DISPLAY_CTRL1     0x07
    FIELD(DISPLAY_CTRL1, D, 0, 2)
    FIELD(DISPLAY_CTRL1, DTE, 4, 1)
    FIELD(DISPLAY_CTRL1, GON, 5, 1)
    FIELD(DISPLAY_CTRL1, BASEE, 8, 1)
    FIELD(DISPLAY_CTRL1, PTDE, 12, 2)
#define R_POWER_CTRL1       0x10
    FIELD(POWER_CTRL1, STB, 0, 1)
    FIELD(POWER_CTRL1, SLP, 1, 1)
#define R_GRAM_H            0x20    /* AD[7:0] */
#define R_GRAM_V            0x21    /* AD[16:8] */
#define R_GRAM_DATA         0x22
#define R_HSA               0x50
#define R_HEA               0x51
#define R_VSA               0x52
#define R_VEA               0x53
#define R_GATE_SCAN         0x60
    FIELD(GATE_SCAN, SCN, 0, 6)
    FIELD(GATE_SCAN, NL, 8, 6)
    FIELD(GATE_SCAN, GS, 15, 1)
#define R_BASE_IMAGE        0x61
    FIELD(BASE_IMAGE, REV, 0, 1)
    FIELD(BASE_IMAGE, VLE, 1, 1)
    FIELD(BASE_IMAGE, NDL, 2, 1)
#define R_SCROLL            0x6A

#define ILI9325_ID          0x9325
/* NL for the 320 lines of this panel */
#define NL_320_LINES        0x27
/* D[1:0]=11, DTE, GON, BASEE: the normal display */
#define DISPLAY_ON_MASK     (R_DISPLAY_CTRL1_D_MASK | \
                             R_DISPLAY_CTRL1_DTE_MASK | \
                             R_DISPLAY_CTRL1_GON_MASK | \
                             R_DISPLAY_CTRL1_BASEE_MASK)

static uint16_t swap_rb(uint16_t rgb565)
{
    return (rgb565 >> 11) | (rgb565 & 0x07E0) | (rgb565 << 11);
}

static bool ili9325_display_on(ILI9325State *s)
{
    return (s->regs[R_DISPLAY_CTRL1] & DISPLAY_ON_MASK) == DISPLAY_ON_MASK &&
           !(s->regs[R_POWER_CTRL1] &
             (R_POWER_CTRL1_STB_MASK | R_POWER_CTRL1_SLP_MASK));
}

/* Step the address counter after a GRAM access, inside the window */
static void ili9325_advance(ILI9325State *s)
{
    uint16_t entry = s->regs[R_ENTRY_MODE];
    unsigned id = FIELD_EX16(entry, ENTRY_MODE, ID);
    bool h_inc = id & 1, v_inc = id & 2;
    uint16_t hsa = s->regs[R_HSA], hea = s->regs[R_HEA];
    uint16_t vsa = s->regs[R_VSA], vea = s->regs[R_VEA];
    bool carry;

    if (!FIELD_EX16(entry, ENTRY_MODE, AM)) {
        /* Horizontal first, then the next (or previous) line */
        if (h_inc) {
            carry = s->ac_h >= hea;
            s->ac_h = carry ? hsa : s->ac_h + 1;
        } else {
            carry = s->ac_h <= hsa;
            s->ac_h = carry ? hea : s->ac_h - 1;
        }
        if (carry) {
            if (v_inc) {
                s->ac_v = s->ac_v >= vea ? vsa : s->ac_v + 1;
            } else {
                s->ac_v = s->ac_v <= vsa ? vea : s->ac_v - 1;
            }
        }
    } else {
        /* Vertical first, then the next (or previous) column */
        if (v_inc) {
            carry = s->ac_v >= vea;
            s->ac_v = carry ? vsa : s->ac_v + 1;
        } else {
            carry = s->ac_v <= vsa;
            s->ac_v = carry ? vea : s->ac_v - 1;
        }
        if (carry) {
            if (h_inc) {
                s->ac_h = s->ac_h >= hea ? hsa : s->ac_h + 1;
            } else {
                s->ac_h = s->ac_h <= hsa ? hea : s->ac_h - 1;
            }
        }
    }
}

static bool ili9325_ac_valid(ILI9325State *s, const char *what)
{
    if (s->ac_h < ILI9325_SOURCES && s->ac_v < ILI9325_GATES) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "ili9325: GRAM %s at AD[7:0]=0x%02x "
                  "AD[16:8]=0x%03x, outside the 240x320 GRAM: ignored\n",
                  what, s->ac_h, s->ac_v);
    return false;
}

static void ili9325_gram_write(ILI9325State *s, uint16_t value)
{
    if (ili9325_ac_valid(s, "write")) {
        if (FIELD_EX16(s->regs[R_ENTRY_MODE], ENTRY_MODE, BGR)) {
            value = swap_rb(value);
        }
        trace_ili9325_gram_write(s->ac_h, s->ac_v, value);
        s->gram[s->ac_v * ILI9325_SOURCES + s->ac_h] = value;
        s->redraw = true;
    }
    ili9325_advance(s);
}

static uint16_t ili9325_gram_read(ILI9325State *s)
{
    uint16_t value = s->rdr;

    if (ili9325_ac_valid(s, "read")) {
        s->rdr = s->gram[s->ac_v * ILI9325_SOURCES + s->ac_h];
    }
    trace_ili9325_gram_read(s->ac_h, s->ac_v, value);
    ili9325_advance(s);
    return value;
}

static void ili9325_reg_write(ILI9325State *s, uint16_t value)
{
    uint8_t reg = s->index;
    uint16_t old = s->regs[reg];

    trace_ili9325_reg_write(reg, value);
    switch (reg) {
    case R_GRAM_DATA:
        ili9325_gram_write(s, value);
        return;
    case R_GRAM_H:
        s->ac_h = value & 0xFF;
        if (s->ac_h >= ILI9325_SOURCES) {
            qemu_log_mask(LOG_GUEST_ERROR, "ili9325: R20h=0x%04x is past the "
                          "last source address 0xEF\n", value);
        }
        break;
    case R_GRAM_V:
        s->ac_v = value & 0x1FF;
        if (s->ac_v >= ILI9325_GATES) {
            qemu_log_mask(LOG_GUEST_ERROR, "ili9325: R21h=0x%04x is past the "
                          "last gate address 0x13F\n", value);
        }
        break;
    case R_HSA:
    case R_HEA:
        value &= 0xFF;
        if (value >= ILI9325_SOURCES) {
            qemu_log_mask(LOG_GUEST_ERROR, "ili9325: R%02Xh=0x%04x: the window "
                          "must lie within 0..0xEF\n", reg, value);
        }
        break;
    case R_VSA:
    case R_VEA:
        value &= 0x1FF;
        if (value >= ILI9325_GATES) {
            qemu_log_mask(LOG_GUEST_ERROR, "ili9325: R%02Xh=0x%04x: the window "
                          "must lie within 0..0x13F\n", reg, value);
        }
        break;
    case R_ENTRY_MODE:
        if (FIELD_EX16(value, ENTRY_MODE, TRI) ||
            FIELD_EX16(value, ENTRY_MODE, DFM)) {
            qemu_log_mask(LOG_UNIMP, "ili9325: R03h TRI/DFM transfer modes "
                          "not modelled (one 16-bit transfer per pixel)\n");
        }
        if (FIELD_EX16(value, ENTRY_MODE, ORG)) {
            qemu_log_mask(LOG_UNIMP, "ili9325: R03h.ORG not modelled\n");
        }
        break;
    case R_DRIVER_OUTPUT:
        if (FIELD_EX16(value, DRIVER_OUTPUT, SM)) {
            qemu_log_mask(LOG_UNIMP, "ili9325: R01h.SM (interlaced gate "
                          "scan) not modelled\n");
        }
        break;
    case R_DISPLAY_CTRL1:
        if (FIELD_EX16(value, DISPLAY_CTRL1, PTDE)) {
            qemu_log_mask(LOG_UNIMP, "ili9325: partial images (R07h.PTDE) "
                          "not modelled\n");
        }
        break;
    case R_RESIZE:
        if (value) {
            qemu_log_mask(LOG_UNIMP, "ili9325: resizing (R04h) not "
                          "modelled\n");
        }
        break;
    case R_GATE_SCAN:
        if (FIELD_EX16(value, GATE_SCAN, NL) != NL_320_LINES ||
            FIELD_EX16(value, GATE_SCAN, SCN)) {
            qemu_log_mask(LOG_UNIMP, "ili9325: R60h NL/SCN other than 320 "
                          "lines from G1 not modelled\n");
        }
        break;
    case R_SCROLL:
        value &= 0x1FF;
        break;
    }
    s->regs[reg] = value;
    if (old != value) {
        s->redraw = true;
        if (reg == R_DISPLAY_CTRL1 || reg == R_POWER_CTRL1) {
            trace_ili9325_display(ili9325_display_on(s));
        }
    }
}

static uint16_t ili9325_reg_read(ILI9325State *s)
{
    uint16_t value;

    switch (s->index) {
    case R_ID:
        value = ILI9325_ID;
        break;
    case R_GRAM_DATA:
        return ili9325_gram_read(s);
    case R_GRAM_H:
        value = s->ac_h;
        break;
    case R_GRAM_V:
        value = s->ac_v;
        break;
    default:
        value = s->regs[s->index];
        break;
    }
    trace_ili9325_reg_read(s->index, value);
    return value;
}

static uint64_t ili9325_bus_read(void *opaque, hwaddr addr, unsigned size)
{
    ILI9325State *s = opaque;
    uint16_t value;

    if (size == 1) {
        qemu_log_mask(LOG_GUEST_ERROR, "ili9325: byte read: the 16-bit bus "
                      "has no byte lanes\n");
    }
    if (!(addr & 2)) {
        qemu_log_mask(LOG_UNIMP, "ili9325: status read (RS=0) not modelled "
                      "(reads 0)\n");
        value = 0;
    } else {
        value = ili9325_reg_read(s);
    }
    return size == 1 ? extract32(value, (addr & 1) * 8, 8) : value;
}

static void ili9325_bus_write(void *opaque, hwaddr addr, uint64_t data,
                              unsigned size)
{
    ILI9325State *s = opaque;
    uint16_t value = data;

    if (size == 1) {
        qemu_log_mask(LOG_GUEST_ERROR, "ili9325: byte write: the 16-bit bus "
                      "has no byte lanes (the other byte is taken as 0)\n");
        value = (data & 0xFF) << ((addr & 1) * 8);
    }
    if (!(addr & 2)) {
        s->index = value & 0xFF;
        trace_ili9325_index(s->index);
    } else {
        ili9325_reg_write(s, value);
    }
}

static const MemoryRegionOps ili9325_bus_ops = {
    .read = ili9325_bus_read,
    .write = ili9325_bus_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 1,
    .valid.max_access_size = 2,
    .impl.min_access_size = 1,
    .impl.max_access_size = 2,
};

/* The panel pixel (source column, gate row) a screen pixel shows */
static void ili9325_screen_to_panel(ILI9325State *s, int x, int y,
                                    int *src, int *gate)
{
    switch (s->rotation) {
    case 90:
        *src = y;
        *gate = ILI9325_GATES - 1 - x;
        break;
    case 180:
        *src = ILI9325_SOURCES - 1 - x;
        *gate = ILI9325_GATES - 1 - y;
        break;
    case 270:
        *src = ILI9325_SOURCES - 1 - y;
        *gate = x;
        break;
    default:
        *src = x;
        *gate = y;
        break;
    }
}

static uint32_t rgb565_to_rgb888(uint16_t c)
{
    uint32_t r = c >> 11, g = (c >> 5) & 0x3F, b = c & 0x1F;

    r = (r << 3) | (r >> 2);
    g = (g << 2) | (g >> 4);
    b = (b << 3) | (b >> 2);
    return (r << 16) | (g << 8) | b;
}

static void ili9325_update_display(void *opaque)
{
    ILI9325State *s = opaque;
    DisplaySurface *surface = qemu_console_surface(s->con);
    int width = surface_width(surface), height = surface_height(surface);
    bool on = ili9325_display_on(s);
    bool ss = FIELD_EX16(s->regs[R_DRIVER_OUTPUT], DRIVER_OUTPUT, SS);
    bool gs = FIELD_EX16(s->regs[R_GATE_SCAN], GATE_SCAN, GS);
    uint16_t base = s->regs[R_BASE_IMAGE];
    unsigned scroll = FIELD_EX16(base, BASE_IMAGE, VLE) ?
                      s->regs[R_SCROLL] % ILI9325_GATES : 0;
    uint16_t invert = FIELD_EX16(base, BASE_IMAGE, REV) ? 0 : 0xFFFF;
    uint8_t *data = surface_data(surface);
    int stride = surface_stride(surface);
    uint32_t *dest;
    int x, y;

    if (!s->redraw) {
        return;
    }
    for (y = 0; y < height; y++) {
        dest = (uint32_t *)(data + y * stride);
        for (x = 0; x < width; x++) {
            int src, gate, h, line;
            uint16_t pixel;

            if (!on) {
                dest[x] = 0;
                continue;
            }
            ili9325_screen_to_panel(s, x, y, &src, &gate);
            h = ss ? ILI9325_SOURCES - 1 - src : src;
            line = gs ? ILI9325_GATES - 1 - gate : gate;
            line = (line + scroll) % ILI9325_GATES;
            pixel = s->gram[line * ILI9325_SOURCES + h];
            /* Sub-pixels B, G, R from S1: GRAM's R field lights blue */
            dest[x] = rgb565_to_rgb888(swap_rb(pixel) ^ invert);
        }
    }
    dpy_gfx_update_full(s->con);
    s->redraw = false;
}

static void ili9325_invalidate_display(void *opaque)
{
    ILI9325State *s = opaque;

    s->redraw = true;
}

static const GraphicHwOps ili9325_gfx_ops = {
    .invalidate = ili9325_invalidate_display,
    .gfx_update = ili9325_update_display,
};

static void ili9325_reset_hold(Object *obj, ResetType type)
{
    ILI9325State *s = ILI9325(obj);

    s->index = 0;
    memset(s->regs, 0, sizeof(s->regs));
    s->regs[R_ENTRY_MODE] = 3 << R_ENTRY_MODE_ID_SHIFT;
    s->regs[R_HEA] = ILI9325_SOURCES - 1;
    s->regs[R_VEA] = ILI9325_GATES - 1;
    s->ac_h = 0;
    s->ac_v = 0;
    s->rdr = 0;
    memset(s->gram, 0, sizeof(s->gram));
    s->redraw = true;
}

static void ili9325_init(Object *obj)
{
    ILI9325State *s = ILI9325(obj);

    memory_region_init_io(&s->iomem, obj, &ili9325_bus_ops, s, TYPE_ILI9325,
                          4);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->iomem);
}

static void ili9325_realize(DeviceState *dev, Error **errp)
{
    ILI9325State *s = ILI9325(dev);
    bool portrait;

    if (s->rotation % 90 || s->rotation >= 360) {
        error_setg(errp, "rotation must be 0, 90, 180 or 270");
        return;
    }
    portrait = s->rotation == 0 || s->rotation == 180;
    s->con = graphic_console_init(dev, 0, &ili9325_gfx_ops, s);
    qemu_console_resize(s->con, portrait ? ILI9325_SOURCES : ILI9325_GATES,
                        portrait ? ILI9325_GATES : ILI9325_SOURCES);
}

static int ili9325_post_load(void *opaque, int version_id)
{
    ILI9325State *s = opaque;

    /* The address counter and the index select GRAM words and registers */
    if (s->index >= ILI9325_NUM_REGS || s->ac_h > 0xFF || s->ac_v > 0x1FF) {
        return -EINVAL;
    }
    s->redraw = true;
    return 0;
}

static const VMStateDescription vmstate_ili9325 = {
    .name = TYPE_ILI9325,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = ili9325_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(index, ILI9325State),
        VMSTATE_UINT16_ARRAY(regs, ILI9325State, ILI9325_NUM_REGS),
        VMSTATE_UINT16(ac_h, ILI9325State),
        VMSTATE_UINT16(ac_v, ILI9325State),
        VMSTATE_UINT16(rdr, ILI9325State),
        VMSTATE_UINT16_ARRAY(gram, ILI9325State,
                             ILI9325_SOURCES * ILI9325_GATES),
        VMSTATE_END_OF_LIST()
    },
};

static const Property ili9325_properties[] = {
    DEFINE_PROP_UINT32("rotation", ILI9325State, rotation, 0),
};

static void ili9325_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->desc = "ILI9325 240x320 TFT LCD driver (16-bit i80 bus)";
    dc->realize = ili9325_realize;
    dc->vmsd = &vmstate_ili9325;
    device_class_set_props(dc, ili9325_properties);
    rc->phases.hold = ili9325_reset_hold;
    set_bit(DEVICE_CATEGORY_DISPLAY, dc->categories);
}

static const TypeInfo ili9325_info = {
    .name          = TYPE_ILI9325,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(ILI9325State),
    .instance_init = ili9325_init,
    .class_init    = ili9325_class_init,
};

static void ili9325_register_types(void)
{
    type_register_static(&ili9325_info);
}

type_init(ili9325_register_types)
