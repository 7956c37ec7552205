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
// The stm32crypto module: the CRYP, HASH and RNG peripherals from Python.
//
//   AES(key, mode, iv=None)      .encrypt(data) / .decrypt(data); MODE_ECB, MODE_CBC, MODE_CTR
//   DES(key, mode, iv=None)      8-byte key: DES; 16 or 24 bytes: TDES; MODE_ECB, MODE_CBC
//   aes_gcm_encrypt(key, iv, data, aad=b"") -> (ciphertext, tag)       (STM32F437/439)
//   aes_gcm_decrypt(key, iv, data, tag, aad=b"") -> plaintext
//   aes_ccm_encrypt(key, nonce, data, aad=b"", tag_len=16) -> (ciphertext, tag)
//   aes_ccm_decrypt(key, nonce, data, tag, aad=b"") -> plaintext
//   sha1(data=None), md5(...), sha224(...), sha256(...)   .update(), .digest(), .copy()
//   hmac(key, msg, algo)         algo "sha1", "md5", "sha224" or "sha256"
//   random(n)                    n bytes from the RNG
//   features                     dict: what this chip's peripherals do
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "rng.h"
#include "hwcrypto/cryp.h"
#include "hwcrypto/hash.h"

#if MICROPY_PY_STM32CRYPTO

#define MODE_ECB (1)
#define MODE_CBC (2)
#define MODE_CTR (6)

// ---- errors -------------------------------------------------------------------------------

static NORETURN void raise_os_error(int errno_, const char *msg) {
    mp_obj_t args[2] = {
        MP_OBJ_NEW_SMALL_INT(errno_),
        mp_obj_new_str_from_cstr(msg),
    };
    nlr_raise(mp_obj_new_exception_args(&mp_type_OSError, 2, args));
}

static void check_cryp(cryp_status_t status) {
    switch (status) {
        case CRYP_OK:
            return;
        case CRYP_ERR_TIMEOUT:
            raise_os_error(MP_ETIMEDOUT, cryp_status_str(status));
        case CRYP_ERR_AUTH:
            mp_raise_ValueError(MP_ERROR_TEXT("authentication tag does not match: data not authentic"));
        case CRYP_ERR_UNSUPPORTED:
            mp_raise_NotImplementedError(MP_ERROR_TEXT("not available on this chip's CRYP"));
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("bad CRYP argument"));
    }
}

static void check_hash(hash_status_t status) {
    switch (status) {
        case HASH_OK:
            return;
        case HASH_ERR_TIMEOUT:
            raise_os_error(MP_ETIMEDOUT, hash_status_str(status));
        case HASH_ERR_UNSUPPORTED:
            mp_raise_NotImplementedError(MP_ERROR_TEXT("not available on this chip's HASH"));
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("bad HASH argument or finished context"));
    }
}

// bytes of length len to fill; the caller makes the object with mp_obj_new_bytes_from_vstr
static uint8_t *new_output(vstr_t *vstr, size_t len) {
    vstr_init_len(vstr, len);
    return (uint8_t *)vstr->buf;
}

static void get_aes_key(cryp_aes_key_t *key, mp_obj_t key_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(key_in, &buf, MP_BUFFER_READ);
    if (cryp_aes_setkey(key, buf.buf, buf.len) != CRYP_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("AES key must be 16, 24 or 32 bytes"));
    }
}

// ---- AES ----------------------------------------------------------------------------------

typedef struct _stm32crypto_aes_obj_t {
    mp_obj_base_t base;
    cryp_aes_key_t key;
    uint8_t mode;
    uint8_t iv[16];         // CBC: chaining value; CTR: next counter block
    uint8_t keystream[16];  // CTR: keystream of the last counter block
    uint8_t ks_used;        // CTR: bytes of keystream used (16: none left)
} stm32crypto_aes_obj_t;

static mp_obj_t stm32crypto_aes_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_key, ARG_mode, ARG_iv };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_key, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_mode, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_iv, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_int_t mode = args[ARG_mode].u_int;
    if (mode != MODE_ECB && mode != MODE_CBC && mode != MODE_CTR) {
        mp_raise_ValueError(MP_ERROR_TEXT("AES mode must be MODE_ECB, MODE_CBC or MODE_CTR"));
    }
    stm32crypto_aes_obj_t *self = mp_obj_malloc(stm32crypto_aes_obj_t, type);
    get_aes_key(&self->key, args[ARG_key].u_obj);
    self->mode = mode;
    self->ks_used = 16;
    mp_obj_t iv = args[ARG_iv].u_obj;
    if (mode == MODE_ECB) {
        if (iv != mp_const_none) {
            mp_raise_ValueError(MP_ERROR_TEXT("ECB takes no IV"));
        }
    } else {
        mp_buffer_info_t buf;
        if (iv == mp_const_none) {
            mp_raise_ValueError(MP_ERROR_TEXT("AES CBC and CTR need a 16-byte IV"));
        }
        mp_get_buffer_raise(iv, &buf, MP_BUFFER_READ);
        if (buf.len != 16) {
            mp_raise_ValueError(MP_ERROR_TEXT("AES IV must be 16 bytes"));
        }
        memcpy(self->iv, buf.buf, 16);
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t stm32crypto_aes_run(mp_obj_t self_in, mp_obj_t data_in, bool decrypt) {
    stm32crypto_aes_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t in;
    mp_get_buffer_raise(data_in, &in, MP_BUFFER_READ);
    const uint8_t *src = in.buf;
    size_t len = in.len;
    if (self->mode != MODE_CTR && len % 16 != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("data length must be a multiple of 16 bytes for AES ECB/CBC"));
    }
    vstr_t vstr;
    uint8_t *out = new_output(&vstr, len);
    if (self->mode == MODE_ECB) {
        check_cryp(cryp_aes_ecb(&self->key, decrypt, src, out, len));
    } else if (self->mode == MODE_CBC) {
        check_cryp(cryp_aes_cbc(&self->key, decrypt, self->iv, src, out, len));
    } else {
        // a stream: first what is left of the last keystream block
        size_t i = 0;
        for (; i < len && self->ks_used < 16; i++) {
            out[i] = src[i] ^ self->keystream[self->ks_used++];
        }
        size_t whole = (len - i) & ~(size_t)15;
        check_cryp(cryp_aes_ctr(&self->key, self->iv, src + i, out + i, whole));
        i += whole;
        if (i < len) {
            // keystream for the tail: the next counter block encrypted
            memset(self->keystream, 0, 16);
            check_cryp(cryp_aes_ctr(&self->key, self->iv, self->keystream, self->keystream, 16));
            for (self->ks_used = 0; i < len; i++) {
                out[i] = src[i] ^ self->keystream[self->ks_used++];
            }
        }
    }
    return mp_obj_new_bytes_from_vstr(&vstr);
}

static mp_obj_t stm32crypto_aes_encrypt(mp_obj_t self_in, mp_obj_t data_in) {
    return stm32crypto_aes_run(self_in, data_in, false);
}
static MP_DEFINE_CONST_FUN_OBJ_2(stm32crypto_aes_encrypt_obj, stm32crypto_aes_encrypt);

static mp_obj_t stm32crypto_aes_decrypt(mp_obj_t self_in, mp_obj_t data_in) {
    return stm32crypto_aes_run(self_in, data_in, true);
}
static MP_DEFINE_CONST_FUN_OBJ_2(stm32crypto_aes_decrypt_obj, stm32crypto_aes_decrypt);

static const mp_rom_map_elem_t stm32crypto_aes_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_encrypt), MP_ROM_PTR(&stm32crypto_aes_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_decrypt), MP_ROM_PTR(&stm32crypto_aes_decrypt_obj) },
};
static MP_DEFINE_CONST_DICT(stm32crypto_aes_locals_dict, stm32crypto_aes_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    stm32crypto_aes_type,
    MP_QSTR_AES,
    MP_TYPE_FLAG_NONE,
    make_new, stm32crypto_aes_make_new,
    locals_dict, &stm32crypto_aes_locals_dict
    );

// ---- DES / TDES ---------------------------------------------------------------------------

typedef struct _stm32crypto_des_obj_t {
    mp_obj_base_t base;
    cryp_des_key_t key;
    uint8_t mode;
    uint8_t iv[8];
} stm32crypto_des_obj_t;

static mp_obj_t stm32crypto_des_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_key, ARG_mode, ARG_iv };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_key, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_mode, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_iv, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_int_t mode = args[ARG_mode].u_int;
    if (mode != MODE_ECB && mode != MODE_CBC) {
        mp_raise_ValueError(MP_ERROR_TEXT("DES mode must be MODE_ECB or MODE_CBC"));
    }
    stm32crypto_des_obj_t *self = mp_obj_malloc(stm32crypto_des_obj_t, type);
    mp_buffer_info_t buf;
    mp_get_buffer_raise(args[ARG_key].u_obj, &buf, MP_BUFFER_READ);
    if (cryp_des_setkey(&self->key, buf.buf, buf.len) != CRYP_OK) {
        mp_raise_ValueError(MP_ERROR_TEXT("DES key must be 8 bytes (DES) or 16 or 24 bytes (TDES)"));
    }
    self->mode = mode;
    mp_obj_t iv = args[ARG_iv].u_obj;
    if (mode == MODE_ECB) {
        if (iv != mp_const_none) {
            mp_raise_ValueError(MP_ERROR_TEXT("ECB takes no IV"));
        }
    } else {
        if (iv == mp_const_none) {
            mp_raise_ValueError(MP_ERROR_TEXT("DES CBC needs an 8-byte IV"));
        }
        mp_get_buffer_raise(iv, &buf, MP_BUFFER_READ);
        if (buf.len != 8) {
            mp_raise_ValueError(MP_ERROR_TEXT("DES IV must be 8 bytes"));
        }
        memcpy(self->iv, buf.buf, 8);
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t stm32crypto_des_run(mp_obj_t self_in, mp_obj_t data_in, bool decrypt) {
    stm32crypto_des_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t in;
    mp_get_buffer_raise(data_in, &in, MP_BUFFER_READ);
    if (in.len % 8 != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("data length must be a multiple of 8 bytes for DES/TDES"));
    }
    vstr_t vstr;
    uint8_t *out = new_output(&vstr, in.len);
    if (self->mode == MODE_ECB) {
        check_cryp(cryp_des_ecb(&self->key, decrypt, in.buf, out, in.len));
    } else {
        check_cryp(cryp_des_cbc(&self->key, decrypt, self->iv, in.buf, out, in.len));
    }
    return mp_obj_new_bytes_from_vstr(&vstr);
}

static mp_obj_t stm32crypto_des_encrypt(mp_obj_t self_in, mp_obj_t data_in) {
    return stm32crypto_des_run(self_in, data_in, false);
}
static MP_DEFINE_CONST_FUN_OBJ_2(stm32crypto_des_encrypt_obj, stm32crypto_des_encrypt);

static mp_obj_t stm32crypto_des_decrypt(mp_obj_t self_in, mp_obj_t data_in) {
    return stm32crypto_des_run(self_in, data_in, true);
}
static MP_DEFINE_CONST_FUN_OBJ_2(stm32crypto_des_decrypt_obj, stm32crypto_des_decrypt);

static const mp_rom_map_elem_t stm32crypto_des_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_encrypt), MP_ROM_PTR(&stm32crypto_des_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_decrypt), MP_ROM_PTR(&stm32crypto_des_decrypt_obj) },
};
static MP_DEFINE_CONST_DICT(stm32crypto_des_locals_dict, stm32crypto_des_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    stm32crypto_des_type,
    MP_QSTR_DES,
    MP_TYPE_FLAG_NONE,
    make_new, stm32crypto_des_make_new,
    locals_dict, &stm32crypto_des_locals_dict
    );

// ---- AES-GCM / AES-CCM --------------------------------------------------------------------

#if MICROPY_HW_CRYP_GCM_CCM

static void get_read_buffer(mp_obj_t obj, mp_buffer_info_t *buf) {
    if (obj == mp_const_none) {
        buf->buf = NULL;
        buf->len = 0;
    } else {
        mp_get_buffer_raise(obj, buf, MP_BUFFER_READ);
    }
}

// (key, iv or nonce, data, [tag,] aad) common to the four functions
enum { AEAD_KEY, AEAD_IV, AEAD_DATA, AEAD_TAG, AEAD_AAD, AEAD_TAG_LEN };

static void aead_parse(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args, bool with_tag,
    mp_arg_val_t *args) {
    static const mp_arg_t encrypt_args[] = {
        { MP_QSTR_key, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_iv, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_aad, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tag_len, MP_ARG_INT, {.u_int = 16} },
    };
    static const mp_arg_t decrypt_args[] = {
        { MP_QSTR_key, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_iv, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tag, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_aad, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t parsed[5];
    if (with_tag) {
        mp_arg_parse_all(n_args, pos_args, kw_args, 5, decrypt_args, parsed);
        memcpy(args, parsed, 5 * sizeof(mp_arg_val_t));
        args[AEAD_TAG_LEN].u_int = 16;
    } else {
        mp_arg_parse_all(n_args, pos_args, kw_args, 5, encrypt_args, parsed);
        memcpy(args, parsed, 3 * sizeof(mp_arg_val_t));
        args[AEAD_TAG].u_obj = mp_const_none;
        args[AEAD_AAD] = parsed[3];
        args[AEAD_TAG_LEN] = parsed[4];
    }
}

static mp_obj_t stm32crypto_aead(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args,
    bool ccm, bool decrypt) {
    mp_arg_val_t args[6];
    aead_parse(n_args, pos_args, kw_args, decrypt, args);
    cryp_aes_key_t key;
    mp_buffer_info_t iv, data, tag, aad;
    get_aes_key(&key, args[AEAD_KEY].u_obj);
    mp_get_buffer_raise(args[AEAD_IV].u_obj, &iv, MP_BUFFER_READ);
    mp_get_buffer_raise(args[AEAD_DATA].u_obj, &data, MP_BUFFER_READ);
    get_read_buffer(args[AEAD_AAD].u_obj, &aad);
    get_read_buffer(args[AEAD_TAG].u_obj, &tag);
    size_t tag_len = decrypt ? tag.len : (size_t)args[AEAD_TAG_LEN].u_int;
    if (ccm) {
        if (iv.len < 7 || iv.len > 13) {
            mp_raise_ValueError(MP_ERROR_TEXT("CCM nonce must be 7 to 13 bytes"));
        }
        if (tag_len < 4 || tag_len > 16 || tag_len % 2) {
            mp_raise_ValueError(MP_ERROR_TEXT("CCM tag must be 4, 6, 8, 10, 12, 14 or 16 bytes"));
        }
    } else {
        if (iv.len != 12) {
            mp_raise_ValueError(MP_ERROR_TEXT("GCM IV must be 12 bytes (96 bits)"));
        }
        if (tag_len < 4 || tag_len > 16) {
            mp_raise_ValueError(MP_ERROR_TEXT("GCM tag must be 4 to 16 bytes"));
        }
    }
    vstr_t vstr;
    uint8_t *out = new_output(&vstr, data.len);
    uint8_t computed[16];
    cryp_status_t status;
    if (decrypt) {
        status = ccm
            ? cryp_aes_ccm_auth_decrypt(&key, iv.buf, iv.len, aad.buf, aad.len, data.buf, out, data.len, tag.buf, tag_len)
            : cryp_aes_gcm_auth_decrypt(&key, iv.buf, aad.buf, aad.len, data.buf, out, data.len, tag.buf, tag_len);
    } else {
        status = ccm
            ? cryp_aes_ccm(&key, false, iv.buf, iv.len, aad.buf, aad.len, data.buf, out, data.len, computed, tag_len)
            : cryp_aes_gcm(&key, false, iv.buf, aad.buf, aad.len, data.buf, out, data.len, computed);
    }
    if (status != CRYP_OK) {
        vstr_clear(&vstr);
        check_cryp(status);
    }
    mp_obj_t result = mp_obj_new_bytes_from_vstr(&vstr);
    if (decrypt) {
        return result;
    }
    mp_obj_t pair[2] = { result, mp_obj_new_bytes(computed, tag_len) };
    return mp_obj_new_tuple(2, pair);
}

static mp_obj_t stm32crypto_aes_gcm_encrypt(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    return stm32crypto_aead(n_args, pos_args, kw_args, false, false);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(stm32crypto_aes_gcm_encrypt_obj, 3, stm32crypto_aes_gcm_encrypt);

static mp_obj_t stm32crypto_aes_gcm_decrypt(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    return stm32crypto_aead(n_args, pos_args, kw_args, false, true);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(stm32crypto_aes_gcm_decrypt_obj, 4, stm32crypto_aes_gcm_decrypt);

static mp_obj_t stm32crypto_aes_ccm_encrypt(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    return stm32crypto_aead(n_args, pos_args, kw_args, true, false);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(stm32crypto_aes_ccm_encrypt_obj, 3, stm32crypto_aes_ccm_encrypt);

static mp_obj_t stm32crypto_aes_ccm_decrypt(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    return stm32crypto_aead(n_args, pos_args, kw_args, true, true);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(stm32crypto_aes_ccm_decrypt_obj, 4, stm32crypto_aes_ccm_decrypt);

#else

static mp_obj_t stm32crypto_aead_unavailable(size_t n_args, const mp_obj_t *args) {
    mp_raise_NotImplementedError(MP_ERROR_TEXT(
        "AES-GCM/CCM are not available on the STM32F415/417 CRYP (STM32F437/439 only)"));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR(stm32crypto_aead_unavailable_obj, 0, stm32crypto_aead_unavailable);
#define stm32crypto_aes_gcm_encrypt_obj stm32crypto_aead_unavailable_obj
#define stm32crypto_aes_gcm_decrypt_obj stm32crypto_aead_unavailable_obj
#define stm32crypto_aes_ccm_encrypt_obj stm32crypto_aead_unavailable_obj
#define stm32crypto_aes_ccm_decrypt_obj stm32crypto_aead_unavailable_obj

#endif // MICROPY_HW_CRYP_GCM_CCM

// ---- hashes -------------------------------------------------------------------------------

typedef struct _stm32crypto_hash_obj_t {
    mp_obj_base_t base;
    hash_ctx_t ctx;
} stm32crypto_hash_obj_t;

static const mp_obj_type_t stm32crypto_hash_type;

static mp_obj_t stm32crypto_hash_update(mp_obj_t self_in, mp_obj_t data_in) {
    stm32crypto_hash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t buf;
    mp_get_buffer_raise(data_in, &buf, MP_BUFFER_READ);
    check_hash(hash_update(&self->ctx, buf.buf, buf.len));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(stm32crypto_hash_update_obj, stm32crypto_hash_update);

// The digest of the data so far; the object can go on (a copy is finished).
static mp_obj_t stm32crypto_hash_digest(mp_obj_t self_in) {
    stm32crypto_hash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    hash_ctx_t final;
    uint8_t digest[HASH_MAX_DIGEST_SIZE];
    hash_clone(&final, &self->ctx);
    check_hash(hash_finish(&final, digest));
    return mp_obj_new_bytes(digest, hash_digest_size(self->ctx.algo));
}
static MP_DEFINE_CONST_FUN_OBJ_1(stm32crypto_hash_digest_obj, stm32crypto_hash_digest);

static mp_obj_t stm32crypto_hash_copy(mp_obj_t self_in) {
    stm32crypto_hash_obj_t *self = MP_OBJ_TO_PTR(self_in);
    stm32crypto_hash_obj_t *copy = mp_obj_malloc(stm32crypto_hash_obj_t, &stm32crypto_hash_type);
    hash_clone(&copy->ctx, &self->ctx);
    return MP_OBJ_FROM_PTR(copy);
}
static MP_DEFINE_CONST_FUN_OBJ_1(stm32crypto_hash_copy_obj, stm32crypto_hash_copy);

static const mp_rom_map_elem_t stm32crypto_hash_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_update), MP_ROM_PTR(&stm32crypto_hash_update_obj) },
    { MP_ROM_QSTR(MP_QSTR_digest), MP_ROM_PTR(&stm32crypto_hash_digest_obj) },
    { MP_ROM_QSTR(MP_QSTR_copy), MP_ROM_PTR(&stm32crypto_hash_copy_obj) },
};
static MP_DEFINE_CONST_DICT(stm32crypto_hash_locals_dict, stm32crypto_hash_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    stm32crypto_hash_type,
    MP_QSTR_hash,
    MP_TYPE_FLAG_NONE,
    locals_dict, &stm32crypto_hash_locals_dict
    );

static mp_obj_t stm32crypto_hash_new(hash_algo_t algo, size_t n_args, const mp_obj_t *args) {
    if (!hash_algo_available(algo)) {
        if (algo == HASH_ALGO_SHA224) {
            mp_raise_NotImplementedError(MP_ERROR_TEXT(
                "SHA-224 is not available on the STM32F415/417 HASH; use software (hashlib)"));
        }
        mp_raise_NotImplementedError(MP_ERROR_TEXT(
            "SHA-256 is not available on the STM32F415/417 HASH; use hashlib.sha256 (software)"));
    }
    stm32crypto_hash_obj_t *self = mp_obj_malloc(stm32crypto_hash_obj_t, &stm32crypto_hash_type);
    check_hash(hash_init(&self->ctx, algo));
    if (n_args > 0) {
        stm32crypto_hash_update(MP_OBJ_FROM_PTR(self), args[0]);
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t stm32crypto_sha1(size_t n_args, const mp_obj_t *args) {
    return stm32crypto_hash_new(HASH_ALGO_SHA1, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stm32crypto_sha1_obj, 0, 1, stm32crypto_sha1);

static mp_obj_t stm32crypto_md5(size_t n_args, const mp_obj_t *args) {
    return stm32crypto_hash_new(HASH_ALGO_MD5, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stm32crypto_md5_obj, 0, 1, stm32crypto_md5);

static mp_obj_t stm32crypto_sha224(size_t n_args, const mp_obj_t *args) {
    return stm32crypto_hash_new(HASH_ALGO_SHA224, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stm32crypto_sha224_obj, 0, 1, stm32crypto_sha224);

static mp_obj_t stm32crypto_sha256(size_t n_args, const mp_obj_t *args) {
    return stm32crypto_hash_new(HASH_ALGO_SHA256, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(stm32crypto_sha256_obj, 0, 1, stm32crypto_sha256);

static mp_obj_t stm32crypto_hmac(mp_obj_t key_in, mp_obj_t msg_in, mp_obj_t algo_in) {
    static const qstr names[] = { MP_QSTR_sha1, MP_QSTR_md5, MP_QSTR_sha224, MP_QSTR_sha256 };
    qstr name = mp_obj_str_get_qstr(algo_in);
    hash_algo_t algo = HASH_ALGO_SHA1;
    while (algo < MP_ARRAY_SIZE(names) && names[algo] != name) {
        algo++;
    }
    if (algo == MP_ARRAY_SIZE(names)) {
        mp_raise_ValueError(MP_ERROR_TEXT("HMAC algo must be 'sha1', 'md5', 'sha224' or 'sha256'"));
    }
    if (!hash_algo_available(algo)) {
        mp_raise_NotImplementedError(MP_ERROR_TEXT(
            "HMAC-SHA-224/256 is not available on the STM32F415/417 HASH; use software (hashlib)"));
    }
    mp_buffer_info_t key, msg;
    mp_get_buffer_raise(key_in, &key, MP_BUFFER_READ);
    mp_get_buffer_raise(msg_in, &msg, MP_BUFFER_READ);
    uint8_t mac[HASH_MAX_DIGEST_SIZE];
    check_hash(hash_hmac(algo, key.buf, key.len, msg.buf, msg.len, mac));
    return mp_obj_new_bytes(mac, hash_digest_size(algo));
}
static MP_DEFINE_CONST_FUN_OBJ_3(stm32crypto_hmac_obj, stm32crypto_hmac);

// ---- RNG ----------------------------------------------------------------------------------

static mp_obj_t stm32crypto_random(mp_obj_t n_in) {
    mp_int_t n = mp_obj_get_int(n_in);
    if (n < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("random: length must be >= 0"));
    }
    vstr_t vstr;
    uint8_t *out = new_output(&vstr, n);
    for (mp_int_t i = 0; i < n; i += 4) {
        uint32_t word = 0;
        rng_status_t status = rng_get_word(&word);
        if (status != RNG_OK) {
            vstr_clear(&vstr);
            raise_os_error(status == RNG_ERR_TIMEOUT ? MP_ETIMEDOUT : MP_EIO, rng_status_str(status));
        }
        for (mp_int_t j = 0; j < 4 && i + j < n; j++) {
            out[i + j] = word >> (8 * j);
        }
    }
    return mp_obj_new_bytes_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(stm32crypto_random_obj, stm32crypto_random);

// ---- the module ---------------------------------------------------------------------------

#define HAS(x) ((x) ? MP_ROM_TRUE : MP_ROM_FALSE)

static const mp_rom_map_elem_t stm32crypto_features_table[] = {
    { MP_ROM_QSTR(MP_QSTR_aes), MP_ROM_TRUE },
    { MP_ROM_QSTR(MP_QSTR_des), MP_ROM_TRUE },
    { MP_ROM_QSTR(MP_QSTR_tdes), MP_ROM_TRUE },
    { MP_ROM_QSTR(MP_QSTR_aes_gcm), HAS(MICROPY_HW_CRYP_GCM_CCM) },
    { MP_ROM_QSTR(MP_QSTR_aes_ccm), HAS(MICROPY_HW_CRYP_GCM_CCM) },
    { MP_ROM_QSTR(MP_QSTR_sha1), MP_ROM_TRUE },
    { MP_ROM_QSTR(MP_QSTR_md5), MP_ROM_TRUE },
    { MP_ROM_QSTR(MP_QSTR_sha224), HAS(MICROPY_HW_HASH_SHA224_256) },
    { MP_ROM_QSTR(MP_QSTR_sha256), HAS(MICROPY_HW_HASH_SHA224_256) },
    { MP_ROM_QSTR(MP_QSTR_hmac), MP_ROM_TRUE },
    { MP_ROM_QSTR(MP_QSTR_rng), MP_ROM_TRUE },
};
static MP_DEFINE_CONST_DICT(stm32crypto_features, stm32crypto_features_table);

static const mp_rom_map_elem_t stm32crypto_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_stm32crypto) },
    { MP_ROM_QSTR(MP_QSTR_AES), MP_ROM_PTR(&stm32crypto_aes_type) },
    { MP_ROM_QSTR(MP_QSTR_DES), MP_ROM_PTR(&stm32crypto_des_type) },
    { MP_ROM_QSTR(MP_QSTR_MODE_ECB), MP_ROM_INT(MODE_ECB) },
    { MP_ROM_QSTR(MP_QSTR_MODE_CBC), MP_ROM_INT(MODE_CBC) },
    { MP_ROM_QSTR(MP_QSTR_MODE_CTR), MP_ROM_INT(MODE_CTR) },
    { MP_ROM_QSTR(MP_QSTR_aes_gcm_encrypt), MP_ROM_PTR(&stm32crypto_aes_gcm_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_gcm_decrypt), MP_ROM_PTR(&stm32crypto_aes_gcm_decrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_ccm_encrypt), MP_ROM_PTR(&stm32crypto_aes_ccm_encrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_aes_ccm_decrypt), MP_ROM_PTR(&stm32crypto_aes_ccm_decrypt_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha1), MP_ROM_PTR(&stm32crypto_sha1_obj) },
    { MP_ROM_QSTR(MP_QSTR_md5), MP_ROM_PTR(&stm32crypto_md5_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha224), MP_ROM_PTR(&stm32crypto_sha224_obj) },
    { MP_ROM_QSTR(MP_QSTR_sha256), MP_ROM_PTR(&stm32crypto_sha256_obj) },
    { MP_ROM_QSTR(MP_QSTR_hmac), MP_ROM_PTR(&stm32crypto_hmac_obj) },
    { MP_ROM_QSTR(MP_QSTR_random), MP_ROM_PTR(&stm32crypto_random_obj) },
    { MP_ROM_QSTR(MP_QSTR_features), MP_ROM_PTR(&stm32crypto_features) },
};
static MP_DEFINE_CONST_DICT(stm32crypto_module_globals, stm32crypto_module_globals_table);

const mp_obj_module_t stm32crypto_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&stm32crypto_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_stm32crypto, stm32crypto_module);

#endif // MICROPY_PY_STM32CRYPTO
