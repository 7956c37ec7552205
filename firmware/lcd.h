// The STM324xG-EVAL's 3.2" TFT: an ILI9325 on FSMC bank 1 region 3 (NE3), RS on A0, driven
// as ST's BSP does (stm324xg_eval.c LCD_IO_*, ili9325.c): a 320x240 landscape picture,
// RGB565 colours, (0, 0) at the top left.
#ifndef MICROPY_INCLUDED_STM32LAB_LCD_H
#define MICROPY_INCLUDED_STM32LAB_LCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LCD_WIDTH       (320)
#define LCD_HEIGHT      (240)
#define LCD_ILI9325_ID  (0x9325)

// FSMC and pins as FSMC_BANK3_Init, then the controller's ID; on 0x9325 ili9325_Init's
// sequence (display on). Returns the ID read; the LCD is usable only if it is 0x9325.
uint16_t lcd_init(void);
bool lcd_ready(void);
uint16_t lcd_read_id(void);
void lcd_display(bool on);
// Drawing clips to the screen.
void lcd_fill(int x, int y, int w, int h, uint16_t color);
void lcd_write_pixel(int x, int y, uint16_t color);
// The pixel's GRAM word, read after the datasheet's dummy read. With BGR=1 (ST's entry
// mode) GRAM holds R and B swapped; this returns the colour as written.
uint16_t lcd_read_pixel(int x, int y);
// Text in the lab's 5x7 font (lcd_font.h), cells of 6x8 pixels times scale; returns the x
// after the last character.
int lcd_text(int x, int y, const char *s, size_t len, uint16_t fg, uint16_t bg, int scale);

#endif // MICROPY_INCLUDED_STM32LAB_LCD_H
