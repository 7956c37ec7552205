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
// MicroPython configuration for the lab's STM32F4 evaluation boards.
#include <stdint.h>

#include "mpconfigboard.h"

// What the chip has (boards/<board>/mpconfigboard.h); the EVAL boards have everything.
#ifndef MICROPY_HW_HAS_ETH
#define MICROPY_HW_HAS_ETH                  (1)
#endif
#ifndef MICROPY_HW_HAS_CRYPTO
#define MICROPY_HW_HAS_CRYPTO               (1)
#endif
#ifndef MICROPY_HW_HAS_RNG
#define MICROPY_HW_HAS_RNG                  (1)
#endif
#ifndef MICROPY_HW_HAS_TLS
#define MICROPY_HW_HAS_TLS                  (1)
#endif
// The config flash sector (the last 128 KiB sector; the linker script keeps code out of it),
// machine.CONFIG_SECTOR for apps/boardcfg.py
#ifndef MICROPY_HW_CONFIG_ADDR
#define MICROPY_HW_CONFIG_ADDR              (0x080E0000)
#endif
#ifndef MICROPY_HW_CLK_HSE_BYPASS
#define MICROPY_HW_CLK_HSE_BYPASS           (0)
#endif

// Features: the "extra" level, as MicroPython's own stm32 port uses.
#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Code generation for the Cortex-M4F
#ifndef MICROPY_EMIT_THUMB
#define MICROPY_EMIT_THUMB                  (1)
#define MICROPY_EMIT_INLINE_THUMB           (1)
#define MICROPY_EMIT_INLINE_THUMB_FLOAT     (1)
#endif
#define MICROPY_MAKE_POINTER_CALLABLE(p)    ((void *)((mp_uint_t)(p) | 1))
#define MICROPY_PERSISTENT_CODE_LOAD        (1)

// Memory and runtime
#define MICROPY_ENABLE_GC                   (1)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_ENABLE_SCHEDULER            (1)
#define MICROPY_SCHEDULER_DEPTH             (8)
#define MICROPY_KBD_EXCEPTION               (1)
#define MICROPY_READER_VFS                  (0)
#define MICROPY_VFS                         (0)

// REPL: friendly, raw and raw-paste (shared/runtime/pyexec.c)
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_AUTO_INDENT            (1)
#define MICROPY_REPL_INFO                   (1)

// Modules
#define MICROPY_PY_SYS_PLATFORM             "stm32"
#define MICROPY_PY_SYS_STDFILES             (1)
#define MICROPY_PY_SYS_STDIO_BUFFER         (1)
#define MICROPY_PY_OS                       (1)
#define MICROPY_PY_OS_INCLUDEFILE           "port_modos.c"
#define MICROPY_PY_OS_UNAME                 (1)
#define MICROPY_PY_OS_URANDOM               (MICROPY_HW_HAS_RNG)
#define MICROPY_PY_OS_SYNC                  (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_TIME                     (1)
#define MICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME (0)
#define MICROPY_PY_TIME_TIME_TIME_NS        (0)
#define MICROPY_PY_SELECT                   (1)
#define MICROPY_PY_ASYNCIO                  (1)
#if MICROPY_HW_HAS_RNG
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC    (rng_seed_word())
#endif
#define MICROPY_PY_MACHINE                  (1)
#define MICROPY_PY_MACHINE_INCLUDEFILE      "port_modmachine.c"
#define MICROPY_PY_MACHINE_RESET            (1)
#define MICROPY_PY_MACHINE_BARE_METAL_FUNCS (1)
#define MICROPY_PY_MACHINE_MEMX             (1)
// machine.SPI (machine_spi.c) on boards that name SPI1's pins
#ifdef MICROPY_HW_SPI1_SCK_PORT
#define MICROPY_PY_MACHINE_SPI              (1)
#endif
#define MICROPY_PY_MACHINE_EXTRA_GLOBALS \
    { MP_ROM_QSTR(MP_QSTR_Pin), MP_ROM_PTR(&machine_pin_type) }, \
    { MP_ROM_QSTR(MP_QSTR_LED), MP_ROM_PTR(&machine_led_type) }, \
    { MP_ROM_QSTR(MP_QSTR_PWRON_RESET), MP_ROM_INT(MACHINE_PWRON_RESET) }, \
    { MP_ROM_QSTR(MP_QSTR_HARD_RESET), MP_ROM_INT(MACHINE_HARD_RESET) }, \
    { MP_ROM_QSTR(MP_QSTR_WDT_RESET), MP_ROM_INT(MACHINE_WDT_RESET) }, \
    { MP_ROM_QSTR(MP_QSTR_SOFT_RESET), MP_ROM_INT(MACHINE_SOFT_RESET) }, \
    { MP_ROM_QSTR(MP_QSTR_CONFIG_SECTOR), MP_ROM_INT(MICROPY_HW_CONFIG_ADDR) }, \
    { MP_ROM_QSTR(MP_QSTR_tickless), MP_ROM_PTR(&machine_tickless_obj) }, \
    { MP_ROM_QSTR(MP_QSTR_idle_stats), MP_ROM_PTR(&machine_idle_stats_obj) },

#define MACHINE_PWRON_RESET (1)
#define MACHINE_HARD_RESET  (2)
#define MACHINE_WDT_RESET   (3)
#define MACHINE_SOFT_RESET  (5)

// --- mbedTLS / TLS ---
// tls (extmod/modtls_mbedtls.c), hashlib and cryptolib on mbedTLS 3.6 (mbedtls/), which
// allocates from the GC heap through tracked allocations.
#if MICROPY_HW_HAS_TLS
#define MICROPY_PY_SSL                      (1)
#define MICROPY_SSL_MBEDTLS                 (1)
// do_handshake/unwrap, session resumption, TLS versions, CPython's CERT_OPTIONAL
// (patches/micropython/0005-modtls-*.patch)
#define MICROPY_SSL_MBEDTLS_EXTRAS          (1)
#define MICROPY_TRACKED_ALLOC               (1)
#define MICROPY_PY_HASHLIB_MD5              (1)
#define MICROPY_PY_HASHLIB_SHA1             (1)
#define MICROPY_PY_HASHLIB_SHA256           (1)
#define MICROPY_PY_CRYPTOLIB                (1)
#define MICROPY_PY_CRYPTOLIB_CTR            (1)
#define MICROPY_PY_CRYPTOLIB_CONSTS         (1)
#endif
// --- end mbedTLS / TLS ---

// --- network (lwIP, ETH) ---
// socket over lwIP (extmod/modlwip.c) and network.LAN on the Ethernet MAC (network_lan.c,
// eth.c). lwIP runs in the ETH interrupt; Python masks it while it calls lwIP.
#if MICROPY_HW_HAS_ETH
#define MICROPY_PY_LWIP                     (1)
#define MICROPY_PY_LWIP_SOCK_RAW            (1)
#define MICROPY_PY_NETWORK                  (1)
#define MICROPY_PY_NETWORK_HOSTNAME_DEFAULT "stm32-tls-lab"
#define MICROPY_PY_LWIP_ENTER               uint32_t lwip_state = mpnetworkport_lock();
#define MICROPY_PY_LWIP_REENTER             lwip_state = mpnetworkport_lock();
#define MICROPY_PY_LWIP_EXIT                mpnetworkport_unlock(lwip_state);
#define MICROPY_PORT_NETWORK_INTERFACES \
    { MP_ROM_QSTR(MP_QSTR_LAN), MP_ROM_PTR(&network_lan_type) },
extern const struct _mp_obj_type_t network_lan_type;
#include "mpnetworkport.h"
#endif
// --- end network ---

// --- hardware crypto ---
// stm32crypto: CRYP, HASH and RNG from Python (hwcrypto/modstm32crypto.c)
#ifndef MICROPY_PY_STM32CRYPTO
#define MICROPY_PY_STM32CRYPTO              (MICROPY_HW_HAS_CRYPTO)
#endif
// --- end hardware crypto ---

// descbc: DES/TDES-CBC through mbedTLS (moddescbc.c), the CRYP or software as built
#ifndef MICROPY_PY_DESCBC
#define MICROPY_PY_DESCBC                   (MICROPY_HW_HAS_TLS)
#endif

// Type definitions for the 32-bit ARM target
#define MP_SSIZE_MAX (0x7fffffff)
#define UINT_FMT "%u"
#define INT_FMT "%d"
typedef int mp_int_t;           // must be pointer size
typedef unsigned int mp_uint_t; // must be pointer size
typedef long mp_off_t;

// libm has no log2f for math.log2
#define MP_NEED_LOG2 (1)

// alloca() comes from newlib's header
#include <alloca.h>

#define MP_STATE_PORT MP_STATE_VM

// Atomic sections mask interrupts; waiting for an event sleeps until the next interrupt, for
// no longer than the caller's limit (systick.c: tickless idle).
#include "irq.h"
#define MICROPY_BEGIN_ATOMIC_SECTION()      disable_irq()
#define MICROPY_END_ATOMIC_SECTION(state)   enable_irq(state)
void systick_wait_for_interrupt(uint32_t timeout_ms);
#define MICROPY_INTERNAL_WFE(TIMEOUT_MS)    systick_wait_for_interrupt(TIMEOUT_MS)

#define MICROPY_HW_ENABLE_RNG (MICROPY_HW_HAS_RNG)
extern const struct _mp_obj_type_t machine_pin_type;
extern const struct _mp_obj_type_t machine_led_type;
uint32_t rng_seed_word(void);
