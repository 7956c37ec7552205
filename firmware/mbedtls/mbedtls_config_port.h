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
// mbedTLS 3.6 configuration for the lab's STM32F4 boards (MBEDTLS_CONFIG_FILE).
//
// TLS 1.3 and TLS 1.2, client and server: TLS 1.3's AES-GCM and AES-CCM suites with (EC)DHE
// key exchange (X25519, P-256, P-384) and ticket resumption (PSK with (EC)DHE); TLS 1.2 with
// ECDHE-RSA/ECDSA, DHE-RSA (ST's "SSL client/server on STM32F4" demo used DHE-RSA-AES256-SHA)
// and RSA key exchange, AES-GCM, AES-CCM(-8) and AES-CBC, session IDs (server cache) and
// tickets. Which suites a context offers by default is the ssl module's choice (forward
// secrecy only, AEAD first, no CCM); everything built here stays available through
// set_ciphers(). X.509 parsing and verification with validity dates. TLS 1.3 needs PSA
// Crypto (its key schedule, HKDF and (EC)DHE go through it); PSA's built-in drivers call the
// same mbedTLS modules, so AES and the hashes still reach the ALT code below.
//
// Crypto runs on the CRYP/HASH peripherals when STM32LAB_HW_CRYPTO is 1 (make HW_CRYPTO=1,
// the default): AES, DES/3DES, SHA-1 and MD5 on both chips, SHA-224/256 only where the HASH
// block has it (STM32F439: MICROPY_HW_HASH_SHA224_256), the one-shot AES-GCM calls on
// the CRYP's GCM engine (GHASH included) where it has one (STM32F439), as one AES-CTR run
// with software GHASH where it has none (STM32F417), and the one-shot AES-CCM calls on the
// CRYP's CCM engine (STM32F439 only). Entropy comes from the RNG only.
#ifndef MICROPY_INCLUDED_STM32LAB_MBEDTLS_CONFIG_PORT_H
#define MICROPY_INCLUDED_STM32LAB_MBEDTLS_CONFIG_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

// --- platform ---------------------------------------------------------------------------

#define MBEDTLS_HAVE_ASM                    // UMAAL multiply-accumulate in bignum
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_DEPRECATED_REMOVED

// Memory from MicroPython's GC heap, tracked so the GC keeps it alive (py/malloc.c), through
// mbedtls_port.c's counters (tls.mem_info(): bytes in use now and at the peak).
void *stm32lab_tls_calloc(size_t nmemb, size_t size);
void stm32lab_tls_free(void *ptr);
#define MBEDTLS_PLATFORM_STD_CALLOC         stm32lab_tls_calloc
#define MBEDTLS_PLATFORM_STD_FREE           stm32lab_tls_free
// shared/libc/printf.c: printf goes to the console, snprintf into a buffer
#include <stdio.h>
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO     snprintf
#define MBEDTLS_PLATFORM_PRINTF_MACRO       printf

// Entropy: the RNG peripheral through mbedtls_hardware_poll (mbedtls_port.c), no OS source.
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_NO_PLATFORM_ENTROPY

// Time: the board has no battery-backed clock. mbedtls_port.c keeps seconds since the epoch,
// set by tls.set_time(); until then it runs from STM32LAB_TLS_TIME_FLOOR (the firmware's
// release date), so certificates that expired before the release are refused and
// certificates issued after it are "not yet valid" until the application sets the time.
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
time_t stm32lab_tls_time(time_t *timer);
#define MBEDTLS_PLATFORM_TIME_MACRO         stm32lab_tls_time
#define MBEDTLS_PLATFORM_MS_TIME_ALT
#define MBEDTLS_PLATFORM_GMTIME_R_ALT

// --- TLS --------------------------------------------------------------------------------

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE   // middlebox-compatible TLS 1.3 (RFC 8446 D.4)
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED  // resumption, still (EC)DHE
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C                // server tickets (ssl_ticket.c, AES-256-GCM keys)
#define MBEDTLS_SSL_CACHE_C                 // server session-ID cache (ssl_cache.c)
#define MBEDTLS_SSL_CACHE_DEFAULT_MAX_ENTRIES   (8)
#define MBEDTLS_SSL_CACHE_DEFAULT_TIMEOUT       (3600)
#define MBEDTLS_SSL_PROTO_DTLS             // also gives tls sockets recv/send (read1/write1)
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ENCRYPT_THEN_MAC
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE   // SSLSocket.getpeercert(True); TLS 1.3 needs it

#define MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED

// Incoming records up to the full 16 KiB (peers do not all negotiate a smaller fragment
// length); outgoing records in 4 KiB pieces to keep each connection's buffers small.
#define MBEDTLS_SSL_MAX_CONTENT_LEN         (16384)
#define MBEDTLS_SSL_IN_CONTENT_LEN          (16384)
#define MBEDTLS_SSL_OUT_CONTENT_LEN         (4096)

// --- X.509, keys ------------------------------------------------------------------------

#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21                   // RSA-PSS signed certificates
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_RSA_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_DHM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED

// --- symmetric crypto, hashes, DRBG ------------------------------------------------------

#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_CIPHER_MODE_CTR             // cryptolib.aes(key, MODE_CTR, nonce)
#define MBEDTLS_CIPHER_PADDING_PKCS7
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES              // software AES tables in flash, not RAM
#define MBEDTLS_DES_C
#define MBEDTLS_GCM_C
// AES-CCM(-8) suites, TLS 1.2 and 1.3 (about 4 KiB of code): left out where the code flash
// is short (make TLS_CCM=0: the Nucleo-F411RE's 384 KiB, 2 KiB too few for them)
#if !defined(STM32LAB_TLS_CCM) || STM32LAB_TLS_CCM
#define MBEDTLS_CCM_C
#endif
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HKDF_C                      // PSA's HKDF for the TLS 1.3 key schedule
#define MBEDTLS_PSA_CRYPTO_C                // seeded from the same RNG-only entropy
#define MBEDTLS_PSA_KEY_SLOT_COUNT          (16)    // a few live keys per TLS 1.3 handshake
#define MBEDTLS_ERROR_C                     // error texts (MicroPython's compact table)
#define MBEDTLS_SELF_TEST                   // tls.selftest()

// --- hardware crypto (mbedtls/aes_alt.c, des_alt.c, hash_alt.c, gcm_alt.c, ccm_alt.c) ----

#if STM32LAB_HW_CRYPTO && STM32LAB_MBEDTLS_ALT
#include "hwcrypto/hwcrypto_config.h"   // what this chip's CRYP and HASH can do
#define MBEDTLS_AES_ALT
#define MBEDTLS_DES_ALT
#define MBEDTLS_SHA1_ALT
#define MBEDTLS_MD5_ALT
#if MICROPY_HW_HASH_SHA224_256
#define MBEDTLS_SHA256_ALT                  // SHA-224 and SHA-256 (one context type)
#endif
// mbedtls_md_hmac() (patches/mbedtls/0004) in the HASH's HMAC mode for the hashes the chip
// has, and the TLS 1.2 PRF's HMACs through it (0005): HMAC-SHA-256, the PRF of most suites,
// on the STM32F439 only; SHA-384 and whatever the chip lacks stay in software.
#define MBEDTLS_MD_HMAC_ALT
void stm32lab_hmac_counts(uint32_t counts[2]);  // on the HASH, refused (tls.hmac_counts)
// GCM's one-shot calls on the CRYP's GCM engine where it has one (STM32F439:
// MICROPY_HW_CRYP_GCM_CCM), else the payload as one CRYP AES-CTR run and GHASH in software
// (STM32F417); gcm_sw.c compiles mbedTLS's own gcm.c beside it (STM32LAB_GCM_SOFTWARE) for
// GHASH and as the fallback.
#if !defined(STM32LAB_GCM_SOFTWARE)
#define MBEDTLS_GCM_ALT
#endif
// CCM's one-shot calls on the CRYP's CCM engine where it has one (STM32F439); ccm_sw.c
// compiles mbedTLS's own ccm.c beside it (STM32LAB_CCM_SOFTWARE) as the fallback. The
// STM32F417 has no CCM engine: mbedTLS's ccm.c, its AES blocks on the CRYP (AES_ALT).
#if MICROPY_HW_CRYP_GCM_CCM && defined(MBEDTLS_CCM_C) && !defined(STM32LAB_CCM_SOFTWARE)
#define MBEDTLS_CCM_ALT
#endif
#endif

// For MicroPython's extmod/modtls_mbedtls.c: bare metal, no libc heap behind mbedTLS.
#define MICROPY_MBEDTLS_CONFIG_BARE_METAL   (1)

#endif // MICROPY_INCLUDED_STM32LAB_MBEDTLS_CONFIG_PORT_H
