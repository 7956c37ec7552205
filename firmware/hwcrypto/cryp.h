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
// CRYP driver (RM0090 23): AES-128/192/256 ECB/CBC/CTR, DES and TDES ECB/CBC, and on the
// STM32F437/439 ("v2" CRYP) AES-GCM and AES-CCM. Polled, no interrupts or DMA; every wait
// is bounded and a stuck peripheral comes back as CRYP_ERR_TIMEOUT.
//
// Each call is a complete operation: it loads key, IV and mode, runs, and leaves the CRYP
// disabled, so callers (the stm32crypto module, mbedTLS ALT code) can interleave freely.
// Not reentrant: do not call from an interrupt handler while the main code uses it.
#ifndef MICROPY_INCLUDED_STM32LAB_HWCRYPTO_CRYP_H
#define MICROPY_INCLUDED_STM32LAB_HWCRYPTO_CRYP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hwcrypto/hwcrypto_config.h"

typedef enum {
    CRYP_OK = 0,
    CRYP_ERR_PARAM,         // bad key, IV, nonce, tag or data length
    CRYP_ERR_UNSUPPORTED,   // not on this chip (GCM/CCM need the STM32F437/439)
    CRYP_ERR_TIMEOUT,       // the CRYP did not raise a flag in time
    CRYP_ERR_AUTH,          // GCM/CCM decryption: tag mismatch (output wiped)
} cryp_status_t;

const char *cryp_status_str(cryp_status_t status);

#define CRYP_AES_BLOCK_SIZE (16)
#define CRYP_DES_BLOCK_SIZE (8)

// An AES key as the key registers take it: big-endian words right-aligned in K0LR..K3RR
// (AES-128 in K2LR..K3RR). Plain data: copy it freely.
typedef struct {
    uint32_t words[8];
    uint8_t nwords;         // 4, 6 or 8; 0 = not set
} cryp_aes_key_t;

// len 16, 24 or 32, else CRYP_ERR_PARAM.
cryp_status_t cryp_aes_setkey(cryp_aes_key_t *key, const uint8_t *bytes, size_t len);

// ECB and CBC: len a multiple of 16 (0 is fine); in == out is allowed. Decryption runs the
// CRYP key preparation first. CBC: iv is updated to the value that continues the chain.
cryp_status_t cryp_aes_ecb(const cryp_aes_key_t *key, bool decrypt,
    const uint8_t *in, uint8_t *out, size_t len);
cryp_status_t cryp_aes_cbc(const cryp_aes_key_t *key, bool decrypt, uint8_t iv[16],
    const uint8_t *in, uint8_t *out, size_t len);

// CTR (encryption = decryption): counter is the 128-bit big-endian counter block; any len.
// Each block, including a partial last one, uses one counter value; on return counter is
// advanced by ceil(len / 16) with a full 128-bit carry (the CRYP itself only increments
// the low 32 bits: the driver splits the run where they wrap).
cryp_status_t cryp_aes_ctr(const cryp_aes_key_t *key, uint8_t counter[16],
    const uint8_t *in, uint8_t *out, size_t len);

// DES (8-byte key) and TDES (24 bytes K1||K2||K3, or 16 bytes K1||K2 meaning K3 = K1),
// E(K3, D(K2, E(K1, x))). Parity bits are ignored.
typedef struct {
    uint32_t words[6];      // K1L, K1R, K2L, K2R, K3L, K3R
    bool tdes;
} cryp_des_key_t;

cryp_status_t cryp_des_setkey(cryp_des_key_t *key, const uint8_t *bytes, size_t len);

// len a multiple of 8; in == out allowed; CBC updates iv.
cryp_status_t cryp_des_ecb(const cryp_des_key_t *key, bool decrypt,
    const uint8_t *in, uint8_t *out, size_t len);
cryp_status_t cryp_des_cbc(const cryp_des_key_t *key, bool decrypt, uint8_t iv[8],
    const uint8_t *in, uint8_t *out, size_t len);

// AES-GCM (NIST SP 800-38D) with a 96-bit IV, any AAD and data length. Both directions
// write the 16-byte tag computed over the ciphertext to tag. CRYP_ERR_UNSUPPORTED on the
// STM32F415/417.
cryp_status_t cryp_aes_gcm(const cryp_aes_key_t *key, bool decrypt, const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    uint8_t tag[16]);
// Decrypt and verify the first tag_len (4..16) bytes of the tag in constant time;
// CRYP_ERR_AUTH with out zeroed when they differ.
cryp_status_t cryp_aes_gcm_auth_decrypt(const cryp_aes_key_t *key, const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
    const uint8_t *tag, size_t tag_len);

// AES-CCM (NIST SP 800-38C): nonce 7..13 bytes, tag_len 4, 6, 8, 10, 12, 14 or 16, AAD up
// to 2^32 - 1 bytes. Both directions write tag_len tag bytes to tag.
cryp_status_t cryp_aes_ccm(const cryp_aes_key_t *key, bool decrypt,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag, size_t tag_len);
cryp_status_t cryp_aes_ccm_auth_decrypt(const cryp_aes_key_t *key,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, uint8_t *out, size_t len, const uint8_t *tag, size_t tag_len);

// Constant-time comparison: true when the n bytes are equal.
bool cryp_tag_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif // MICROPY_INCLUDED_STM32LAB_HWCRYPTO_CRYP_H
