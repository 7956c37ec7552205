# ST STM324xG-EVAL: STM32F417IG, 1 MiB flash, 128 KiB SRAM1+SRAM2, 64 KiB CCM.
MCU_LDSCRIPT = mcu/stm32f417xg.ld
QEMU_MACHINE = stm324xg-eval
# The 3.2" TFT (MB785): ILI9325 on FSMC bank 1 NE3 (lcd.c, the lcd module)
LCD = ili9325
