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
// The port part of the os module (included by extmod/modos.c through
// MICROPY_PY_OS_INCLUDEFILE): os.urandom from the hardware RNG.
#include "py/mperrno.h"
#include "rng.h"

// urandom(n): n bytes from the RNG. OSError(EIO, reason) on a seed or clock error,
// OSError(ETIMEDOUT, reason) when the generator delivers nothing.
static mp_obj_t mp_os_urandom(mp_obj_t num) {
    mp_int_t n = mp_obj_get_int(num);
    if (n < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("urandom: length must be >= 0"));
    }
    vstr_t vstr;
    vstr_init_len(&vstr, n);
    for (mp_int_t i = 0; i < n; i += 4) {
        uint32_t word = 0;
        rng_status_t status = rng_get_word(&word);
        if (status != RNG_OK) {
            vstr_clear(&vstr);
            mp_obj_t exc_args[2] = {
                MP_OBJ_NEW_SMALL_INT(status == RNG_ERR_TIMEOUT ? MP_ETIMEDOUT : MP_EIO),
                mp_obj_new_str_from_cstr(rng_status_str(status)),
            };
            nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, exc_args));
        }
        for (mp_int_t j = 0; j < 4 && i + j < n; j++) {
            vstr.buf[i + j] = word >> (8 * j);
        }
    }
    return mp_obj_new_bytes_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mp_os_urandom_obj, mp_os_urandom);
