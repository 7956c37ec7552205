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
// The descbc module: DES and TDES in CBC mode through mbedTLS, as cryptolib is for AES.
// In a HW_CRYPTO=1 build mbedTLS's DES is the CRYP (mbedtls/des_alt.c), in a HW_CRYPTO=0
// build it is mbedTLS's software DES, so the two builds can be compared on the same call
// (stm32crypto.DES is the CRYP in both).
//
//   descbc.DES(key, iv)    8-byte key: DES; 16 or 24 bytes: TDES; 8-byte IV
//       .encrypt(data[, out]), .decrypt(data[, out])
//           data a multiple of 8 bytes; the result in out (as long as data) if given, else
//           returned as bytes; the IV chains on from call to call
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "mbedtls/des.h"

#if MICROPY_PY_DESCBC

typedef struct _descbc_obj_t {
    mp_obj_base_t base;
    bool tdes;
    uint8_t iv[8];
    union {
        struct {
            mbedtls_des_context enc, dec;
        } des;
        struct {
            mbedtls_des3_context enc, dec;
        } des3;
    } u;
} descbc_obj_t;

static mp_obj_t descbc_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 2, 2, false);
    mp_buffer_info_t key, iv;
    mp_get_buffer_raise(args[0], &key, MP_BUFFER_READ);
    mp_get_buffer_raise(args[1], &iv, MP_BUFFER_READ);
    if (key.len != 8 && key.len != 16 && key.len != 24) {
        mp_raise_ValueError(MP_ERROR_TEXT("DES key must be 8 bytes (DES) or 16 or 24 bytes (TDES)"));
    }
    if (iv.len != 8) {
        mp_raise_ValueError(MP_ERROR_TEXT("DES IV must be 8 bytes"));
    }
    descbc_obj_t *self = mp_obj_malloc(descbc_obj_t, type);
    memcpy(self->iv, iv.buf, 8);
    self->tdes = key.len != 8;
    int ret;
    if (!self->tdes) {
        mbedtls_des_init(&self->u.des.enc);
        mbedtls_des_init(&self->u.des.dec);
        ret = mbedtls_des_setkey_enc(&self->u.des.enc, key.buf)
            | mbedtls_des_setkey_dec(&self->u.des.dec, key.buf);
    } else {
        mbedtls_des3_init(&self->u.des3.enc);
        mbedtls_des3_init(&self->u.des3.dec);
        if (key.len == 16) {
            ret = mbedtls_des3_set2key_enc(&self->u.des3.enc, key.buf)
                | mbedtls_des3_set2key_dec(&self->u.des3.dec, key.buf);
        } else {
            ret = mbedtls_des3_set3key_enc(&self->u.des3.enc, key.buf)
                | mbedtls_des3_set3key_dec(&self->u.des3.dec, key.buf);
        }
    }
    if (ret != 0) {
        mp_raise_OSError(MP_EIO);
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t descbc_run(size_t n_args, const mp_obj_t *args, int mode) {
    descbc_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_buffer_info_t in;
    mp_get_buffer_raise(args[1], &in, MP_BUFFER_READ);
    if (in.len % 8 != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("data length must be a multiple of 8 bytes for DES/TDES"));
    }
    vstr_t vstr;
    uint8_t *out;
    if (n_args > 2) {
        mp_buffer_info_t outbuf;
        mp_get_buffer_raise(args[2], &outbuf, MP_BUFFER_WRITE);
        if (outbuf.len != in.len) {
            mp_raise_ValueError(MP_ERROR_TEXT("output must be as long as the input"));
        }
        out = outbuf.buf;
    } else {
        vstr_init_len(&vstr, in.len);
        out = (uint8_t *)vstr.buf;
    }
    int ret;
    if (!self->tdes) {
        mbedtls_des_context *ctx = mode == MBEDTLS_DES_ENCRYPT ? &self->u.des.enc : &self->u.des.dec;
        ret = mbedtls_des_crypt_cbc(ctx, mode, in.len, self->iv, in.buf, out);
    } else {
        mbedtls_des3_context *ctx = mode == MBEDTLS_DES_ENCRYPT ? &self->u.des3.enc : &self->u.des3.dec;
        ret = mbedtls_des3_crypt_cbc(ctx, mode, in.len, self->iv, in.buf, out);
    }
    if (ret != 0) {
        mp_raise_OSError(MP_EIO);
    }
    return n_args > 2 ? mp_const_none : mp_obj_new_bytes_from_vstr(&vstr);
}

static mp_obj_t descbc_encrypt(size_t n_args, const mp_obj_t *args) {
    return descbc_run(n_args, args, MBEDTLS_DES_ENCRYPT);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(descbc_encrypt_obj, 2, 3, descbc_encrypt);

static mp_obj_t descbc_decrypt(size_t n_args, const mp_obj_t *args) {
    return descbc_run(n_args, args, MBEDTLS_DES_DECRYPT);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(descbc_decrypt_obj, 2, 3, descbc_decrypt);

static const mp_rom_map_elem_t descbc_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_encrypt), MP_ROM_PTR(&descbc_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_decrypt), MP_ROM_PTR(&descbc_decrypt_obj) },
};
static MP_DEFINE_CONST_DICT(descbc_locals_dict, descbc_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    descbc_type,
    MP_QSTR_DES,
    MP_TYPE_FLAG_NONE,
    make_new, descbc_make_new,
    locals_dict, &descbc_locals_dict
    );

static const mp_rom_map_elem_t descbc_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_descbc) },
    { MP_ROM_QSTR(MP_QSTR_DES), MP_ROM_PTR(&descbc_type) },
};
static MP_DEFINE_CONST_DICT(descbc_module_globals, descbc_module_globals_table);

const mp_obj_module_t descbc_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&descbc_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_descbc, descbc_module);

#endif // MICROPY_PY_DESCBC
