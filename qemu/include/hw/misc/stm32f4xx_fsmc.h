/*
 * STM32F4xx flexible static memory controller (FSMC), RM0090 section 36
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_STM32F4XX_FSMC_H
#define HW_MISC_STM32F4XX_FSMC_H

#include "hw/sysbus.h"
#include "exec/memory.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_FSMC "stm32f4xx-fsmc"
OBJECT_DECLARE_SIMPLE_TYPE(STM32F4xxFsmcState, STM32F4XX_FSMC)

/* Bank 1: four NOR/PSRAM/SRAM regions (chip selects NE1..NE4) of 64 MiB */
#define STM32F4XX_FSMC_NUM_REGIONS  4
#define STM32F4XX_FSMC_REGION_SIZE  0x04000000U
#define STM32F4XX_FSMC_BANK1_BASE   0x60000000U
/* Banks 2 and 3 (NAND flash) and 4 (PC Card), 256 MiB each from 0x7000_0000 */
#define STM32F4XX_FSMC_NUM_NAND     3
#define STM32F4XX_FSMC_NAND_SIZE    0x10000000U
#define STM32F4XX_FSMC_NAND_BASE    0x70000000U

/*
 * sysbus MMIO regions: 0 the registers (0xA000_0000), 1..4 bank 1 regions
 * NE1..NE4, 5..7 banks 2..4.
 */

typedef struct STM32F4xxFsmcWindow {
    struct STM32F4xxFsmcState *fsmc;
    int index;
    MemoryRegion iomem;
} STM32F4xxFsmcWindow;

struct STM32F4xxFsmcState {
    SysBusDevice parent_obj;

    MemoryRegion regs;
    STM32F4xxFsmcWindow region[STM32F4XX_FSMC_NUM_REGIONS];
    STM32F4xxFsmcWindow nand[STM32F4XX_FSMC_NUM_NAND];

    /*
     * The external devices on NE1..NE4 (link properties "region1".."region4"),
     * as seen on a 16-bit data bus: byte offset = 2 * external address + lane.
     */
    MemoryRegion *device[STM32F4XX_FSMC_NUM_REGIONS];
    AddressSpace device_as[STM32F4XX_FSMC_NUM_REGIONS];

    /* FMC of the STM32F42x/43x: BCR1.CCLKEN, SDRAM registers (not modelled) */
    bool fmc;

    uint32_t bcr[STM32F4XX_FSMC_NUM_REGIONS];
    uint32_t btr[STM32F4XX_FSMC_NUM_REGIONS];
    uint32_t bwtr[STM32F4XX_FSMC_NUM_REGIONS];
    uint32_t pcr[STM32F4XX_FSMC_NUM_NAND];
    uint32_t sr[STM32F4XX_FSMC_NUM_NAND];
    uint32_t pmem[STM32F4XX_FSMC_NUM_NAND];
    uint32_t patt[STM32F4XX_FSMC_NUM_NAND];
    uint32_t pio4;
};

#endif
