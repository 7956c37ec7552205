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
// machine.SPI: SPI1 as a master, polled, 8-bit frames (RM0090 28.3.3 / RM0383 20.3.3):
//
//     from machine import SPI, Pin
//     spi = SPI(1, baudrate=8_000_000, polarity=0, phase=0)
//     cs = Pin("PB6", Pin.OUT, value=1)
//     cs(0); spi.write(b"\xf0\x00\x01\x00"); cs(1)
//
// The chip select is a Pin of the caller's (software NSS: SSM=1, SSI=1), as the W5100
// shield's D10 is. Each byte: wait TXE, write DR, wait RXNE, read DR; every wait is timed
// (OSError ETIMEDOUT when the peripheral does not answer). The read/write methods come from
// extmod/machine_spi.c.
#include "py/runtime.h"
#include "py/mperrno.h"
#include "extmod/modmachine.h"
#include "stm32f4xx.h"
#include "clock.h"
#include "gpio.h"
#include "systick.h"

#if MICROPY_PY_MACHINE_SPI

#define SPI_TIMEOUT_MS (10)

typedef struct _machine_spi_obj_t {
    mp_obj_base_t base;
    SPI_TypeDef *spi;
    uint32_t baudrate;
    uint8_t polarity;
    uint8_t phase;
    uint8_t firstbit;
} machine_spi_obj_t;

static machine_spi_obj_t machine_spi1_obj = { { &machine_spi_type }, (SPI_TypeDef *)SPI1_BASE };

// The board's SPI1 pins, alternate function 5 (SCK, MISO, MOSI)
static const struct { char port; uint8_t pin; } spi1_pins[] = {
    { MICROPY_HW_SPI1_SCK_PORT, MICROPY_HW_SPI1_SCK_PIN },
    { MICROPY_HW_SPI1_MISO_PORT, MICROPY_HW_SPI1_MISO_PIN },
    { MICROPY_HW_SPI1_MOSI_PORT, MICROPY_HW_SPI1_MOSI_PIN },
};

static void spi_configure(machine_spi_obj_t *self) {
    RCC->APB2ENR |= RCC_APB2ENR_SPI1EN;
    (void)RCC->APB2ENR;
    for (size_t i = 0; i < MP_ARRAY_SIZE(spi1_pins); i++) {
        unsigned port = GPIO_INDEX(spi1_pins[i].port);
        gpio_clock_enable(port);
        gpio_config(port, spi1_pins[i].pin, GPIO_MODE_AF, GPIO_PULL_NONE, false,
            GPIO_SPEED_HIGH, 5);
    }
    // The slowest prescaler that still reaches the asked rate: PCLK2 / 2^(BR+1)
    uint32_t br = 0;
    while (br < 7 && clock_freqs.pclk2 / (2u << br) > self->baudrate) {
        br++;
    }
    self->baudrate = clock_freqs.pclk2 / (2u << br);
    SPI_TypeDef *spi = self->spi;
    spi->CR1 = 0;                                   // SPE off while configuring
    spi->CR2 = 0;
    spi->CR1 = SPI_CR1_MSTR | SPI_CR1_SSM | SPI_CR1_SSI | (br << SPI_CR1_BR_Pos)
        | (self->polarity ? SPI_CR1_CPOL : 0) | (self->phase ? SPI_CR1_CPHA : 0)
        | (self->firstbit == MICROPY_PY_MACHINE_SPI_LSB ? SPI_CR1_LSBFIRST : 0);
    spi->CR1 |= SPI_CR1_SPE;
}

static void machine_spi_init(mp_obj_base_t *self_in, size_t n_args, const mp_obj_t *pos_args,
    mp_map_t *kw_args) {
    enum { ARG_baudrate, ARG_polarity, ARG_phase, ARG_bits, ARG_firstbit };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_baudrate, MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_polarity, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_phase, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_bits, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 8} },
        { MP_QSTR_firstbit, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1} },
    };
    machine_spi_obj_t *self = (machine_spi_obj_t *)self_in;
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (args[ARG_bits].u_int != 8) {
        mp_raise_ValueError(MP_ERROR_TEXT("SPI: bits must be 8"));
    }
    if (args[ARG_baudrate].u_int != -1) {
        if (args[ARG_baudrate].u_int <= 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("SPI: baudrate must be > 0"));
        }
        self->baudrate = args[ARG_baudrate].u_int;
    }
    if (args[ARG_polarity].u_int != -1) {
        self->polarity = args[ARG_polarity].u_int != 0;
    }
    if (args[ARG_phase].u_int != -1) {
        self->phase = args[ARG_phase].u_int != 0;
    }
    if (args[ARG_firstbit].u_int != -1) {
        self->firstbit = args[ARG_firstbit].u_int;
    }
    spi_configure(self);
}

static mp_obj_t machine_spi_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    mp_arg_check_num(n_args, n_kw, 1, MP_OBJ_FUN_ARGS_MAX, true);
    if (mp_obj_get_int(all_args[0]) != 1) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("SPI(%d) doesn't exist; use SPI(1)"),
            (int)mp_obj_get_int(all_args[0]));
    }
    machine_spi_obj_t *self = &machine_spi1_obj;
    self->baudrate = 1000000;
    self->polarity = 0;
    self->phase = 0;
    self->firstbit = MICROPY_PY_MACHINE_SPI_MSB;
    mp_map_t kw_args;
    mp_map_init_fixed_table(&kw_args, n_kw, all_args + n_args);
    machine_spi_init(&self->base, n_args - 1, all_args + 1, &kw_args);
    return MP_OBJ_FROM_PTR(self);
}

static void machine_spi_deinit(mp_obj_base_t *self_in) {
    machine_spi_obj_t *self = (machine_spi_obj_t *)self_in;
    self->spi->CR1 &= ~SPI_CR1_SPE;
}

static void spi_wait(volatile uint32_t *sr, uint32_t bit) {
    if (!systick_wait_bits(sr, bit, bit, SPI_TIMEOUT_MS)) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("SPI: no answer from the peripheral"));
    }
}

static void machine_spi_transfer(mp_obj_base_t *self_in, size_t len, const uint8_t *src,
    uint8_t *dest) {
    SPI_TypeDef *spi = ((machine_spi_obj_t *)self_in)->spi;
    if (!(spi->CR1 & SPI_CR1_SPE)) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("SPI: deinit() was called; init() it"));
    }
    volatile uint8_t *dr = (volatile uint8_t *)&spi->DR;
    (void)*dr;                                      // a stale byte must not answer the first
    for (size_t i = 0; i < len; i++) {
        spi_wait(&spi->SR, SPI_SR_TXE);
        *dr = src ? src[i] : 0xff;
        spi_wait(&spi->SR, SPI_SR_RXNE);
        uint8_t in = *dr;
        if (dest) {
            dest[i] = in;
        }
    }
}

static void machine_spi_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    machine_spi_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "SPI(1, baudrate=%u, polarity=%u, phase=%u, bits=8, firstbit=%s)",
        (unsigned)self->baudrate, self->polarity, self->phase,
        self->firstbit == MICROPY_PY_MACHINE_SPI_LSB ? "LSB" : "MSB");
}

static const mp_machine_spi_p_t machine_spi_p = {
    .init = machine_spi_init,
    .deinit = machine_spi_deinit,
    .transfer = machine_spi_transfer,
};

MP_DEFINE_CONST_OBJ_TYPE(
    machine_spi_type,
    MP_QSTR_SPI,
    MP_TYPE_FLAG_NONE,
    make_new, machine_spi_make_new,
    print, machine_spi_print,
    protocol, &machine_spi_p,
    locals_dict, &mp_machine_spi_locals_dict
    );

#endif // MICROPY_PY_MACHINE_SPI
