/*
 * ST STM324xG-EVAL evaluation board (STM32F417IG), as used by ST's
 * "SSL client/server on STM32F4" demonstration (UM1723 / AN3365 family).
 *
 * Board facts (UM1461, STM3240G-EVAL/STM3241G-EVAL user manual):
 *   HSE crystal 25 MHz; console RS232 on USART3 (CN16);
 *   LED1 green PG6, LED2 orange PG8, LED3 red PI9, LED4 blue PC7, active high;
 *   Ethernet DP83848 PHY in MII mode at address 1, its interrupt output
 *   (MII_INT, active low) on PB14.
 *
 * The LED states are readable over QMP:
 *   { "execute": "qom-get",
 *     "arguments": { "path": "/machine", "property": "led1" } }
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/boards.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/arm/boot.h"
#include "hw/arm/stm32f4xx_soc.h"
#include "trace.h"

#define TYPE_STM324XG_EVAL_MACHINE MACHINE_TYPE_NAME("stm324xg-eval")
OBJECT_DECLARE_SIMPLE_TYPE(Stm324xgEvalMachineState, STM324XG_EVAL_MACHINE)

#define NUM_LEDS 4

typedef struct BoardLed {
    const char *name;
    const char *color;
    int port;       /* 0 = GPIOA */
    int pin;
} BoardLed;

static const BoardLed stm324xg_eval_leds[NUM_LEDS] = {
    { "led1", "green",  'G' - 'A', 6 },
    { "led2", "orange", 'G' - 'A', 8 },
    { "led3", "red",    'I' - 'A', 9 },
    { "led4", "blue",   'C' - 'A', 7 },
};

struct Stm324xgEvalMachineState {
    MachineState parent_obj;

    STM32F4xxSocState soc;
    bool led_on[NUM_LEDS];
};

static void stm324xg_eval_led_set(void *opaque, int n, int level)
{
    Stm324xgEvalMachineState *m = opaque;

    /* Active high: the pin drives the LED's anode through a resistor */
    if (m->led_on[n] != !!level) {
        m->led_on[n] = !!level;
        trace_stm324xg_eval_led(stm324xg_eval_leds[n].name,
                                stm324xg_eval_leds[n].color, !!level);
    }
}

static bool stm324xg_eval_get_led(Object *obj, Error **errp, int n)
{
    return STM324XG_EVAL_MACHINE(obj)->led_on[n];
}

#define LED_GETTER(n) \
    static bool stm324xg_eval_get_led##n(Object *obj, Error **errp) \
    { \
        return stm324xg_eval_get_led(obj, errp, n - 1); \
    }
LED_GETTER(1)
LED_GETTER(2)
LED_GETTER(3)
LED_GETTER(4)

static void stm324xg_eval_init(MachineState *machine)
{
    Stm324xgEvalMachineState *m = STM324XG_EVAL_MACHINE(machine);
    STM32F4xxSocClass *sc;
    qemu_irq *led_irqs;
    int i;

    object_initialize_child(OBJECT(machine), "soc", &m->soc,
                            TYPE_STM32F417_SOC);
    qdev_prop_set_uint32(DEVICE(&m->soc), "hse-frequency", 25000000);
    sysbus_realize(SYS_BUS_DEVICE(&m->soc), &error_fatal);

    led_irqs = qemu_allocate_irqs(stm324xg_eval_led_set, m, NUM_LEDS);
    for (i = 0; i < NUM_LEDS; i++) {
        const BoardLed *led = &stm324xg_eval_leds[i];
        qdev_connect_gpio_out(DEVICE(&m->soc.gpio[led->port]), led->pin,
                              led_irqs[i]);
    }

    /* The PHY interrupt pin idles high through the board's pull-up */
    qdev_connect_gpio_out_named(DEVICE(&m->soc.eth), "phy-int", 0,
                                qdev_get_gpio_in(DEVICE(&m->soc.gpio[1]), 14));

    sc = STM32F4XX_SOC_GET_CLASS(&m->soc);
    armv7m_load_kernel(ARM_CPU(first_cpu), machine->kernel_filename,
                       0, sc->flash_size);
}

static void stm324xg_eval_instance_init(Object *obj)
{
    static bool (*const getters[NUM_LEDS])(Object *, Error **) = {
        stm324xg_eval_get_led1, stm324xg_eval_get_led2,
        stm324xg_eval_get_led3, stm324xg_eval_get_led4,
    };
    int i;

    for (i = 0; i < NUM_LEDS; i++) {
        g_autofree char *desc = g_strdup_printf(
            "LED%d (%s, P%c%d): true when lit", i + 1,
            stm324xg_eval_leds[i].color, 'A' + stm324xg_eval_leds[i].port,
            stm324xg_eval_leds[i].pin);
        object_property_add_bool(obj, stm324xg_eval_leds[i].name, getters[i],
                                 NULL);
        object_property_set_description(obj, stm324xg_eval_leds[i].name,
                                        desc);
    }
}

static void stm324xg_eval_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    static const char * const valid_cpu_types[] = {
        ARM_CPU_TYPE_NAME("cortex-m4"),
        NULL
    };

    mc->desc = "ST STM324xG-EVAL (STM32F417IG, Cortex-M4F)";
    mc->init = stm324xg_eval_init;
    mc->valid_cpu_types = valid_cpu_types;
    mc->default_cpu_type = ARM_CPU_TYPE_NAME("cortex-m4");
    mc->default_ram_size = 0;
    mc->no_parallel = 1;
    mc->no_floppy = 1;
    mc->no_cdrom = 1;
}

static const TypeInfo stm324xg_eval_types[] = {
    {
        .name          = TYPE_STM324XG_EVAL_MACHINE,
        .parent        = TYPE_MACHINE,
        .instance_size = sizeof(Stm324xgEvalMachineState),
        .instance_init = stm324xg_eval_instance_init,
        .class_init    = stm324xg_eval_class_init,
    },
};

DEFINE_TYPES(stm324xg_eval_types)
