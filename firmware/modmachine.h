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
// Board-level pieces of the machine module used outside it.
#ifndef MICROPY_INCLUDED_STM32LAB_MODMACHINE_H
#define MICROPY_INCLUDED_STM32LAB_MODMACHINE_H

// Latch the reset cause from RCC_CSR and clear the flags (call once at boot).
void machine_reset_cause_init(void);

#endif // MICROPY_INCLUDED_STM32LAB_MODMACHINE_H
