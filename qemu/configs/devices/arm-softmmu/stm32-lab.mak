# The STM324xG-EVAL and STM324x9I-EVAL boards and what they select (hw/arm/Kconfig)
CONFIG_STM324XG_EVAL=y
CONFIG_STM324X9I_EVAL=y
