// Board-level pieces of the machine module used outside it.
#ifndef MICROPY_INCLUDED_STM32LAB_MODMACHINE_H
#define MICROPY_INCLUDED_STM32LAB_MODMACHINE_H

// Latch the reset cause from RCC_CSR and clear the flags (call once at boot).
void machine_reset_cause_init(void);

#endif // MICROPY_INCLUDED_STM32LAB_MODMACHINE_H
