// The STM324xG-EVAL's LCD brought up the way ST's BSP_LCD_Init does (stm324xg_eval.c
// FSMC_BANK3_MspInit/FSMC_BANK3_Init, ili9325.c ili9325_ReadID/ili9325_Init,
// stm324xg_eval_lcd.c BSP_LCD_Clear), register by register with the same access widths,
// then a known picture: a blue title bar with text, a line of larger text, eight colour
// bars and a marker in each corner. Before the bank is enabled, one access checks that the
// FSMC answers a disabled bank with a bus fault. Reports over the console; the test
// (tests/test_lcd_baremetal.py) compares the screen with the picture.
#include "board.h"
#include "../../firmware/lcd_font.h"

#define RCC_AHB3ENR   REG(RCC_BASE + 0x38)
#define GPIO_OTYPER(p)  REG(GPIO(p) + 0x04)
#define GPIO_OSPEEDR(p) REG(GPIO(p) + 0x08)
#define GPIO_PUPDR(p)   REG(GPIO(p) + 0x0C)
#define GPIO_AFR(p, n)  REG(GPIO(p) + 0x20 + 4u * (n))

#define FSMC_BCR(n)   REG(0xA0000000u + 8u * ((n) - 1u))
#define FSMC_BTR(n)   REG(0xA0000004u + 8u * ((n) - 1u))
#define FSMC_BWTR(n)  REG(0xA0000104u + 8u * ((n) - 1u))

#define SCB_VTOR      REG(0xE000ED08u)
#define SCB_SHCSR     REG(0xE000ED24u)
#define SCB_CFSR      REG(0xE000ED28u)
#define SCB_BFAR      REG(0xE000ED38u)

// FSMC bank 1 region 3, RS on A0: ST's LCD_CONTROLLER_TypeDef { REG; RAM; }
#define LCD_REG       (*(volatile uint16_t *)0x68000000u)
#define LCD_RAM       (*(volatile uint16_t *)0x68000002u)

#define LCD_W 320
#define LCD_H 240

enum {
    WHITE = 0xFFFF, BLACK = 0x0000, BLUE = 0x001F, RED = 0xF800, GREEN = 0x07E0,
    CYAN = 0x07FF, MAGENTA = 0xF81F, YELLOW = 0xFFE0, DARKBLUE = 0x0010,
};

// --- a bus fault handler that records the fault and skips the instruction -----------------

static volatile uint32_t bus_faults, fault_bfar, fault_cfsr;
static uint32_t ram_vectors[16] __attribute__((aligned(128)));

void bus_fault_record(uint32_t *frame) {
    uint16_t insn = *(uint16_t *)frame[6];
    fault_cfsr = SCB_CFSR;
    fault_bfar = SCB_BFAR;
    bus_faults++;
    SCB_CFSR = fault_cfsr;                                  // write 1 to clear
    frame[6] += (insn & 0xF800u) >= 0xE800u ? 4u : 2u;      // 32-bit Thumb: 0b111xx
}

__attribute__((naked)) static void bus_fault_handler(void) {
    __asm volatile (
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b bus_fault_record\n");
}

static void install_bus_fault_handler(void) {
    const uint32_t *flash_vectors = (const uint32_t *)SCB_VTOR;
    for (int i = 0; i < 16; i++) {
        ram_vectors[i] = flash_vectors[i];
    }
    ram_vectors[5] = (uint32_t)bus_fault_handler;
    SCB_VTOR = (uint32_t)ram_vectors;
    SCB_SHCSR |= 1u << 17;                                  // BUSFAULTENA
}

// --- FSMC_BANK3_MspInit: clocks and AF12 on the FSMC pins ----------------------------------

// HAL_GPIO_Init for one pin: AF push-pull, pull-up, very high speed, AF12
static void gpio_fsmc_pin(char port, unsigned pin) {
    GPIO_AFR(port, pin / 8u) = (GPIO_AFR(port, pin / 8u) & ~(0xFu << (pin % 8u * 4u))) |
        (12u << (pin % 8u * 4u));
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (pin * 2u))) | (2u << (pin * 2u));
    GPIO_OSPEEDR(port) = (GPIO_OSPEEDR(port) & ~(3u << (pin * 2u))) | (3u << (pin * 2u));
    GPIO_OTYPER(port) &= ~(1u << pin);
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (pin * 2u))) | (1u << (pin * 2u));
}

static void gpio_fsmc_pins(char port, uint32_t pins) {
    for (unsigned pin = 0; pin < 16; pin++) {
        if (pins & (1u << pin)) {
            gpio_fsmc_pin(port, pin);
        }
    }
}

static void fsmc_bank3_msp_init(void) {
    RCC_AHB3ENR |= 1u << 0;                                 // FSMCEN
    (void)RCC_AHB3ENR;
    RCC_AHB1ENR |= (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6);   // GPIOD..GPIOG
    (void)RCC_AHB1ENR;
    gpio_fsmc_pins('D', 0xFF33u);   // D2, D3, NOE, NWE, D13..D15, A16..A18, D0, D1
    gpio_fsmc_pins('E', 0xFF9Bu);   // NBL0, NBL1, A19, A20, D4..D12
    gpio_fsmc_pins('F', 0xF03Fu);   // A0..A5, A6..A9
    gpio_fsmc_pins('G', 0x043Fu);   // A10..A15, NE3
}

// --- FSMC_BANK3_Init: HAL_SRAM_Init with ST's timings ---------------------------------------

static void fsmc_bank3_init(void) {
    uint32_t bcr, btr;

    fsmc_bank3_msp_init();
    // FSMC_NORSRAM_Init: clear the configuration bits, SRAM, 16 bits, write enable
    bcr = FSMC_BCR(3);
    bcr &= ~0x000FFF7Fu;
    bcr |= (1u << 4) | (1u << 12);
    FSMC_BCR(3) = bcr;
    // FSMC_NORSRAM_Timing_Init: ADDSET 5, ADDHLD 1, DATAST 9, BUSTURN 0, CLKDIV 2 - 1,
    // DATLAT 2 - 2, access mode A
    btr = FSMC_BTR(3);
    btr &= ~0x3FFFFFFFu;
    btr |= 5u | (1u << 4) | (9u << 8) | (1u << 20);
    FSMC_BTR(3) = btr;
    // FSMC_NORSRAM_Extended_Timing_Init, extended mode off
    FSMC_BWTR(3) = 0x0FFFFFFFu;
    // __FSMC_NORSRAM_ENABLE
    FSMC_BCR(3) |= 1u << 0;
}

// --- ili9325.c --------------------------------------------------------------------------

static void lcd_write_reg(uint8_t reg, uint16_t value) {
    LCD_REG = reg;
    LCD_RAM = value;
}

static uint16_t lcd_read_reg(uint8_t reg) {
    LCD_REG = reg;
    return LCD_RAM;
}

// ili9325_Init's sequence (power, gamma, window, gate scan, entry mode, display on)
static const uint16_t init_sequence[][2] = {
    {0x00, 0x0001}, {0x01, 0x0100}, {0x02, 0x0700}, {0x03, 0x1018}, {0x04, 0x0000},
    {0x08, 0x0202}, {0x09, 0x0000}, {0x0A, 0x0000}, {0x0C, 0x0000}, {0x0D, 0x0000},
    {0x0F, 0x0000}, {0x10, 0x0000}, {0x11, 0x0000}, {0x12, 0x0000}, {0x13, 0x0000},
    {0x10, 0x17B0}, {0x11, 0x0137}, {0x12, 0x0139}, {0x13, 0x1D00}, {0x29, 0x0013},
    {0x20, 0x0000}, {0x21, 0x0000},
    {0x30, 0x0007}, {0x31, 0x0302}, {0x32, 0x0105}, {0x35, 0x0206}, {0x36, 0x0808},
    {0x37, 0x0206}, {0x38, 0x0504}, {0x39, 0x0007}, {0x3C, 0x0105}, {0x3D, 0x0808},
    {0x50, 0x0000}, {0x51, 0x00EF}, {0x52, 0x0000}, {0x53, 0x013F},
    {0x60, 0xA700}, {0x61, 0x0001}, {0x6A, 0x0000},
    {0x80, 0x0000}, {0x81, 0x0000}, {0x82, 0x0000}, {0x83, 0x0000}, {0x84, 0x0000},
    {0x85, 0x0000},
    {0x90, 0x0010}, {0x92, 0x0000}, {0x93, 0x0003}, {0x95, 0x0110}, {0x97, 0x0000},
    {0x98, 0x0000},
    {0x03, 0x1018}, {0x07, 0x0173},
};

// ili9325_SetCursor: the 320x240 picture is the panel turned (SS=1, GS=1)
static void lcd_set_cursor(unsigned x, unsigned y) {
    lcd_write_reg(0x20, y);
    lcd_write_reg(0x21, LCD_W - 1 - x);
}

// ili9325_SetDisplayWindow
static void lcd_set_window(unsigned x, unsigned y, unsigned w, unsigned h) {
    lcd_write_reg(0x50, y);
    lcd_write_reg(0x51, y + h - 1);
    lcd_write_reg(0x52, LCD_W - x - w);
    lcd_write_reg(0x53, LCD_W - x - 1);
}

static void lcd_init(void) {
    for (unsigned i = 0; i < sizeof(init_sequence) / sizeof(init_sequence[0]); i++) {
        lcd_write_reg(init_sequence[i][0], init_sequence[i][1]);
    }
    lcd_set_cursor(0, 0);
    LCD_REG = 0x22;
}

// BSP_LCD_Clear: one ili9325_DrawHLine per line
static void lcd_clear(uint16_t color) {
    for (unsigned y = 0; y < LCD_H; y++) {
        lcd_set_cursor(0, y);
        LCD_REG = 0x22;
        for (unsigned x = 0; x < LCD_W; x++) {
            LCD_RAM = color;
        }
    }
}

// A filled rectangle through a window: the address counter walks it (entry mode 0x1018)
static void lcd_fill(unsigned x, unsigned y, unsigned w, unsigned h, uint16_t color) {
    lcd_set_window(x, y, w, h);
    lcd_set_cursor(x, y);
    LCD_REG = 0x22;
    for (unsigned n = 0; n < w * h; n++) {
        LCD_RAM = color;
    }
    lcd_set_window(0, 0, LCD_W, LCD_H);
}

static void lcd_text(unsigned x, unsigned y, const char *s, uint16_t fg, uint16_t bg,
    unsigned scale) {
    for (; *s; s++, x += LCD_FONT_CELL_W * scale) {
        unsigned c = (unsigned char)*s;
        const uint8_t *glyph = lcd_font[(c < LCD_FONT_FIRST || c > LCD_FONT_LAST ? '?' : c)
            - LCD_FONT_FIRST];
        lcd_set_window(x, y, LCD_FONT_CELL_W * scale, LCD_FONT_CELL_H * scale);
        lcd_set_cursor(x, y);
        LCD_REG = 0x22;
        for (unsigned row = 0; row < LCD_FONT_CELL_H * scale; row++) {
            uint8_t bits = row / scale < LCD_FONT_GLYPH_H ? glyph[row / scale] : 0;
            for (unsigned col = 0; col < LCD_FONT_CELL_W * scale; col++) {
                unsigned gx = col / scale;
                LCD_RAM = gx < LCD_FONT_GLYPH_W && (bits >> (4 - gx)) & 1 ? fg : bg;
            }
        }
    }
    lcd_set_window(0, 0, LCD_W, LCD_H);
}

// ili9325_ReadPixel plus the datasheet's dummy read; BGR=1 swapped R and B going in
static uint16_t lcd_read_pixel(unsigned x, unsigned y) {
    lcd_set_cursor(x, y);
    LCD_REG = 0x22;
    (void)LCD_RAM;
    return LCD_RAM;
}

static void put_hex(uint32_t v, int digits) {
    char buf[11] = "0x";
    for (int i = 0; i < digits; i++) {
        buf[2 + i] = "0123456789ABCDEF"[(v >> (4 * (digits - 1 - i))) & 0xF];
    }
    buf[2 + digits] = 0;
    console_puts(buf);
}

static const uint16_t bars[8] = {RED, GREEN, BLUE, YELLOW, CYAN, MAGENTA, BLACK, WHITE};

int main(void) {
    const char *failed = clock_init();
    uint16_t id, pixel;

    console_init(failed ? 16000000u : sysclk_hz() / 4u);
    console_puts("lcd: start\n");
    install_bus_fault_handler();

    // RM0090 36.3: NE3 is not enabled yet, an access is an AHB error (a bus fault)
    RCC_AHB3ENR |= 1u << 0;
    (void)RCC_AHB3ENR;
    (void)LCD_RAM;
    console_puts("lcd: disabled bank: faults ");
    console_putu(bus_faults);
    console_puts(" BFAR ");
    put_hex(fault_bfar, 8);
    console_puts(" CFSR ");
    put_hex(fault_cfsr, 8);
    console_puts("\n");

    fsmc_bank3_init();
    console_puts("lcd: BCR3 ");
    put_hex(FSMC_BCR(3), 8);
    console_puts(" BTR3 ");
    put_hex(FSMC_BTR(3), 8);
    console_puts("\n");

    id = lcd_read_reg(0x00);                                // ili9325_ReadID
    console_puts("lcd: id ");
    put_hex(id, 4);
    console_puts("\n");
    if (id != 0x9325) {
        console_puts("lcd: no ILI9325\n");
        for (;;) {
        }
    }
    lcd_init();
    lcd_clear(WHITE);

    lcd_fill(0, 0, LCD_W, 24, BLUE);
    lcd_text(8, 8, "STM324xG-EVAL bare-metal LCD", WHITE, BLUE, 1);
    lcd_text(8, 40, "Hello, ILI9325!", DARKBLUE, WHITE, 2);
    for (unsigned i = 0; i < 8; i++) {
        lcd_fill(i * 40, 80, 40, 60, bars[i]);
    }
    lcd_fill(0, LCD_H - 4, 4, 4, RED);                      // bottom left
    lcd_fill(LCD_W - 4, LCD_H - 4, 4, 4, GREEN);            // bottom right
    lcd_fill(LCD_W - 4, 30, 4, 4, MAGENTA);                 // right edge, below the bar

    pixel = lcd_read_pixel(20, 100);                        // in the red bar
    console_puts("lcd: pixel (20,100) reads ");
    put_hex(pixel, 4);
    console_puts("\nlcd: done\n");
    for (;;) {
    }
}
