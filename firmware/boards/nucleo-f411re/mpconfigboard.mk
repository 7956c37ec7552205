# ST Nucleo-F411RE: STM32F411RE, 512 KiB flash, 128 KiB SRAM, no CCM; no Ethernet, CRYP,
# HASH or RNG (the board's network is a W5100 shield on SPI1).
MCU_LDSCRIPT = mcu/stm32f411xe.ld
QEMU_MACHINE = nucleo-f411re
NETWORK = none
HW_CRYPTO_BLOCKS = 0
TLS = mbedtls
# 384 KiB of code flash (the last sector is the config sector): no room for the AES-CCM
# suites' 4 KiB; TLS keeps its GCM and CBC suites
TLS_CCM = 0
STACK_RAM = the top of SRAM (no CCM)
FROZEN_MANIFEST = $(abspath boards/nucleo-f411re/manifest.py)
