# The STM324xG-EVAL board and what it selects (hw/arm/Kconfig)
CONFIG_STM324XG_EVAL=y
