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
// machine.Pin: a minimal GPIO pin (input, push-pull or open-drain output, pulls).
//
//     from machine import Pin
//     p = Pin("PC7", Pin.OUT, value=0)   # port letter and number; "C7" works too
//     p.on(); p.off(); p.value(1); p()
//     b = Pin("PA0", Pin.IN, Pin.PULL_DOWN); b.value()
#include "py/runtime.h"
#include "py/mphal.h"
#include "gpio.h"

enum {
    PIN_MODE_IN = 0,
    PIN_MODE_OUT = 1,
    PIN_MODE_OPEN_DRAIN = 2,
};

typedef struct _machine_pin_obj_t {
    mp_obj_base_t base;
    uint8_t port;       // 0 = A
    uint8_t pin;        // 0..15
} machine_pin_obj_t;

// "PC7", "pc7" or "C7" -> port 2, pin 7; false if it names no pin of this chip.
static bool pin_parse_name(const char *name, uint8_t *port, uint8_t *pin) {
    unsigned n = 0;
    const char *p = name;
    if ((p[0] == 'P' || p[0] == 'p') && unichar_isalpha(p[1])) {
        p++;
    }
    char letter = unichar_toupper(*p++);
    if (letter < 'A' || letter > MICROPY_HW_GPIO_LAST_PORT || !unichar_isdigit(*p)) {
        return false;
    }
    while (unichar_isdigit(*p)) {
        n = n * 10 + (unsigned)(*p++ - '0');
        if (n > 15) {
            return false;
        }
    }
    if (*p != '\0') {
        return false;
    }
    *port = letter - 'A';
    *pin = n;
    return true;
}

static void machine_pin_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    machine_pin_obj_t *self = MP_OBJ_TO_PTR(self_in);
    unsigned mode = gpio_get_mode(self->port, self->pin);
    unsigned pull = gpio_get_pull(self->port, self->pin);
    const char *mode_str;
    if (mode == GPIO_MODE_INPUT) {
        mode_str = "IN";
    } else if (mode == GPIO_MODE_OUTPUT) {
        mode_str = gpio_is_open_drain(self->port, self->pin) ? "OPEN_DRAIN" : "OUT";
    } else if (mode == GPIO_MODE_AF) {
        mode_str = "ALT";
    } else {
        mode_str = "ANALOG";
    }
    mp_printf(print, "Pin('P%c%u', mode=Pin.%s, pull=%s)", 'A' + self->port, self->pin, mode_str,
        pull == GPIO_PULL_UP ? "Pin.PULL_UP" : pull == GPIO_PULL_DOWN ? "Pin.PULL_DOWN" : "None");
}

static mp_obj_t machine_pin_obj_init_helper(machine_pin_obj_t *self, size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_mode, ARG_pull, ARG_value };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_mode, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_pull, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_value, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    unsigned pull = GPIO_PULL_NONE;
    if (args[ARG_pull].u_obj != mp_const_none) {
        mp_int_t p = mp_obj_get_int(args[ARG_pull].u_obj);
        if (p != GPIO_PULL_UP && p != GPIO_PULL_DOWN) {
            mp_raise_ValueError(MP_ERROR_TEXT("pull must be None, Pin.PULL_UP or Pin.PULL_DOWN"));
        }
        pull = p;
    }
    // Set the output level before the pin becomes an output, so it never glitches.
    if (args[ARG_value].u_obj != mp_const_none) {
        gpio_clock_enable(self->port);
        gpio_write(self->port, self->pin, mp_obj_is_true(args[ARG_value].u_obj));
    }
    if (args[ARG_mode].u_obj != mp_const_none) {
        mp_int_t mode = mp_obj_get_int(args[ARG_mode].u_obj);
        switch (mode) {
            case PIN_MODE_IN:
                gpio_config(self->port, self->pin, GPIO_MODE_INPUT, pull, false, GPIO_SPEED_LOW, 0);
                break;
            case PIN_MODE_OUT:
            case PIN_MODE_OPEN_DRAIN:
                gpio_config(self->port, self->pin, GPIO_MODE_OUTPUT, pull, mode == PIN_MODE_OPEN_DRAIN,
                    GPIO_SPEED_LOW, 0);
                break;
            default:
                mp_raise_ValueError(MP_ERROR_TEXT("mode must be Pin.IN, Pin.OUT or Pin.OPEN_DRAIN"));
        }
    } else if (args[ARG_pull].u_obj != mp_const_none) {
        gpio_clock_enable(self->port);
        GPIO_PORT(self->port)->PUPDR = (GPIO_PORT(self->port)->PUPDR & ~(3UL << (self->pin * 2)))
            | ((uint32_t)pull << (self->pin * 2));
    }
    return mp_const_none;
}

// Pin(id, mode=None, pull=None, *, value=None)
static mp_obj_t machine_pin_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, MP_OBJ_FUN_ARGS_MAX, true);
    machine_pin_obj_t *self;
    if (mp_obj_is_type(args[0], &machine_pin_type)) {
        self = MP_OBJ_TO_PTR(args[0]);
    } else {
        uint8_t port, pin;
        const char *name = mp_obj_str_get_str(args[0]);
        if (!pin_parse_name(name, &port, &pin)) {
            mp_raise_msg_varg(&mp_type_ValueError,
                MP_ERROR_TEXT("no pin '%s': use a name like 'PC7' (ports A..%c, pins 0..15)"),
                name, MICROPY_HW_GPIO_LAST_PORT);
        }
        self = mp_obj_malloc(machine_pin_obj_t, &machine_pin_type);
        self->port = port;
        self->pin = pin;
    }
    if (n_args > 1 || n_kw > 0) {
        mp_map_t kw_args;
        mp_map_init_fixed_table(&kw_args, n_kw, args + n_args);
        machine_pin_obj_init_helper(self, n_args - 1, args + 1, &kw_args);
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t machine_pin_call(mp_obj_t self_in, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    machine_pin_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    if (n_args == 0) {
        return MP_OBJ_NEW_SMALL_INT(gpio_read(self->port, self->pin));
    }
    gpio_write(self->port, self->pin, mp_obj_is_true(args[0]));
    return mp_const_none;
}

static mp_obj_t machine_pin_obj_init(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args) {
    return machine_pin_obj_init_helper(MP_OBJ_TO_PTR(args[0]), n_args - 1, args + 1, kw_args);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(machine_pin_init_obj, 1, machine_pin_obj_init);

static mp_obj_t machine_pin_value(size_t n_args, const mp_obj_t *args) {
    return machine_pin_call(args[0], n_args - 1, 0, args + 1);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(machine_pin_value_obj, 1, 2, machine_pin_value);

static mp_obj_t machine_pin_on(mp_obj_t self_in) {
    machine_pin_obj_t *self = MP_OBJ_TO_PTR(self_in);
    gpio_write(self->port, self->pin, true);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(machine_pin_on_obj, machine_pin_on);

static mp_obj_t machine_pin_off(mp_obj_t self_in) {
    machine_pin_obj_t *self = MP_OBJ_TO_PTR(self_in);
    gpio_write(self->port, self->pin, false);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(machine_pin_off_obj, machine_pin_off);

static const mp_rom_map_elem_t machine_pin_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&machine_pin_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_value), MP_ROM_PTR(&machine_pin_value_obj) },
    { MP_ROM_QSTR(MP_QSTR_on), MP_ROM_PTR(&machine_pin_on_obj) },
    { MP_ROM_QSTR(MP_QSTR_off), MP_ROM_PTR(&machine_pin_off_obj) },
    { MP_ROM_QSTR(MP_QSTR_IN), MP_ROM_INT(PIN_MODE_IN) },
    { MP_ROM_QSTR(MP_QSTR_OUT), MP_ROM_INT(PIN_MODE_OUT) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_DRAIN), MP_ROM_INT(PIN_MODE_OPEN_DRAIN) },
    { MP_ROM_QSTR(MP_QSTR_PULL_UP), MP_ROM_INT(GPIO_PULL_UP) },
    { MP_ROM_QSTR(MP_QSTR_PULL_DOWN), MP_ROM_INT(GPIO_PULL_DOWN) },
};
static MP_DEFINE_CONST_DICT(machine_pin_locals_dict, machine_pin_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    machine_pin_type,
    MP_QSTR_Pin,
    MP_TYPE_FLAG_NONE,
    make_new, machine_pin_make_new,
    print, machine_pin_print,
    call, machine_pin_call,
    locals_dict, &machine_pin_locals_dict
    );
