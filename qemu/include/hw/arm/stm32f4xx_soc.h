/*
 * STM32F4xx SoC with the blocks the lab needs: STM32F417 (RM0090, DS8626),
 * STM32F439 (RM0090, DS9484) and STM32F411 (RM0383, DS10314)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_STM32F4XX_SOC_H
#define HW_ARM_STM32F4XX_SOC_H

#include "hw/arm/armv7m.h"
#include "hw/char/stm32f2xx_usart.h"
#include "hw/timer/stm32f2xx_timer.h"
#include "hw/misc/stm32f4xx_syscfg.h"
#include "hw/misc/stm32f4xx_exti.h"
#include "hw/misc/stm32f4xx_rcc.h"
#include "hw/misc/stm32f4xx_flash.h"
#include "hw/misc/stm32f4xx_pwr.h"
#include "hw/misc/stm32f4xx_rng.h"
#include "hw/misc/stm32f4xx_cryp.h"
#include "hw/misc/stm32f4xx_hash.h"
#include "hw/misc/stm32f4xx_dbgmcu.h"
#include "hw/gpio/stm32f4xx_gpio.h"
#include "hw/net/stm32f4xx_eth.h"
#include "hw/dma/stm32f4xx_dma.h"
#include "hw/core/split-irq.h"
#include "hw/misc/stm32f4xx_fsmc.h"
#include "hw/ssi/stm32f4xx_spi.h"
#include "hw/or-irq.h"
#include "qom/object.h"

#define TYPE_STM32F4XX_SOC "stm32f4xx-soc"
#define TYPE_STM32F417_SOC "stm32f417-soc"
#define TYPE_STM32F439_SOC "stm32f439-soc"
#define TYPE_STM32F411_SOC "stm32f411-soc"
OBJECT_DECLARE_TYPE(STM32F4xxSocState, STM32F4xxSocClass, STM32F4XX_SOC)

#define STM32F4XX_FLASH_BASE    0x08000000
#define STM32F4XX_SRAM_BASE     0x20000000
#define STM32F4XX_CCM_BASE      0x10000000
#define STM32F4XX_CCM_SIZE      (64 * KiB)
#define STM32F4XX_BKPSRAM_BASE  0x40024000
#define STM32F4XX_BKPSRAM_SIZE  (4 * KiB)

/* USART1, USART2, USART3, USART6 */
#define STM32F4XX_NUM_USARTS 4
/* TIM2..TIM5 */
#define STM32F4XX_NUM_TIMERS 4
/* GPIOA..GPIOI, and GPIOJ..GPIOK on the STM32F42x/43x */
#define STM32F4XX_NUM_GPIOS 11
/* SPI1..SPI5 (the STM32F411 has all five) */
#define STM32F4XX_NUM_SPIS 5
/* DMA1, DMA2; the DMA request outputs of the USARTs, SPIs, CRYP and HASH */
#define STM32F4XX_NUM_DMAS 2
#define STM32F4XX_NUM_DMA_ROUTES 21

struct STM32F4xxSocState {
    SysBusDevice parent_obj;

    ARMv7MState armv7m;

    STM32F4xxSyscfgState syscfg;
    STM32F4xxExtiState exti;
    STM32F4xxRccState rcc;
    STM32F4xxFlashState flash_if;
    STM32F4xxPwrState pwr;
    STM32F2XXUsartState usart[STM32F4XX_NUM_USARTS];
    STM32F2XXTimerState timer[STM32F4XX_NUM_TIMERS];
    STM32F4xxGpioState gpio[STM32F4XX_NUM_GPIOS];
    STM32F4xxSpiState spi[STM32F4XX_NUM_SPIS];
    STM32F4xxRngState rng;
    STM32F4xxCrypState cryp;
    STM32F4xxHashState hash;
    STM32F4xxEthState eth;
    /* FSMC (FMC on the F42x/43x); boards link devices to its regions */
    STM32F4xxFsmcState fsmc;
    /* HASH and RNG share NVIC line 80 */
    OrIRQState hash_rng_irq;
    /* On the CPU's private bus: the debugger's view, IDCODE */
    STM32F4xxDbgmcuState dbgmcu;

    STM32F4xxDmaState dma[STM32F4XX_NUM_DMAS];
    /* each DMA request output, fanned out to the streams it reaches */
    SplitIRQ dma_req[STM32F4XX_NUM_DMA_ROUTES];
    MemoryRegion dma_matrix;        /* the bus matrix as the DMA sees it */
    MemoryRegion dma_matrix_low;
    MemoryRegion dma_matrix_high;
    MemoryRegion dma1_periph;       /* DMA1's peripheral port: APB1 only */
    MemoryRegion dma1_apb1;

    MemoryRegion flash;
    MemoryRegion flash_alias;
    MemoryRegion sram;
    MemoryRegion ccm;
    MemoryRegion bkpsram;
    MemoryRegion signature;     /* unique ID and flash size, RM0090 39 */

    Clock *refclk;
    uint32_t hse_frequency;
    uint8_t console_usart;  /* gets serial_hd(0) */
    uint32_t uid[3];
};

typedef struct STM32F4xxUnimpBlock {
    const char *name;
    hwaddr addr;
    hwaddr size;
} STM32F4xxUnimpBlock;

struct STM32F4xxSocClass {
    SysBusDeviceClass parent_class;

    const char *part;       /* "STM32F417" */
    uint32_t flash_size;
    uint32_t sram_size;     /* SRAM1 + SRAM2 (+ SRAM3), contiguous */
    uint32_t num_irq;
    /* blocks the part has: bit n of a mask is GPIO port 'A' + n, SPIn+1 */
    uint16_t gpio_mask;
    uint8_t spi_mask;
    /* USART1, USART2, USART3, USART6 (bit 0..3) */
    uint8_t usart_mask;
    /*
     * blocks of the F405/407/415/417 and F42x/43x the F411 lacks (and the
     * RNG, CRYP and HASH: crypto_version 0)
     */
    bool has_ccm;
    bool has_bkpsram;
    bool has_eth;
    bool has_fsmc;
    /* APB1 timer clock in the part's usual configuration */
    uint32_t timer_frequency;
    /* the blocks only logged as unimplemented, ends with a NULL name */
    const struct STM32F4xxUnimpBlock *unimp;
    /* CRYP/HASH generation: 0 = none, 1 = F415/417, 2 = F437/439 */
    uint8_t crypto_version;
    /* DBGMCU_IDCODE (RM0090 38.6.1) */
    uint16_t dev_id;
    uint16_t rev_id;
    /* The F42x/43x have the FMC: FSMC registers plus an SDRAM controller */
    bool fmc;
};

#endif
