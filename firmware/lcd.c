// The STM324xG-EVAL's LCD (ILI9325 on FSMC NE3): FSMC set-up, controller init and drawing,
// following ST's BSP (stm324xg_eval.c, ili9325.c, stm324xg_eval_lcd.c; our own code).
#include "lcd.h"
#include "lcd_font.h"
#include "gpio.h"
#include "irq.h"

// FSMC bank 1 registers (RM0090 36.5.6): BCRx, BTRx at 0xA000_0000 + 8 * (x - 1)
#define FSMC_BCR(n)         (*(volatile uint32_t *)(0xA0000000UL + 8 * ((n) - 1)))
#define FSMC_BTR(n)         (*(volatile uint32_t *)(0xA0000004UL + 8 * ((n) - 1)))
#define FSMC_BWTR(n)        (*(volatile uint32_t *)(0xA0000104UL + 8 * ((n) - 1)))
#define FSMC_BCR_MBKEN      (1UL << 0)
#define FSMC_BCR_MWID_16    (1UL << 4)
#define FSMC_BCR_WREN       (1UL << 12)
#define FSMC_BCR_CONFIG     (0x000FFF7FUL)      // what FSMC_NORSRAM_Init rewrites
#define FSMC_BTR_CONFIG     (0x3FFFFFFFUL)
#define RCC_AHB3ENR_FSMCEN  (1UL << 0)
#define GPIO_AF12_FSMC      (12)
#define GPIO_SPEED_VERY_HIGH (3)

// NE3, RS on A0: the index register and the data port (16-bit)
#define LCD_REG             (*(volatile uint16_t *)0x68000000UL)
#define LCD_RAM             (*(volatile uint16_t *)0x68000002UL)

// ILI9325 registers
#define R_ID                (0x00)
#define R_ENTRY_MODE        (0x03)
#define R_DISPLAY_CTRL1     (0x07)
#define R_POWER_CTRL1       (0x10)
#define R_POWER_CTRL2       (0x11)
#define R_POWER_CTRL3       (0x12)
#define R_POWER_CTRL4       (0x13)
#define R_POWER_CTRL7       (0x29)
#define R_GRAM_H            (0x20)
#define R_GRAM_V            (0x21)
#define R_GRAM_DATA         (0x22)
#define R_HSA               (0x50)
#define R_HEA               (0x51)
#define R_VSA               (0x52)
#define R_VEA               (0x53)
// BGR=1, I/D=01 (AD[7:0] up, AD[16:8] down), AM=1: left to right, then down the picture
#define ENTRY_MODE_BSP      (0x1018)
#define DISPLAY_ON          (0x0173)

static bool lcd_is_ready;

// The FSMC pins of the STM324xG-EVAL (FSMC_BANK3_MspInit): D0..D15, A0..A20, NOE, NWE,
// NBL0/1, NE3
static const struct {
    char port;
    uint16_t pins;
} fsmc_pins[] = {
    {'D', 0xFF33}, {'E', 0xFF9B}, {'F', 0xF03F}, {'G', 0x043F},
};

static void fsmc_bank3_init(void) {
    uint32_t state = disable_irq();
    RCC->AHB3ENR |= RCC_AHB3ENR_FSMCEN;
    enable_irq(state);
    (void)RCC->AHB3ENR;
    for (size_t i = 0; i < sizeof(fsmc_pins) / sizeof(fsmc_pins[0]); i++) {
        for (unsigned pin = 0; pin < 16; pin++) {
            if (fsmc_pins[i].pins & (1u << pin)) {
                gpio_config(GPIO_INDEX(fsmc_pins[i].port), pin, GPIO_MODE_AF, GPIO_PULL_UP,
                    false, GPIO_SPEED_VERY_HIGH, GPIO_AF12_FSMC);
            }
        }
    }
    // HAL_SRAM_Init's steps: SRAM, 16 bits, write enable, mode A; ADDSET 5, ADDHLD 1,
    // DATAST 9, CLKDIV 2, DATLAT 2 (ST's timings for the LCD at 168 MHz); then MBKEN.
    FSMC_BCR(3) = (FSMC_BCR(3) & ~FSMC_BCR_CONFIG) | FSMC_BCR_MWID_16 | FSMC_BCR_WREN;
    FSMC_BTR(3) = (FSMC_BTR(3) & ~FSMC_BTR_CONFIG) | 5 | (1 << 4) | (9 << 8) | (1 << 20);
    FSMC_BWTR(3) = 0x0FFFFFFF;
    FSMC_BCR(3) |= FSMC_BCR_MBKEN;
}

static void lcd_write_reg(uint8_t reg, uint16_t value) {
    LCD_REG = reg;
    LCD_RAM = value;
}

uint16_t lcd_read_id(void) {
    LCD_REG = R_ID;
    return LCD_RAM;
}

// ili9325_Init's register sequence
static const uint16_t ili9325_init_sequence[][2] = {
    {0x00, 0x0001}, {0x01, 0x0100}, {0x02, 0x0700}, {0x03, ENTRY_MODE_BSP}, {0x04, 0x0000},
    {0x08, 0x0202}, {0x09, 0x0000}, {0x0A, 0x0000}, {0x0C, 0x0000}, {0x0D, 0x0000},
    {0x0F, 0x0000},
    {0x10, 0x0000}, {0x11, 0x0000}, {0x12, 0x0000}, {0x13, 0x0000},
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
    {0x03, ENTRY_MODE_BSP}, {0x07, DISPLAY_ON},
};

uint16_t lcd_init(void) {
    uint16_t id;

    fsmc_bank3_init();
    id = lcd_read_id();
    lcd_is_ready = id == LCD_ILI9325_ID;
    if (lcd_is_ready) {
        for (size_t i = 0; i < sizeof(ili9325_init_sequence) / sizeof(ili9325_init_sequence[0]); i++) {
            lcd_write_reg(ili9325_init_sequence[i][0], ili9325_init_sequence[i][1]);
        }
    }
    return id;
}

bool lcd_ready(void) {
    return lcd_is_ready;
}

// ili9325_DisplayOn / ili9325_DisplayOff: power settings, then R07h
void lcd_display(bool on) {
    lcd_write_reg(R_POWER_CTRL1, 0x0000);
    lcd_write_reg(R_POWER_CTRL2, 0x0000);
    lcd_write_reg(R_POWER_CTRL3, 0x0000);
    lcd_write_reg(R_POWER_CTRL4, 0x0000);
    if (on) {
        lcd_write_reg(R_POWER_CTRL1, 0x17B0);
        lcd_write_reg(R_POWER_CTRL2, 0x0137);
        lcd_write_reg(R_POWER_CTRL3, 0x0139);
        lcd_write_reg(R_POWER_CTRL4, 0x1D00);
        lcd_write_reg(R_POWER_CTRL7, 0x0013);
        lcd_write_reg(R_DISPLAY_CTRL1, DISPLAY_ON);
    } else {
        lcd_write_reg(R_POWER_CTRL7, 0x0000);
        lcd_write_reg(R_DISPLAY_CTRL1, 0x0000);
    }
}

// ili9325_SetCursor / ili9325_SetDisplayWindow: the picture's X runs down AD[16:8]
static void lcd_set_cursor(int x, int y) {
    lcd_write_reg(R_GRAM_H, y);
    lcd_write_reg(R_GRAM_V, LCD_WIDTH - 1 - x);
}

static void lcd_set_window(int x, int y, int w, int h) {
    lcd_write_reg(R_HSA, y);
    lcd_write_reg(R_HEA, y + h - 1);
    lcd_write_reg(R_VSA, LCD_WIDTH - x - w);
    lcd_write_reg(R_VEA, LCD_WIDTH - 1 - x);
}

// Clip a rectangle to the screen; false if nothing is left
static bool lcd_clip(int *x, int *y, int *w, int *h) {
    if (*x < 0) {
        *w += *x;
        *x = 0;
    }
    if (*y < 0) {
        *h += *y;
        *y = 0;
    }
    if (*x + *w > LCD_WIDTH) {
        *w = LCD_WIDTH - *x;
    }
    if (*y + *h > LCD_HEIGHT) {
        *h = LCD_HEIGHT - *y;
    }
    return *w > 0 && *h > 0;
}

// A window the address counter walks row by row (entry mode ENTRY_MODE_BSP), ready for data
static void lcd_begin_rect(int x, int y, int w, int h) {
    lcd_set_window(x, y, w, h);
    lcd_set_cursor(x, y);
    LCD_REG = R_GRAM_DATA;
}

static void lcd_end_rect(void) {
    lcd_set_window(0, 0, LCD_WIDTH, LCD_HEIGHT);
}

void lcd_fill(int x, int y, int w, int h, uint16_t color) {
    if (!lcd_is_ready || !lcd_clip(&x, &y, &w, &h)) {
        return;
    }
    lcd_begin_rect(x, y, w, h);
    for (int n = w * h; n > 0; n--) {
        LCD_RAM = color;
    }
    lcd_end_rect();
}

void lcd_write_pixel(int x, int y, uint16_t color) {
    if (!lcd_is_ready || x < 0 || y < 0 || x >= LCD_WIDTH || y >= LCD_HEIGHT) {
        return;
    }
    lcd_set_cursor(x, y);
    LCD_REG = R_GRAM_DATA;
    LCD_RAM = color;
}

uint16_t lcd_read_pixel(int x, int y) {
    uint16_t gram;
    if (!lcd_is_ready || x < 0 || y < 0 || x >= LCD_WIDTH || y >= LCD_HEIGHT) {
        return 0;
    }
    lcd_set_cursor(x, y);
    LCD_REG = R_GRAM_DATA;
    (void)LCD_RAM;                                  // the dummy read
    gram = LCD_RAM;
    return (gram >> 11) | (gram & 0x07E0) | (uint16_t)(gram << 11);   // undo BGR
}

int lcd_text(int x, int y, const char *s, size_t len, uint16_t fg, uint16_t bg, int scale) {
    int cw = LCD_FONT_CELL_W * scale, ch = LCD_FONT_CELL_H * scale;
    if (scale < 1) {
        return x;
    }
    for (; len > 0; len--, s++, x += cw) {
        unsigned c = (unsigned char)*s;
        const uint8_t *glyph;
        if (!lcd_is_ready || x < 0 || y < 0 || x + cw > LCD_WIDTH || y + ch > LCD_HEIGHT) {
            continue;                               // only whole characters are drawn
        }
        if (c < LCD_FONT_FIRST || c > LCD_FONT_LAST) {
            c = '?';
        }
        glyph = lcd_font[c - LCD_FONT_FIRST];
        lcd_begin_rect(x, y, cw, ch);
        for (int row = 0; row < ch; row++) {
            int gy = row / scale;
            uint8_t bits = gy < LCD_FONT_GLYPH_H ? glyph[gy] : 0;
            for (int col = 0; col < cw; col++) {
                int gx = col / scale;
                LCD_RAM = (gx < LCD_FONT_GLYPH_W && ((bits >> (LCD_FONT_GLYPH_W - 1 - gx)) & 1))
                    ? fg : bg;
            }
        }
    }
    if (lcd_is_ready) {
        lcd_end_rect();
    }
    return x;
}
