/*
 * Ilitek ILI9325 TFT LCD single-chip driver, 240RGB x 320, 16-bit i80 bus
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_DISPLAY_ILI9325_H
#define HW_DISPLAY_ILI9325_H

#include "hw/sysbus.h"
#include "qom/object.h"

#define TYPE_ILI9325 "ili9325"
OBJECT_DECLARE_SIMPLE_TYPE(ILI9325State, ILI9325)

/* GRAM: AD[7:0] is the source (horizontal) address, AD[16:8] the gate line */
#define ILI9325_SOURCES     240
#define ILI9325_GATES       320
#define ILI9325_NUM_REGS    256

/*
 * sysbus MMIO region 0 is the 16-bit bus as the FSMC drives it: RS (the
 * register select) on address bit 1, so offset 0 is the index register and
 * offset 2 the data (register or GRAM) port.
 */
struct ILI9325State {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    QemuConsole *con;
    /* How the panel is mounted: degrees clockwise from portrait (S1 left) */
    uint32_t rotation;
    bool redraw;

    uint16_t index;
    uint16_t regs[ILI9325_NUM_REGS];
    uint16_t ac_h;      /* address counter AD[7:0] */
    uint16_t ac_v;      /* address counter AD[16:8] */
    uint16_t rdr;       /* read data latch: a GRAM read returns the previous */
    uint16_t gram[ILI9325_SOURCES * ILI9325_GATES];
};

#endif
