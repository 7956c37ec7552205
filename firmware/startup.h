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
// Startup and fault handling.
#ifndef MICROPY_INCLUDED_STM32LAB_STARTUP_H
#define MICROPY_INCLUDED_STM32LAB_STARTUP_H

#include <stdbool.h>
#include <stdint.h>

// Read a word from an address that may not be mapped (a bus fault there is caught and
// reported as false). For memories an emulator may leave out, such as the unique-ID area.
bool fault_probe_read32(uintptr_t addr, uint32_t *value);

#endif // MICROPY_INCLUDED_STM32LAB_STARTUP_H
