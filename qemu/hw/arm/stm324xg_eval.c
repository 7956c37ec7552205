/*
 * ST evaluation boards for the STM32F4 SSL/TLS lab
 *
 * stm324xg-eval: STM3240G-EVAL / STM3241G-EVAL (STM32F417IG), the board of
 *   ST's "SSL client/server on STM32F4" demonstration. UM1461: HSE 25 MHz;
 *   console RS232 on USART3 (CN16); LED1 green PG6, LED2 orange PG8, LED3 red
 *   PI9, LED4 blue PC7, active high; DP83848 PHY (MII, address 1) with its
 *   interrupt output MII_INT (active low) on PB14.
 *
 * stm324x9i-eval: STM32429I-EVAL / STM32439I-EVAL (STM32F439NI). UM1667:
 *   HSE 25 MHz; console RS232 on USART1; LED1..LED4 on PG6, PG7, PG10, PG12,
 *   active low; DP83848 PHY (MII, address 1) whose MII_INT goes to the I/O
 *   expander, which is not modelled.
 *
 * The LED states are readable over QMP:
 *   { "execute": "qom-get",
 *     "arguments": { "path": "/machine", "property": "led1" } }
 *
 * Push-buttons (ST's BSP, stm324xg_eval.h / stm324x9i_eval.h; UM1461,
 * UM1667): the pins have the board's own pull resistors (the BSP configures
 * them without pull), so the board always drives them: Wakeup PA0 is active
 * high (the BSP takes its rising edge), Tamper PC13 and Key/User PG15 active
 * low (falling edge). On the STM324x9I-EVAL Tamper and Key are one button on
 * PC13. The joysticks sit on the I/O expander, which is not modelled. A
 * button is pressed and released with the machine's bool properties
 * button-wakeup, button-tamper and button-user:
 *   { "execute": "qom-set",
 *     "arguments": { "path": "/machine", "property": "button-user",
 *                    "value": true } }
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/arm/boot.h"
#include "hw/arm/stm32f4xx_soc.h"
#include "trace.h"

#define TYPE_STM32F4_EVAL_MACHINE MACHINE_TYPE_NAME("stm32f4-eval")
OBJECT_DECLARE_TYPE(Stm32f4EvalMachineState, Stm32f4EvalMachineClass,
                    STM32F4_EVAL_MACHINE)

#define NUM_LEDS 4
#define NUM_BUTTONS 3

typedef struct BoardLed {
    const char *color;
    char port;
    int pin;
} BoardLed;

typedef struct BoardButton {
    const char *name;       /* property button-<name> */
    const char *label;
    char port;
    int pin;
    bool active_high;
} BoardButton;

typedef struct BoardInfo {
    const char *name;
    const char *desc;
    const char *soc_type;
    uint8_t console_usart;
    bool leds_active_low;
    BoardLed leds[NUM_LEDS];
    char phy_int_port;      /* 0: MII_INT not on an MCU pin */
    int phy_int_pin;
    BoardButton buttons[NUM_BUTTONS];
} BoardInfo;

static const BoardInfo stm32f4_eval_boards[] = {
    {
        .name = MACHINE_TYPE_NAME("stm324xg-eval"),
        .desc = "ST STM324xG-EVAL (STM32F417IG, Cortex-M4F)",
        .soc_type = TYPE_STM32F417_SOC,
        .console_usart = 3,
        .leds = {
            { "green", 'G', 6 }, { "orange", 'G', 8 },
            { "red", 'I', 9 }, { "blue", 'C', 7 },
        },
        .phy_int_port = 'B',
        .phy_int_pin = 14,
        .buttons = {
            { "wakeup", "Wakeup", 'A', 0, true },
            { "tamper", "Tamper", 'C', 13, false },
            { "user", "Key (user)", 'G', 15, false },
        },
    }, {
        .name = MACHINE_TYPE_NAME("stm324x9i-eval"),
        .desc = "ST STM324x9I-EVAL (STM32F439NI, Cortex-M4F)",
        .soc_type = TYPE_STM32F439_SOC,
        .console_usart = 1,
        .leds_active_low = true,
        .leds = {
            { "green", 'G', 6 }, { "orange", 'G', 7 },
            { "red", 'G', 10 }, { "blue", 'G', 12 },
        },
        .buttons = {
            { "wakeup", "Wakeup", 'A', 0, true },
            { "tamper", "Tamper/Key", 'C', 13, false },
            { "user", "Tamper/Key", 'C', 13, false },
        },
    },
};

struct Stm32f4EvalMachineClass {
    MachineClass parent_class;
    const BoardInfo *board;
};

struct Stm32f4EvalMachineState {
    MachineState parent_obj;

    STM32F4xxSocState soc;
    bool led_on[NUM_LEDS];
    bool button_pressed[NUM_BUTTONS];
    bool soc_ready;         /* the button pins can be driven */
};

static const BoardInfo *board_info(void *obj)
{
    return STM32F4_EVAL_MACHINE_GET_CLASS(obj)->board;
}

static void stm32f4_eval_led_set(void *opaque, int n, int level)
{
    Stm32f4EvalMachineState *m = opaque;
    const BoardInfo *board = board_info(m);
    bool on = board->leds_active_low ? !level : !!level;

    if (m->led_on[n] != on) {
        m->led_on[n] = on;
        trace_stm32f4_eval_led(n + 1, board->leds[n].color, on);
    }
}

static bool stm32f4_eval_get_led(Object *obj, int n)
{
    return STM32F4_EVAL_MACHINE(obj)->led_on[n];
}

#define LED_GETTER(n) \
    static bool stm32f4_eval_get_led##n(Object *obj, Error **errp) \
    { \
        return stm32f4_eval_get_led(obj, n - 1); \
    }
LED_GETTER(1)
LED_GETTER(2)
LED_GETTER(3)
LED_GETTER(4)

/*
 * Drive a button's pin: its active level while any button on that pin is
 * pressed, else the level of the board's pull resistor.
 */
static void stm32f4_eval_drive_button(Stm32f4EvalMachineState *m, int n)
{
    const BoardInfo *board = board_info(m);
    const BoardButton *b = &board->buttons[n];
    bool pressed = false;
    int i;

    if (!m->soc_ready) {
        return;
    }
    for (i = 0; i < NUM_BUTTONS; i++) {
        if (board->buttons[i].port == b->port &&
            board->buttons[i].pin == b->pin) {
            pressed |= m->button_pressed[i];
        }
    }
    qemu_set_irq(qdev_get_gpio_in(DEVICE(&m->soc.gpio[b->port - 'A']),
                                  b->pin),
                 pressed == b->active_high);
}

static bool stm32f4_eval_get_button(Object *obj, int n)
{
    return STM32F4_EVAL_MACHINE(obj)->button_pressed[n];
}

static void stm32f4_eval_set_button(Object *obj, int n, bool pressed)
{
    Stm32f4EvalMachineState *m = STM32F4_EVAL_MACHINE(obj);

    if (m->button_pressed[n] != pressed) {
        m->button_pressed[n] = pressed;
        trace_stm32f4_eval_button(board_info(m)->buttons[n].name, pressed);
    }
    stm32f4_eval_drive_button(m, n);
}

#define BUTTON_ACCESSORS(n) \
    static bool stm32f4_eval_get_button##n(Object *obj, Error **errp) \
    { \
        return stm32f4_eval_get_button(obj, n); \
    } \
    static void stm32f4_eval_set_button##n(Object *obj, bool value, \
                                           Error **errp) \
    { \
        stm32f4_eval_set_button(obj, n, value); \
    }
BUTTON_ACCESSORS(0)
BUTTON_ACCESSORS(1)
BUTTON_ACCESSORS(2)

static void stm32f4_eval_init(MachineState *machine)
{
    Stm32f4EvalMachineState *m = STM32F4_EVAL_MACHINE(machine);
    const BoardInfo *board = board_info(m);
    STM32F4xxSocClass *sc;
    qemu_irq *led_irqs;
    int i;

    object_initialize_child(OBJECT(machine), "soc", &m->soc, board->soc_type);
    qdev_prop_set_uint32(DEVICE(&m->soc), "hse-frequency", 25000000);
    qdev_prop_set_uint8(DEVICE(&m->soc), "console-usart",
                        board->console_usart);
    sysbus_realize(SYS_BUS_DEVICE(&m->soc), &error_fatal);

    /* An active-low LED is off while its pin is not driven */
    for (i = 0; i < NUM_LEDS; i++) {
        m->led_on[i] = false;
    }
    led_irqs = qemu_allocate_irqs(stm32f4_eval_led_set, m, NUM_LEDS);
    for (i = 0; i < NUM_LEDS; i++) {
        const BoardLed *led = &board->leds[i];
        qdev_connect_gpio_out(DEVICE(&m->soc.gpio[led->port - 'A']), led->pin,
                              led_irqs[i]);
    }

    if (board->phy_int_port) {
        qdev_connect_gpio_out_named(
            DEVICE(&m->soc.eth), "phy-int", 0,
            qdev_get_gpio_in(DEVICE(&m->soc.gpio[board->phy_int_port - 'A']),
                             board->phy_int_pin));
    }

    /* Released buttons: the pull resistors set the pins' levels */
    m->soc_ready = true;
    for (i = 0; i < NUM_BUTTONS; i++) {
        stm32f4_eval_drive_button(m, i);
    }

    sc = STM32F4XX_SOC_GET_CLASS(&m->soc);
    armv7m_load_kernel(ARM_CPU(first_cpu), machine->kernel_filename,
                       0, sc->flash_size);
}

static void stm32f4_eval_instance_init(Object *obj)
{
    static bool (*const getters[NUM_LEDS])(Object *, Error **) = {
        stm32f4_eval_get_led1, stm32f4_eval_get_led2,
        stm32f4_eval_get_led3, stm32f4_eval_get_led4,
    };
    static bool (*const button_getters[NUM_BUTTONS])(Object *, Error **) = {
        stm32f4_eval_get_button0, stm32f4_eval_get_button1,
        stm32f4_eval_get_button2,
    };
    static void (*const button_setters[NUM_BUTTONS])(Object *, bool,
                                                     Error **) = {
        stm32f4_eval_set_button0, stm32f4_eval_set_button1,
        stm32f4_eval_set_button2,
    };
    const BoardInfo *board = board_info(obj);
    int i;

    for (i = 0; i < NUM_LEDS; i++) {
        g_autofree char *name = g_strdup_printf("led%d", i + 1);
        g_autofree char *desc = g_strdup_printf(
            "LED%d (%s, P%c%d, active %s): true when lit", i + 1,
            board->leds[i].color, board->leds[i].port, board->leds[i].pin,
            board->leds_active_low ? "low" : "high");
        object_property_add_bool(obj, name, getters[i], NULL);
        object_property_set_description(obj, name, desc);
    }

    for (i = 0; i < NUM_BUTTONS; i++) {
        const BoardButton *b = &board->buttons[i];
        g_autofree char *name = g_strdup_printf("button-%s", b->name);
        g_autofree char *desc = g_strdup_printf(
            "%s push-button (P%c%d, active %s): true while pressed", b->label,
            b->port, b->pin, b->active_high ? "high" : "low");
        object_property_add_bool(obj, name, button_getters[i],
                                 button_setters[i]);
        object_property_set_description(obj, name, desc);
    }
}

static void stm32f4_eval_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    Stm32f4EvalMachineClass *ec = STM32F4_EVAL_MACHINE_CLASS(oc);
    static const char * const valid_cpu_types[] = {
        ARM_CPU_TYPE_NAME("cortex-m4"),
        NULL
    };

    ec->board = data;
    mc->desc = ec->board->desc;
    mc->init = stm32f4_eval_init;
    mc->valid_cpu_types = valid_cpu_types;
    mc->default_cpu_type = ARM_CPU_TYPE_NAME("cortex-m4");
    mc->default_ram_size = 0;
    mc->no_parallel = 1;
    mc->no_floppy = 1;
    mc->no_cdrom = 1;
}

static const TypeInfo stm32f4_eval_machine_info = {
    .name          = TYPE_STM32F4_EVAL_MACHINE,
    .parent        = TYPE_MACHINE,
    .abstract      = true,
    .instance_size = sizeof(Stm32f4EvalMachineState),
    .class_size    = sizeof(Stm32f4EvalMachineClass),
};

static void stm32f4_eval_register_types(void)
{
    int i;

    type_register_static(&stm32f4_eval_machine_info);
    for (i = 0; i < ARRAY_SIZE(stm32f4_eval_boards); i++) {
        TypeInfo ti = {
            .name          = stm32f4_eval_boards[i].name,
            .parent        = TYPE_STM32F4_EVAL_MACHINE,
            .instance_init = stm32f4_eval_instance_init,
            .class_init    = stm32f4_eval_class_init,
            .class_data    = (void *)&stm32f4_eval_boards[i],
        };
        type_register_static(&ti);
    }
}

type_init(stm32f4_eval_register_types)
