/*
 * This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
 *
 * The MIT License (MIT)
 *
 * Copyright (c) 2026 The STM32F4 SSL/TLS lab authors
 *
 * SPDX-License-Identifier: MIT
 * The licence text is in LICENSE at the top of the repository.
 */
// machine.LED: the board's user LEDs by name, colour or number.
//
//     from machine import LED
//     led = LED("LED4")            # or LED("blue"), LED(4)
//     led.on(); led.off(); led.toggle(); led.value(1); led.value()
#include "py/runtime.h"
#include "gpio.h"
#include "machine_led.h"

typedef struct _machine_led_obj_t {
    mp_obj_base_t base;
    const char *name;
    const char *colour;
    char port;
    uint8_t pin;
} machine_led_obj_t;

static const machine_led_obj_t machine_led_obj[] = {
    #define LED_ENTRY(name, colour, port, pin) { { &machine_led_type }, name, colour, port, pin },
    MICROPY_HW_LEDS(LED_ENTRY)
    #undef LED_ENTRY
};
#define NUM_LEDS MP_ARRAY_SIZE(machine_led_obj)

// Case-insensitive ASCII comparison (no C library locale machinery on the board).
static bool name_matches(const char *a, const char *b) {
    while (*a && unichar_tolower(*a) == unichar_tolower(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static void led_write(const machine_led_obj_t *led, bool on) {
    gpio_write(GPIO_INDEX(led->port), led->pin, on != MICROPY_HW_LED_ACTIVE_LOW);
}

static bool led_is_on(const machine_led_obj_t *led) {
    return gpio_read_output(GPIO_INDEX(led->port), led->pin) != MICROPY_HW_LED_ACTIVE_LOW;
}

void machine_led_init(void) {
    for (size_t i = 0; i < NUM_LEDS; i++) {
        const machine_led_obj_t *led = &machine_led_obj[i];
        led_write(led, false);
        gpio_config(GPIO_INDEX(led->port), led->pin, GPIO_MODE_OUTPUT, GPIO_PULL_NONE, false,
            GPIO_SPEED_LOW, 0);
        led_write(led, false);
    }
}

void machine_led_set(unsigned n, bool on) {
    if (n >= 1 && n <= NUM_LEDS) {
        led_write(&machine_led_obj[n - 1], on);
    }
}

static void machine_led_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    machine_led_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "LED(\"%s\")", self->name);
}

// LED(id): id is 1..4, the silkscreen name ("LED4", any case) or the colour ("blue").
static mp_obj_t machine_led_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    if (mp_obj_is_int(args[0])) {
        mp_int_t n = mp_obj_get_int(args[0]);
        if (n < 1 || n > (mp_int_t)NUM_LEDS) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("LED number must be 1..%d"), (int)NUM_LEDS);
        }
        return MP_OBJ_FROM_PTR(&machine_led_obj[n - 1]);
    }
    const char *id = mp_obj_str_get_str(args[0]);
    for (size_t i = 0; i < NUM_LEDS; i++) {
        if (name_matches(id, machine_led_obj[i].name) || name_matches(id, machine_led_obj[i].colour)) {
            return MP_OBJ_FROM_PTR(&machine_led_obj[i]);
        }
    }
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("no LED '%s' on this board (LED1..LED%d)"), id, (int)NUM_LEDS);
}

static mp_obj_t machine_led_on(mp_obj_t self_in) {
    led_write(MP_OBJ_TO_PTR(self_in), true);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(machine_led_on_obj, machine_led_on);

static mp_obj_t machine_led_off(mp_obj_t self_in) {
    led_write(MP_OBJ_TO_PTR(self_in), false);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(machine_led_off_obj, machine_led_off);

static mp_obj_t machine_led_toggle(mp_obj_t self_in) {
    const machine_led_obj_t *self = MP_OBJ_TO_PTR(self_in);
    led_write(self, !led_is_on(self));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(machine_led_toggle_obj, machine_led_toggle);

static mp_obj_t machine_led_value(size_t n_args, const mp_obj_t *args) {
    const machine_led_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    if (n_args == 1) {
        return MP_OBJ_NEW_SMALL_INT(led_is_on(self));
    }
    led_write(self, mp_obj_is_true(args[1]));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(machine_led_value_obj, 1, 2, machine_led_value);

static const mp_rom_map_elem_t machine_led_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_on), MP_ROM_PTR(&machine_led_on_obj) },
    { MP_ROM_QSTR(MP_QSTR_off), MP_ROM_PTR(&machine_led_off_obj) },
    { MP_ROM_QSTR(MP_QSTR_toggle), MP_ROM_PTR(&machine_led_toggle_obj) },
    { MP_ROM_QSTR(MP_QSTR_value), MP_ROM_PTR(&machine_led_value_obj) },
};
static MP_DEFINE_CONST_DICT(machine_led_locals_dict, machine_led_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    machine_led_type,
    MP_QSTR_LED,
    MP_TYPE_FLAG_NONE,
    make_new, machine_led_make_new,
    print, machine_led_print,
    locals_dict, &machine_led_locals_dict
    );
