// The lcd module: the STM324xG-EVAL's 320x240 TFT (ILI9325 on the FSMC) from Python, in
// the manner of ST's BSP_LCD_* functions. Colours are RGB565 integers (lcd.RED, ...).
//
//   init() -> id                 FSMC, pins and controller; OSError(ENODEV) without an ILI9325
//   id()                         the controller's ID register (0x9325)
//   on(), off()                  display on/off (the picture in GRAM is kept)
//   clear(color=WHITE)           the whole screen
//   fill(x, y, w, h, color)      a rectangle (clipped to the screen)
//   pixel(x, y[, color])         read (after the dummy read) or write one pixel
//   text(x, y, s, fg=BLACK, bg=WHITE, scale=1) -> x after the text   (6x8 cells * scale)
//   line(n, s, fg=BLACK, bg=WHITE, scale=1)   text line n (y = n * 8 * scale), the rest of
//                                              the line cleared: BSP_LCD_DisplayStringAtLine
//   WIDTH, HEIGHT, CHAR_W, CHAR_H, and colours WHITE, BLACK, BLUE, DARKBLUE, RED, GREEN, ...
#include <stdio.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "lcd.h"
#include "lcd_font.h"

#if MICROPY_HW_LCD_ILI9325

static NORETURN void lcd_raise(const char *msg) {
    mp_obj_t args[2] = {MP_OBJ_NEW_SMALL_INT(MP_ENODEV), mp_obj_new_str_from_cstr(msg)};
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
}

static void lcd_check(void) {
    if (!lcd_ready()) {
        lcd_raise("LCD not initialised: call lcd.init()");
    }
}

static mp_obj_t lcd_init_(void) {
    uint16_t id = lcd_init();
    if (id != LCD_ILI9325_ID) {
        char msg[64];
        snprintf(msg, sizeof(msg), "no ILI9325 on FSMC NE3 (ID register reads 0x%04x)", id);
        lcd_raise(msg);
    }
    return MP_OBJ_NEW_SMALL_INT(id);
}
static MP_DEFINE_CONST_FUN_OBJ_0(lcd_init_obj, lcd_init_);

static mp_obj_t lcd_id(void) {
    lcd_check();
    return MP_OBJ_NEW_SMALL_INT(lcd_read_id());
}
static MP_DEFINE_CONST_FUN_OBJ_0(lcd_id_obj, lcd_id);

static mp_obj_t lcd_on(void) {
    lcd_check();
    lcd_display(true);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(lcd_on_obj, lcd_on);

static mp_obj_t lcd_off(void) {
    lcd_check();
    lcd_display(false);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(lcd_off_obj, lcd_off);

static mp_obj_t lcd_clear(size_t n_args, const mp_obj_t *args) {
    lcd_check();
    lcd_fill(0, 0, LCD_WIDTH, LCD_HEIGHT, n_args > 0 ? mp_obj_get_int(args[0]) : 0xFFFF);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lcd_clear_obj, 0, 1, lcd_clear);

static mp_obj_t lcd_fill_(size_t n_args, const mp_obj_t *args) {
    lcd_check();
    lcd_fill(mp_obj_get_int(args[0]), mp_obj_get_int(args[1]), mp_obj_get_int(args[2]),
        mp_obj_get_int(args[3]), mp_obj_get_int(args[4]));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lcd_fill_obj, 5, 5, lcd_fill_);

static mp_obj_t lcd_pixel(size_t n_args, const mp_obj_t *args) {
    int x = mp_obj_get_int(args[0]), y = mp_obj_get_int(args[1]);
    lcd_check();
    if (x < 0 || y < 0 || x >= LCD_WIDTH || y >= LCD_HEIGHT) {
        mp_raise_ValueError(MP_ERROR_TEXT("pixel outside the 320x240 screen"));
    }
    if (n_args == 2) {
        return MP_OBJ_NEW_SMALL_INT(lcd_read_pixel(x, y));
    }
    lcd_write_pixel(x, y, mp_obj_get_int(args[2]));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lcd_pixel_obj, 2, 3, lcd_pixel);

// text(x, y, s, fg, bg, scale) and line(n, s, fg, bg, scale) share their keyword arguments
enum { ARG_fg, ARG_bg, ARG_scale };
static const mp_arg_t lcd_text_kw[] = {
    { MP_QSTR_fg, MP_ARG_INT, {.u_int = 0x0000} },
    { MP_QSTR_bg, MP_ARG_INT, {.u_int = 0xFFFF} },
    { MP_QSTR_scale, MP_ARG_INT, {.u_int = 1} },
};

static mp_obj_t lcd_draw_text(int x, int y, mp_obj_t text, size_t n_args, const mp_obj_t *pos,
    mp_map_t *kw_args, bool whole_line) {
    mp_arg_val_t args[MP_ARRAY_SIZE(lcd_text_kw)];
    size_t len;
    const char *s = mp_obj_str_get_data(text, &len);
    int end;

    mp_arg_parse_all(n_args, pos, kw_args, MP_ARRAY_SIZE(lcd_text_kw), lcd_text_kw, args);
    if (args[ARG_scale].u_int < 1 || args[ARG_scale].u_int > 8) {
        mp_raise_ValueError(MP_ERROR_TEXT("scale must be 1..8"));
    }
    lcd_check();
    end = lcd_text(x, y, s, len, args[ARG_fg].u_int, args[ARG_bg].u_int, args[ARG_scale].u_int);
    if (whole_line && end < LCD_WIDTH) {
        lcd_fill(end, y, LCD_WIDTH - end, LCD_FONT_CELL_H * args[ARG_scale].u_int,
            args[ARG_bg].u_int);
    }
    return MP_OBJ_NEW_SMALL_INT(end);
}

static mp_obj_t lcd_text_(size_t n_args, const mp_obj_t *pos, mp_map_t *kw_args) {
    return lcd_draw_text(mp_obj_get_int(pos[0]), mp_obj_get_int(pos[1]), pos[2], n_args - 3,
        pos + 3, kw_args, false);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lcd_text_obj, 3, lcd_text_);

static mp_obj_t lcd_line(size_t n_args, const mp_obj_t *pos, mp_map_t *kw_args) {
    mp_int_t scale = 1;
    mp_map_elem_t *elem = mp_map_lookup(kw_args, MP_OBJ_NEW_QSTR(MP_QSTR_scale), MP_MAP_LOOKUP);
    if (elem != NULL) {
        scale = mp_obj_get_int(elem->value);
    } else if (n_args > 4) {
        scale = mp_obj_get_int(pos[4]);
    }
    return lcd_draw_text(0, mp_obj_get_int(pos[0]) * LCD_FONT_CELL_H * scale, pos[1],
        n_args - 2, pos + 2, kw_args, true);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lcd_line_obj, 2, lcd_line);

static const mp_rom_map_elem_t lcd_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_lcd) },
    { MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&lcd_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_id), MP_ROM_PTR(&lcd_id_obj) },
    { MP_ROM_QSTR(MP_QSTR_on), MP_ROM_PTR(&lcd_on_obj) },
    { MP_ROM_QSTR(MP_QSTR_off), MP_ROM_PTR(&lcd_off_obj) },
    { MP_ROM_QSTR(MP_QSTR_clear), MP_ROM_PTR(&lcd_clear_obj) },
    { MP_ROM_QSTR(MP_QSTR_fill), MP_ROM_PTR(&lcd_fill_obj) },
    { MP_ROM_QSTR(MP_QSTR_pixel), MP_ROM_PTR(&lcd_pixel_obj) },
    { MP_ROM_QSTR(MP_QSTR_text), MP_ROM_PTR(&lcd_text_obj) },
    { MP_ROM_QSTR(MP_QSTR_line), MP_ROM_PTR(&lcd_line_obj) },
    { MP_ROM_QSTR(MP_QSTR_WIDTH), MP_ROM_INT(LCD_WIDTH) },
    { MP_ROM_QSTR(MP_QSTR_HEIGHT), MP_ROM_INT(LCD_HEIGHT) },
    { MP_ROM_QSTR(MP_QSTR_CHAR_W), MP_ROM_INT(LCD_FONT_CELL_W) },
    { MP_ROM_QSTR(MP_QSTR_CHAR_H), MP_ROM_INT(LCD_FONT_CELL_H) },
    // ST's LCD_COLOR_* values (stm324xg_eval_lcd.h)
    { MP_ROM_QSTR(MP_QSTR_WHITE), MP_ROM_INT(0xFFFF) },
    { MP_ROM_QSTR(MP_QSTR_BLACK), MP_ROM_INT(0x0000) },
    { MP_ROM_QSTR(MP_QSTR_BLUE), MP_ROM_INT(0x001F) },
    { MP_ROM_QSTR(MP_QSTR_DARKBLUE), MP_ROM_INT(0x0010) },
    { MP_ROM_QSTR(MP_QSTR_RED), MP_ROM_INT(0xF800) },
    { MP_ROM_QSTR(MP_QSTR_DARKRED), MP_ROM_INT(0x8000) },
    { MP_ROM_QSTR(MP_QSTR_GREEN), MP_ROM_INT(0x07E0) },
    { MP_ROM_QSTR(MP_QSTR_DARKGREEN), MP_ROM_INT(0x0400) },
    { MP_ROM_QSTR(MP_QSTR_YELLOW), MP_ROM_INT(0xFFE0) },
    { MP_ROM_QSTR(MP_QSTR_CYAN), MP_ROM_INT(0x07FF) },
    { MP_ROM_QSTR(MP_QSTR_MAGENTA), MP_ROM_INT(0xF81F) },
    { MP_ROM_QSTR(MP_QSTR_ORANGE), MP_ROM_INT(0xFD20) },
    { MP_ROM_QSTR(MP_QSTR_GRAY), MP_ROM_INT(0x8410) },
    { MP_ROM_QSTR(MP_QSTR_LIGHTGRAY), MP_ROM_INT(0xD69A) },
};
static MP_DEFINE_CONST_DICT(lcd_module_globals, lcd_module_globals_table);

const mp_obj_module_t lcd_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&lcd_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_lcd, lcd_module);

#endif // MICROPY_HW_LCD_ILI9325
