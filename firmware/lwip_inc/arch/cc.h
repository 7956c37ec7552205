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
// lwIP's compiler/platform header for the lab firmware (arm-none-eabi GCC, no C library
// linked: lwIP only gets the newlib headers for types and macros).
#ifndef MICROPY_INCLUDED_STM32LAB_LWIP_ARCH_CC_H
#define MICROPY_INCLUDED_STM32LAB_LWIP_ARCH_CC_H

#include <stdint.h>

// BYTE_ORDER comes from newlib's <machine/endian.h> (little endian).
#include <machine/endian.h>

// lwIP must not call printf/abort (not linked): diagnostics are dropped, and an assertion
// failure resets the board with a message on the console (lwip_port_assert in
// mpnetworkport.c), which is better than carrying on with a corrupt stack.
#define LWIP_PLATFORM_DIAG(x)
void lwip_port_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

// No <ctype.h> functions are linked; lwIP has its own.
#define LWIP_NO_CTYPE_H 1

#endif // MICROPY_INCLUDED_STM32LAB_LWIP_ARCH_CC_H
