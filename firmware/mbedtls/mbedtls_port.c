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
// mbedTLS platform glue for the lab's boards: entropy from the RNG, a settable wall clock for
// certificate dates, counted allocations, and the port's extras on the `tls` module
// (set_time, time, selftest, mem_info, strerror, reserve, heap, gcm, ccm, hmac, prf).
#include <string.h>

// ssl_misc.h (mbedTLS's library directory) for the record buffer sizes reads private fields
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "py/runtime.h"
#include "py/mphal.h"

#if MICROPY_PY_SSL && MICROPY_SSL_MBEDTLS

#include "mbedtls/platform.h"
#include "mbedtls/platform_time.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/entropy.h"
#include "mbedtls/aes.h"
#include "mbedtls/des.h"
#include "mbedtls/md5.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"
#include "mbedtls/gcm.h"
#include "mbedtls/ccm.h"
#include "mbedtls/md.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/constant_time.h"
#include "mbedtls/x509_crt.h"
#include "ssl_misc.h"                   // MBEDTLS_SSL_IN_BUFFER_LEN, _OUT_BUFFER_LEN
#include "py/gc.h"
#include "rng.h"
#include "systick.h"

/******************************************************************************/
// Memory: mbedTLS allocates from MicroPython's GC heap as tracked allocations (kept alive
// until freed, whatever the GC sees), with an 8-byte header holding the size so that
// tls.mem_info() can tell what TLS holds now and held at most: what one more session costs.
//
// A session's two record buffers (MBEDTLS_SSL_IN_BUFFER_LEN, ~16.7 KiB, and _OUT_, ~4.4 KiB)
// need contiguous blocks, which a heap fragmented by Python objects may no longer have
// even with enough free bytes. tls.reserve(n) sets aside n pairs of them while the heap is
// still whole (an application does it when it starts); mbedTLS then gets its record
// buffers from there, and everything else from the heap.

void *m_tracked_calloc(size_t nmemb, size_t size);
void m_tracked_free(void *ptr);

static size_t tls_mem_now, tls_mem_peak, tls_mem_blocks;

#define TLS_POOL_MAX (16)
MP_REGISTER_ROOT_POINTER(void *stm32lab_tls_pool[16]);   // keeps the blocks alive
static size_t tls_pool_size[TLS_POOL_MAX];
static bool tls_pool_used[TLS_POOL_MAX];

static void *tls_pool_take(size_t n) {
    for (size_t i = 0; i < TLS_POOL_MAX; i++) {
        void *p = MP_STATE_VM(stm32lab_tls_pool)[i];
        if (p != NULL && !tls_pool_used[i] && tls_pool_size[i] == n) {
            tls_pool_used[i] = true;
            memset(p, 0, n);
            return p;
        }
    }
    return NULL;
}

static bool tls_pool_give(void *ptr) {
    for (size_t i = 0; i < TLS_POOL_MAX; i++) {
        if (MP_STATE_VM(stm32lab_tls_pool)[i] == ptr) {
            tls_pool_used[i] = false;
            return true;
        }
    }
    return false;
}

// After a soft reset the heap is new: forget the old blocks (main.c).
void stm32lab_tls_port_init(void) {
    for (size_t i = 0; i < TLS_POOL_MAX; i++) {
        MP_STATE_VM(stm32lab_tls_pool)[i] = NULL;
        tls_pool_size[i] = 0;
        tls_pool_used[i] = false;
    }
    tls_mem_now = tls_mem_peak = tls_mem_blocks = 0;
}

void *stm32lab_tls_calloc(size_t nmemb, size_t size) {
    if (size != 0 && nmemb > (SIZE_MAX - 8) / size) {
        return NULL;
    }
    size_t n = nmemb * size;
    uint8_t *p = NULL;
    if (n == MBEDTLS_SSL_IN_BUFFER_LEN || n == MBEDTLS_SSL_OUT_BUFFER_LEN) {
        p = tls_pool_take(n);
    }
    if (p == NULL) {
        p = m_tracked_calloc(1, n + 8);
        if (p == NULL) {
            return NULL;
        }
        *(size_t *)p = n;
        p += 8;
        tls_mem_blocks++;
    }
    tls_mem_now += n;
    if (tls_mem_now > tls_mem_peak) {
        tls_mem_peak = tls_mem_now;
    }
    return p;
}

void stm32lab_tls_free(void *ptr) {
    if (ptr == NULL) {
        return;
    }
    for (size_t i = 0; i < TLS_POOL_MAX; i++) {
        if (MP_STATE_VM(stm32lab_tls_pool)[i] == ptr) {
            tls_mem_now -= tls_pool_size[i];
            tls_pool_give(ptr);
            return;
        }
    }
    uint8_t *p = (uint8_t *)ptr - 8;
    tls_mem_now -= *(size_t *)p;
    tls_mem_blocks--;
    m_tracked_free(p);
}

/******************************************************************************/
// Entropy. With the RNG peripheral: its words. A failing RNG (seed/clock error, no data)
// fails the entropy source, so no DRBG is ever seeded from anything else.
//
// Without one (the Nucleo-F411RE): a seed provisioned from outside, tls.seed(bytes) of at
// least 32 bytes (the lab's launcher hands each boot a fresh one from the host), stretched
// as SHA-256(seed | counter | cycle counter). Until a seed is given the source fails, and
// so does every handshake. This is mbedTLS's NV seed idea (MBEDTLS_ENTROPY_NV_SEED): on a
// real board without an RNG, each device needs its own seed written at production and a
// new one stored back in flash at every boot, or two boots draw the same random numbers.
// The emulated board has no flash writes for it; its seed comes with every boot instead.

#if MICROPY_HW_HAS_RNG
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen) {
    (void)data;
    *olen = 0;
    while (*olen < len) {
        uint32_t word;
        if (rng_get_word(&word) != RNG_OK) {
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
        for (int i = 0; i < 4 && *olen < len; i++) {
            output[(*olen)++] = word >> (8 * i);
        }
    }
    return 0;
}

// rand() for mbedTLS's RSA self-test (its test RNG); there is no C library here.
int rand(void) {
    uint32_t word = 0;
    rng_get_word(&word);
    return word & 0x7fffffff;
}
#else
static uint8_t tls_seed[64];
static size_t tls_seed_len;
static uint32_t tls_seed_counter;

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen) {
    (void)data;
    *olen = 0;
    if (tls_seed_len < 32) {
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    while (*olen < len) {
        uint8_t block[32];
        uint32_t extra[2] = { tls_seed_counter++, systick_cycles() };
        mbedtls_sha256_context ctx;
        mbedtls_sha256_init(&ctx);
        if (mbedtls_sha256_starts(&ctx, 0) != 0
            || mbedtls_sha256_update(&ctx, tls_seed, tls_seed_len) != 0
            || mbedtls_sha256_update(&ctx, (const uint8_t *)extra, sizeof(extra)) != 0
            || mbedtls_sha256_finish(&ctx, block) != 0) {
            mbedtls_sha256_free(&ctx);
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
        mbedtls_sha256_free(&ctx);
        size_t n = len - *olen < sizeof(block) ? len - *olen : sizeof(block);
        memcpy(output + *olen, block, n);
        *olen += n;
    }
    return 0;
}

int rand(void) {
    uint8_t b[4];
    size_t n;
    if (mbedtls_hardware_poll(NULL, b, sizeof(b), &n) != 0) {
        return (int)(systick_cycles() & 0x7fffffff);
    }
    return (int)((b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24) & 0x7fffffff);
}

// tls.seed(bytes): the entropy seed of a board without an RNG (32 to 64 bytes).
static mp_obj_t tls_port_seed(mp_obj_t seed_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(seed_in, &buf, MP_BUFFER_READ);
    if (buf.len < 32 || buf.len > sizeof(tls_seed)) {
        mp_raise_ValueError(MP_ERROR_TEXT("tls.seed: give 32 to 64 bytes"));
    }
    memcpy(tls_seed, buf.buf, buf.len);
    tls_seed_len = buf.len;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tls_port_seed_obj, tls_port_seed);
#endif

/******************************************************************************/
// Wall clock: seconds since 1970-01-01 UTC, kept as milliseconds from the SysTick counter.
// The board has no battery-backed RTC, so the clock starts at STM32LAB_TLS_TIME_FLOOR (the
// firmware's release date) at every boot until tls.set_time() is called.

#ifndef STM32LAB_TLS_TIME_FLOOR
#define STM32LAB_TLS_TIME_FLOOR (1793491200) // 2026-11-01 00:00:00 UTC
#endif

static int64_t tls_clock_ms = (int64_t)STM32LAB_TLS_TIME_FLOOR * 1000;
static uint32_t tls_clock_ticks;
static bool tls_clock_started;
static bool tls_clock_set;

// Advance the clock by the ticks since the last call (32-bit wrap-safe).
static int64_t tls_clock_now_ms(void) {
    uint32_t now = mp_hal_ticks_ms();
    if (tls_clock_started) {
        tls_clock_ms += (uint32_t)(now - tls_clock_ticks);
    }
    tls_clock_ticks = now;
    tls_clock_started = true;
    return tls_clock_ms;
}

time_t stm32lab_tls_time(time_t *timer) {
    time_t t = (time_t)(tls_clock_now_ms() / 1000);
    if (timer != NULL) {
        *timer = t;
    }
    return t;
}

mbedtls_ms_time_t mbedtls_ms_time(void) {
    return tls_clock_now_ms();
}

// Days since 1970-01-01 -> civil date (proleptic Gregorian), by 400-year eras.
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf) {
    int64_t t = *tt;
    if (t < 0) {
        return NULL;
    }
    int64_t days = t / 86400;
    int32_t secs = t % 86400;
    tm_buf->tm_hour = secs / 3600;
    tm_buf->tm_min = secs / 60 % 60;
    tm_buf->tm_sec = secs % 60;
    tm_buf->tm_wday = (days + 4) % 7; // 1970-01-01 was a Thursday

    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int32_t doe = z - era * 146097;                                     // [0, 146096]
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              // [0, 365]
    int32_t mp = (5 * doy + 2) / 153;                                   // March = 0
    int32_t mday = doy - (153 * mp + 2) / 5 + 1;
    int32_t month = mp < 10 ? mp + 3 : mp - 9;                          // [1, 12]
    int64_t year = yoe + era * 400 + (month <= 2);

    tm_buf->tm_year = year - 1900;
    tm_buf->tm_mon = month - 1;
    tm_buf->tm_mday = mday;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static const uint16_t days_before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    tm_buf->tm_yday = days_before_month[month - 1] + mday - 1 + (leap && month > 2);
    tm_buf->tm_isdst = 0;
    return tm_buf;
}

/******************************************************************************/
// Extras on the `tls` module (extmod/modtls_mbedtls.c), found through attribute delegation
// so the module's own source stays unpatched.

// tls.set_time(seconds): set the clock used for certificate validity, in seconds since
// 1970-01-01 UTC (what time.time() gives on the host).
static mp_obj_t tls_port_set_time(mp_obj_t seconds_in) {
    mp_int_t seconds = mp_obj_get_int(seconds_in);
    if (seconds < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("time must be seconds since 1970"));
    }
    tls_clock_now_ms();
    tls_clock_ms = (int64_t)seconds * 1000;
    tls_clock_set = true;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tls_port_set_time_obj, tls_port_set_time);

// tls.time(): the clock in seconds since 1970-01-01 UTC.
static mp_obj_t tls_port_time(void) {
    return mp_obj_new_int_from_ll(tls_clock_now_ms() / 1000);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tls_port_time_obj, tls_port_time);

// tls.time_is_set(): whether set_time() was called since boot.
static mp_obj_t tls_port_time_is_set(void) {
    return mp_obj_new_bool(tls_clock_set);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tls_port_time_is_set_obj, tls_port_time_is_set);

typedef struct _tls_selftest_t {
    qstr name;
    int (*run)(int verbose);
} tls_selftest_t;

static const tls_selftest_t tls_selftests[] = {
    { MP_QSTR_md5, mbedtls_md5_self_test },
    { MP_QSTR_sha1, mbedtls_sha1_self_test },
    { MP_QSTR_sha224, mbedtls_sha224_self_test },
    { MP_QSTR_sha256, mbedtls_sha256_self_test },
    { MP_QSTR_sha384, mbedtls_sha384_self_test },
    { MP_QSTR_sha512, mbedtls_sha512_self_test },
    { MP_QSTR_aes, mbedtls_aes_self_test },
    { MP_QSTR_des, mbedtls_des_self_test },
    { MP_QSTR_gcm, mbedtls_gcm_self_test },
    #if defined(MBEDTLS_CCM_C)
    { MP_QSTR_ccm, mbedtls_ccm_self_test },
    #endif
    { MP_QSTR_ctr_drbg, mbedtls_ctr_drbg_self_test },
    { MP_QSTR_entropy, mbedtls_entropy_self_test },
    { MP_QSTR_rsa, mbedtls_rsa_self_test },
    { MP_QSTR_ecp, mbedtls_ecp_self_test },
};

// tls.selftest(verbose=False): run mbedTLS's self-tests (on the hardware drivers in a
// HW_CRYPTO build); return a dict {name: passed}.
static mp_obj_t tls_port_selftest(size_t n_args, const mp_obj_t *args) {
    int verbose = n_args > 0 && mp_obj_is_true(args[0]);
    mp_obj_t results = mp_obj_new_dict(MP_ARRAY_SIZE(tls_selftests));
    for (size_t i = 0; i < MP_ARRAY_SIZE(tls_selftests); i++) {
        int ret = tls_selftests[i].run(verbose);
        mp_obj_dict_store(results, MP_OBJ_NEW_QSTR(tls_selftests[i].name), mp_obj_new_bool(ret == 0));
    }
    return results;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(tls_port_selftest_obj, 0, 1, tls_port_selftest);

// tls.mem_info(reset_peak=False) -> (bytes, peak bytes, blocks) that mbedTLS holds in the
// heap now; reset_peak=True starts a new peak from now.
static mp_obj_t tls_port_mem_info(size_t n_args, const mp_obj_t *args) {
    mp_obj_t t[3] = {
        mp_obj_new_int_from_uint(tls_mem_now),
        mp_obj_new_int_from_uint(tls_mem_peak),
        mp_obj_new_int_from_uint(tls_mem_blocks),
    };
    if (n_args > 0 && mp_obj_is_true(args[0])) {
        tls_mem_peak = tls_mem_now;
    }
    return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(tls_port_mem_info_obj, 0, 1, tls_port_mem_info);

// tls.strerror(code): mbedTLS's name for an error code (read/write errors reach Python as
// OSError(code) without text).
static mp_obj_t tls_port_strerror(mp_obj_t code_in) {
    char buf[80];
    mbedtls_strerror(mp_obj_get_int(code_in), buf, sizeof(buf));
    return mp_obj_new_str_from_cstr(buf);
}
static MP_DEFINE_CONST_FUN_OBJ_1(tls_port_strerror_obj, tls_port_strerror);

// tls.reserve(sessions): set aside record buffers for that many sessions in all (0: give
// back the ones not in use); returns how many sessions' buffers are set aside (fewer than
// asked when the heap runs out).
static mp_obj_t tls_port_reserve(mp_obj_t sessions_in) {
    mp_int_t want = mp_obj_get_int(sessions_in);
    if (want < 0 || 2 * want > TLS_POOL_MAX) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("0 to %d sessions"), TLS_POOL_MAX / 2);
    }
    static const size_t sizes[2] = { MBEDTLS_SSL_IN_BUFFER_LEN, MBEDTLS_SSL_OUT_BUFFER_LEN };
    mp_int_t have[2] = { 0, 0 };
    for (size_t i = 0; i < TLS_POOL_MAX; i++) {
        void *p = MP_STATE_VM(stm32lab_tls_pool)[i];
        for (int k = 0; k < 2 && p != NULL; k++) {
            if (tls_pool_size[i] != sizes[k]) {
                continue;
            }
            if (have[k] >= want && !tls_pool_used[i]) {
                m_free(p);          // more than asked, and free: give it back
                MP_STATE_VM(stm32lab_tls_pool)[i] = NULL;
                tls_pool_size[i] = 0;
            } else {
                have[k]++;
            }
        }
    }
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < TLS_POOL_MAX && have[k] < want; i++) {
            if (MP_STATE_VM(stm32lab_tls_pool)[i] != NULL) {
                continue;
            }
            void *p = m_malloc_maybe(sizes[k]);
            if (p == NULL) {
                break;
            }
            MP_STATE_VM(stm32lab_tls_pool)[i] = p;
            tls_pool_size[i] = sizes[k];
            tls_pool_used[i] = false;
            have[k]++;
        }
    }
    return MP_OBJ_NEW_SMALL_INT(have[0] < have[1] ? have[0] : have[1]);
}
static MP_DEFINE_CONST_FUN_OBJ_1(tls_port_reserve_obj, tls_port_reserve);

// tls.heap() -> (free bytes, largest free block in bytes) of the GC heap.
static mp_obj_t tls_port_heap(void) {
    gc_info_t info;
    gc_info(&info);
    mp_obj_t t[2] = {
        mp_obj_new_int_from_uint(info.free),
        mp_obj_new_int_from_uint(info.max_free * MICROPY_BYTES_PER_GC_BLOCK),
    };
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tls_port_heap_obj, tls_port_heap);

// tls.x509_info(der) -> str: a certificate as mbedTLS's x509_crt_info prints it
// ("cert. version     : 3", "serial number     : ...", issuer, subject, dates, key, usage),
// what the Nucleo write-up's client shows for the server's certificate.
static mp_obj_t tls_port_x509_info(mp_obj_t der_in) {
    mp_buffer_info_t der;
    mp_get_buffer_raise(der_in, &der, MP_BUFFER_READ);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int ret = mbedtls_x509_crt_parse_der(&crt, der.buf, der.len);
    if (ret != 0) {
        mbedtls_x509_crt_free(&crt);
        mp_raise_msg_varg(&mp_type_ValueError,
            MP_ERROR_TEXT("x509_info: not a DER certificate (-0x%04x)"), (unsigned)-ret);
    }
    vstr_t vstr;
    vstr_init(&vstr, 1024);
    ret = mbedtls_x509_crt_info(vstr.buf, vstr.alloc, "", &crt);
    mbedtls_x509_crt_free(&crt);
    if (ret < 0) {
        vstr_clear(&vstr);
        mp_raise_msg_varg(&mp_type_ValueError,
            MP_ERROR_TEXT("x509_info: mbedtls_x509_crt_info returned -0x%04x"), (unsigned)-ret);
    }
    vstr.len = ret;
    return mp_obj_new_str_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(tls_port_x509_info_obj, tls_port_x509_info);

// ValueError "<what>: mbedTLS error -0x...." for the test functions below.
static NORETURN void tls_port_raise_mbedtls(const char *what, int ret) {
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s: mbedTLS error -0x%04x"), what,
        (unsigned)-ret);
}

// What tls.gcm and tls.ccm share: their first eight arguments, in this order (key, IV or
// nonce, data, aad, tag, tag_len, chunk, in_place), the output buffer and the result.
enum { AEAD_KEY, AEAD_IV, AEAD_DATA, AEAD_AAD, AEAD_TAG, AEAD_TAG_LEN, AEAD_CHUNK,
       AEAD_IN_PLACE };
typedef struct {
    mp_buffer_info_t key, iv, data, aad, tag;
    bool decrypt;                   // a tag was given
    size_t tag_len;
    size_t chunk;                   // 0: the one-shot calls
    vstr_t out;                     // room for data.len + extra bytes
    const unsigned char *input;     // data, or out's buffer holding a copy (in_place)
} tls_port_aead_t;

static void tls_port_aead_args(tls_port_aead_t *a, const mp_arg_val_t *args, size_t extra) {
    a->aad = (mp_buffer_info_t){ .buf = NULL, .len = 0 };
    a->tag = (mp_buffer_info_t){ .buf = NULL, .len = 0 };
    mp_get_buffer_raise(args[AEAD_KEY].u_obj, &a->key, MP_BUFFER_READ);
    mp_get_buffer_raise(args[AEAD_IV].u_obj, &a->iv, MP_BUFFER_READ);
    mp_get_buffer_raise(args[AEAD_DATA].u_obj, &a->data, MP_BUFFER_READ);
    if (args[AEAD_AAD].u_obj != mp_const_none) {
        mp_get_buffer_raise(args[AEAD_AAD].u_obj, &a->aad, MP_BUFFER_READ);
    }
    a->decrypt = args[AEAD_TAG].u_obj != mp_const_none;
    if (a->decrypt) {
        mp_get_buffer_raise(args[AEAD_TAG].u_obj, &a->tag, MP_BUFFER_READ);
    }
    a->tag_len = a->decrypt ? a->tag.len : (size_t)args[AEAD_TAG_LEN].u_int;
    if (a->tag_len > 16 || args[AEAD_TAG_LEN].u_int < 0 || args[AEAD_CHUNK].u_int < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("tag up to 16 bytes, chunk >= 0"));
    }
    a->chunk = args[AEAD_CHUNK].u_int;
    vstr_init(&a->out, a->data.len + extra);
    a->input = a->data.buf;
    if (args[AEAD_IN_PLACE].u_bool) {
        memcpy(a->out.buf, a->data.buf, a->data.len);
        a->input = (const unsigned char *)a->out.buf;
    }
}

// The result of a call mbedTLS answered with ret: the plaintext (decrypt), or (ciphertext,
// tag); ValueError "<mode> tag mismatch" when ret is auth_failed, "<name>: mbedTLS error"
// for any other error.
static mp_obj_t tls_port_aead_result(tls_port_aead_t *a, int ret, int auth_failed,
    const char *name, const char *mode, size_t olen, const unsigned char *computed) {
    if (ret != 0) {
        vstr_clear(&a->out);
        if (ret == auth_failed) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s tag mismatch"), mode);
        }
        tls_port_raise_mbedtls(name, ret);
    }
    a->out.len = olen;
    mp_obj_t result = mp_obj_new_bytes_from_vstr(&a->out);
    if (a->decrypt) {
        return result;
    }
    mp_obj_t t[2] = { result, mp_obj_new_bytes(computed, a->tag_len) };
    return mp_obj_new_tuple(2, t);
}

// tls.gcm(key, iv, data, aad=b'', *, tag=None, tag_len=16, chunk=0, in_place=False): AES-GCM through
// mbedTLS's GCM API, as TLS records use it (gcm_alt.c in the hardware builds: the CRYP's
// GCM engine on the F439, CRYP AES-CTR and software GHASH on the F417; mbedTLS's software
// GCM in the software builds), for tests. Without tag it encrypts
// and returns (ciphertext, tag of tag_len bytes); with tag it decrypts and returns the
// plaintext, ValueError when the tag does not match. chunk > 0 feeds the AAD and the data
// in pieces of that many bytes through the streaming calls (starts, update_ad, update,
// finish) instead of mbedtls_gcm_crypt_and_tag / mbedtls_gcm_auth_decrypt. in_place copies
// the data into the output buffer first and passes that buffer as input and output, as
// TLS records are processed.
static mp_obj_t tls_port_gcm(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_key, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_iv, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_aad, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tag, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tag_len, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 16} },
        { MP_QSTR_chunk, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_in_place, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    tls_port_aead_t a;
    // room for output that lags the input (mbedtls_gcm_update's contract)
    tls_port_aead_args(&a, args, 15);
    size_t room = a.data.len + 15;
    unsigned char *output = (unsigned char *)a.out.buf;
    unsigned char computed[16];
    size_t olen = 0;
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    int ret = mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, a.key.buf, a.key.len * 8);
    if (ret == 0 && a.chunk == 0) {
        ret = a.decrypt
            ? mbedtls_gcm_auth_decrypt(&ctx, a.data.len, a.iv.buf, a.iv.len, a.aad.buf,
                a.aad.len, a.tag.buf, a.tag.len, a.input, output)
            : mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, a.data.len, a.iv.buf,
                a.iv.len, a.aad.buf, a.aad.len, a.input, output, a.tag_len, computed);
        olen = a.data.len;
    } else if (ret == 0) {
        ret = mbedtls_gcm_starts(&ctx, a.decrypt ? MBEDTLS_GCM_DECRYPT : MBEDTLS_GCM_ENCRYPT,
            a.iv.buf, a.iv.len);
        const unsigned char *ad = a.aad.buf;
        for (size_t i = 0; ret == 0 && i < a.aad.len; i += a.chunk) {
            ret = mbedtls_gcm_update_ad(&ctx, ad + i, MIN(a.chunk, a.aad.len - i));
        }
        for (size_t i = 0; ret == 0 && i < a.data.len; i += a.chunk) {
            size_t n = 0;
            ret = mbedtls_gcm_update(&ctx, a.input + i, MIN(a.chunk, a.data.len - i),
                output + olen, room - olen, &n);
            olen += n;
        }
        if (ret == 0) {
            size_t n = 0;
            ret = mbedtls_gcm_finish(&ctx, output + olen, room - olen, &n, computed,
                a.tag_len);
            olen += n;
        }
        if (ret == 0 && a.decrypt && mbedtls_ct_memcmp(computed, a.tag.buf, a.tag_len) != 0) {
            ret = MBEDTLS_ERR_GCM_AUTH_FAILED;
        }
    }
    mbedtls_gcm_free(&ctx);
    return tls_port_aead_result(&a, ret, MBEDTLS_ERR_GCM_AUTH_FAILED, "gcm", "GCM", olen,
        computed);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(tls_port_gcm_obj, 3, tls_port_gcm);

// The hashes tls.hmac and tls.prf take, by hashlib's names.
static mbedtls_md_type_t tls_port_md_type(mp_obj_t name_in) {
    static const struct { qstr name; mbedtls_md_type_t type; } mds[] = {
        { MP_QSTR_md5, MBEDTLS_MD_MD5 },
        { MP_QSTR_sha1, MBEDTLS_MD_SHA1 },
        { MP_QSTR_sha224, MBEDTLS_MD_SHA224 },
        { MP_QSTR_sha256, MBEDTLS_MD_SHA256 },
        { MP_QSTR_sha384, MBEDTLS_MD_SHA384 },
        { MP_QSTR_sha512, MBEDTLS_MD_SHA512 },
    };
    qstr name = mp_obj_str_get_qstr(name_in);
    for (size_t i = 0; i < MP_ARRAY_SIZE(mds); i++) {
        if (mds[i].name == name) {
            return mds[i].type;
        }
    }
    mp_raise_ValueError(MP_ERROR_TEXT("unknown hash"));
}

// tls.hmac(name, key, msg) -> bytes: HMAC through mbedTLS's one-shot mbedtls_md_hmac()
// (what the TLS 1.2 PRF calls), for tests and benches.
static mp_obj_t tls_port_hmac(mp_obj_t name_in, mp_obj_t key_in, mp_obj_t msg_in) {
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(tls_port_md_type(name_in));
    mp_buffer_info_t key, msg;
    mp_get_buffer_raise(key_in, &key, MP_BUFFER_READ);
    mp_get_buffer_raise(msg_in, &msg, MP_BUFFER_READ);
    unsigned char mac[MBEDTLS_MD_MAX_SIZE];
    int ret = mbedtls_md_hmac(info, key.buf, key.len, msg.buf, msg.len, mac);
    if (ret != 0) {
        tls_port_raise_mbedtls("hmac", ret);
    }
    return mp_obj_new_bytes(mac, mbedtls_md_get_size(info));
}
static MP_DEFINE_CONST_FUN_OBJ_3(tls_port_hmac_obj, tls_port_hmac);

// tls.prf(name, secret, label, seed, n) -> bytes: n bytes of the TLS 1.2 PRF (RFC 5246 5)
// with 'sha256' or 'sha384', through mbedtls_ssl_tls_prf() as the handshake calls it, for
// tests and benches.
static mp_obj_t tls_port_prf(size_t n_args, const mp_obj_t *args) {
    mbedtls_md_type_t md = tls_port_md_type(args[0]);
    mbedtls_tls_prf_types prf = md == MBEDTLS_MD_SHA256 ? MBEDTLS_SSL_TLS_PRF_SHA256
        : md == MBEDTLS_MD_SHA384 ? MBEDTLS_SSL_TLS_PRF_SHA384 : MBEDTLS_SSL_TLS_PRF_NONE;
    mp_buffer_info_t secret, seed;
    mp_get_buffer_raise(args[1], &secret, MP_BUFFER_READ);
    const char *label = mp_obj_str_get_str(args[2]);
    mp_get_buffer_raise(args[3], &seed, MP_BUFFER_READ);
    mp_int_t n = mp_obj_get_int(args[4]);
    if (prf == MBEDTLS_SSL_TLS_PRF_NONE || n < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("sha256 or sha384, n >= 0"));
    }
    vstr_t out;
    vstr_init_len(&out, n);
    int ret = mbedtls_ssl_tls_prf(prf, secret.buf, secret.len, label, seed.buf, seed.len,
        (unsigned char *)out.buf, n);
    if (ret != 0) {
        vstr_clear(&out);
        tls_port_raise_mbedtls("prf", ret);
    }
    return mp_obj_new_bytes_from_vstr(&out);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(tls_port_prf_obj, 5, 5, tls_port_prf);

#if defined(MBEDTLS_GCM_ALT)
// tls.gcm_counts() -> (on the CRYP, in software): one-shot GCM operations (what TLS
// records use) since boot; only where gcm_alt.c is built (hardware builds): on the CRYP
// means its GCM engine on the F439, one AES-CTR run with software GHASH on the F417.
static mp_obj_t tls_port_gcm_counts(void) {
    uint32_t counts[2];
    stm32lab_gcm_counts(counts);
    mp_obj_t t[2] = {
        mp_obj_new_int_from_uint(counts[0]),
        mp_obj_new_int_from_uint(counts[1]),
    };
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tls_port_gcm_counts_obj, tls_port_gcm_counts);
#endif

#if defined(MBEDTLS_MD_HMAC_ALT)
// tls.hmac_counts() -> (on the HASH, refused): one-shot HMACs asked of the HASH since boot
// (mbedtls_md_hmac(): tls.hmac, each HMAC of a SHA-256 TLS 1.2 PRF on the F439); refused
// means left to software: a hash the chip lacks (the PRF then asks once per call: SHA-384,
// SHA-256 on the F417), an empty key or message, or a HASH failure. Hardware builds only.
static mp_obj_t tls_port_hmac_counts(void) {
    uint32_t counts[2];
    stm32lab_hmac_counts(counts);
    mp_obj_t t[2] = {
        mp_obj_new_int_from_uint(counts[0]),
        mp_obj_new_int_from_uint(counts[1]),
    };
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tls_port_hmac_counts_obj, tls_port_hmac_counts);
#endif

#if defined(MBEDTLS_CCM_C)
// tls.ccm(key, nonce, data, aad=b'', *, tag=None, tag_len=16, chunk=0, in_place=False,
// star=False): AES-CCM through mbedTLS's CCM API, as TLS records use it (ccm_alt.c in the
// F439's hardware build: the CRYP's CCM engine; mbedTLS's ccm.c elsewhere, on the F417 with
// its AES blocks on the CRYP), for tests. Without tag it encrypts and returns (ciphertext,
// tag of tag_len bytes); with tag it decrypts and returns the plaintext, ValueError when
// the tag does not match. chunk > 0 feeds the AAD and the data in pieces of that many bytes
// through the streaming calls (starts, set_lengths, update_ad, update, finish) instead of
// mbedtls_ccm_encrypt_and_tag / mbedtls_ccm_auth_decrypt. in_place copies the data into the
// output buffer first and passes that buffer as input and output, as TLS records are
// processed. star=True uses the CCM* calls (mbedtls_ccm_star_*), which also take tag_len 0.
static mp_obj_t tls_port_ccm(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_star = AEAD_IN_PLACE + 1 };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_key, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_nonce, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_aad, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tag, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_tag_len, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 16} },
        { MP_QSTR_chunk, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_in_place, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_star, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    tls_port_aead_t a;
    tls_port_aead_args(&a, args, 1);
    bool star = args[ARG_star].u_bool;
    unsigned char *output = (unsigned char *)a.out.buf;
    unsigned char computed[16];
    mbedtls_ccm_context ctx;
    mbedtls_ccm_init(&ctx);
    int ret = mbedtls_ccm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, a.key.buf, a.key.len * 8);
    if (ret == 0 && a.chunk == 0) {
        if (a.decrypt) {
            ret = (star ? mbedtls_ccm_star_auth_decrypt : mbedtls_ccm_auth_decrypt)(&ctx,
                a.data.len, a.iv.buf, a.iv.len, a.aad.buf, a.aad.len, a.input, output,
                a.tag.buf, a.tag.len);
        } else {
            ret = (star ? mbedtls_ccm_star_encrypt_and_tag : mbedtls_ccm_encrypt_and_tag)(&ctx,
                a.data.len, a.iv.buf, a.iv.len, a.aad.buf, a.aad.len, a.input, output,
                computed, a.tag_len);
        }
    } else if (ret == 0) {
        int mode = a.decrypt ? (star ? MBEDTLS_CCM_STAR_DECRYPT : MBEDTLS_CCM_DECRYPT)
                             : (star ? MBEDTLS_CCM_STAR_ENCRYPT : MBEDTLS_CCM_ENCRYPT);
        ret = mbedtls_ccm_starts(&ctx, mode, a.iv.buf, a.iv.len);
        if (ret == 0) {
            ret = mbedtls_ccm_set_lengths(&ctx, a.aad.len, a.data.len, a.tag_len);
        }
        const unsigned char *ad = a.aad.buf;
        for (size_t i = 0; ret == 0 && i < a.aad.len; i += a.chunk) {
            ret = mbedtls_ccm_update_ad(&ctx, ad + i, MIN(a.chunk, a.aad.len - i));
        }
        for (size_t i = 0; ret == 0 && i < a.data.len; i += a.chunk) {
            size_t n = 0;
            ret = mbedtls_ccm_update(&ctx, a.input + i, MIN(a.chunk, a.data.len - i),
                output + i, a.data.len - i, &n);
        }
        if (ret == 0) {
            ret = mbedtls_ccm_finish(&ctx, computed, a.tag_len);
        }
        if (ret == 0 && a.decrypt && mbedtls_ct_memcmp(computed, a.tag.buf, a.tag_len) != 0) {
            ret = MBEDTLS_ERR_CCM_AUTH_FAILED;
        }
    }
    mbedtls_ccm_free(&ctx);
    return tls_port_aead_result(&a, ret, MBEDTLS_ERR_CCM_AUTH_FAILED, "ccm", "CCM",
        a.data.len, computed);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(tls_port_ccm_obj, 3, tls_port_ccm);
#endif

#if defined(MBEDTLS_CCM_ALT)
// tls.ccm_counts() -> (on the CRYP, in software): one-shot CCM operations (what TLS
// records use) since boot; only where ccm_alt.c is built (the F439's hardware build, whose
// CRYP has a CCM engine).
static mp_obj_t tls_port_ccm_counts(void) {
    uint32_t counts[2];
    stm32lab_ccm_counts(counts);
    mp_obj_t t[2] = {
        mp_obj_new_int_from_uint(counts[0]),
        mp_obj_new_int_from_uint(counts[1]),
    };
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(tls_port_ccm_counts_obj, tls_port_ccm_counts);
#endif

static const mp_rom_map_elem_t tls_port_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_reserve), MP_ROM_PTR(&tls_port_reserve_obj) },
    { MP_ROM_QSTR(MP_QSTR_heap), MP_ROM_PTR(&tls_port_heap_obj) },
    { MP_ROM_QSTR(MP_QSTR_strerror), MP_ROM_PTR(&tls_port_strerror_obj) },
    { MP_ROM_QSTR(MP_QSTR_mem_info), MP_ROM_PTR(&tls_port_mem_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_time), MP_ROM_PTR(&tls_port_set_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&tls_port_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_time_is_set), MP_ROM_PTR(&tls_port_time_is_set_obj) },
    { MP_ROM_QSTR(MP_QSTR_selftest), MP_ROM_PTR(&tls_port_selftest_obj) },
    { MP_ROM_QSTR(MP_QSTR_HW_CRYPTO), MP_ROM_INT(STM32LAB_HW_CRYPTO) },
    { MP_ROM_QSTR(MP_QSTR_x509_info), MP_ROM_PTR(&tls_port_x509_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_gcm), MP_ROM_PTR(&tls_port_gcm_obj) },
    { MP_ROM_QSTR(MP_QSTR_hmac), MP_ROM_PTR(&tls_port_hmac_obj) },
    { MP_ROM_QSTR(MP_QSTR_prf), MP_ROM_PTR(&tls_port_prf_obj) },
    #if defined(MBEDTLS_GCM_ALT)
    { MP_ROM_QSTR(MP_QSTR_gcm_counts), MP_ROM_PTR(&tls_port_gcm_counts_obj) },
    #endif
    #if defined(MBEDTLS_CCM_C)
    { MP_ROM_QSTR(MP_QSTR_ccm), MP_ROM_PTR(&tls_port_ccm_obj) },
    #endif
    #if defined(MBEDTLS_CCM_ALT)
    { MP_ROM_QSTR(MP_QSTR_ccm_counts), MP_ROM_PTR(&tls_port_ccm_counts_obj) },
    #endif
    #if defined(MBEDTLS_MD_HMAC_ALT)
    { MP_ROM_QSTR(MP_QSTR_hmac_counts), MP_ROM_PTR(&tls_port_hmac_counts_obj) },
    #endif
    #if !MICROPY_HW_HAS_RNG
    { MP_ROM_QSTR(MP_QSTR_seed), MP_ROM_PTR(&tls_port_seed_obj) },
    #endif
};
static MP_DEFINE_CONST_DICT(tls_port_globals, tls_port_globals_table);

void tls_port_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    (void)self_in;
    if (dest[0] != MP_OBJ_NULL) {
        return; // no stores or deletes
    }
    mp_map_elem_t *elem = mp_map_lookup((mp_map_t *)&tls_port_globals.map, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
    if (elem != NULL) {
        dest[0] = elem->value;
    }
}

MP_REGISTER_MODULE_DELEGATION(mp_module_tls, tls_port_attr);

#endif // MICROPY_PY_SSL && MICROPY_SSL_MBEDTLS
