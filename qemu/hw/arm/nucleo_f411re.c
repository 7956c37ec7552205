/*
 * ST NUCLEO-F411RE board (STM32F411RE) for the STM32F4 SSL/TLS lab
 *
 * UM1724 (STM32 Nucleo-64 boards): the ST-LINK/V2-1 gives the MCU an 8 MHz
 * clock on OSC_IN (HSE bypass, MCO of the ST-LINK) and its virtual COM port
 * is USART2 on PA2/PA3, the console here (serial_hd(0)). The user LED LD2
 * (green) is on PA5 (Arduino D13, shared with SPI1 SCK), active high; the
 * user button B1 (blue) on PC13 is active low with an external pull-up.
 *
 * The lab's Nucleo carries an Arduino Ethernet shield: a WIZnet W5100 on SPI1
 * (D13/D12/D11 = PA5/PA6/PA7) with its chip select on D10 = PB6 and its
 * interrupt output on D2 = PA10. The shield's reset follows the board's.
 * Its lab network mapping is set with -global w5100.forward=... and
 * -global w5100.listen=... (hw/net/w5100.c).
 *
 * LD2 is readable and B1 can be pressed over QMP:
 *   { "execute": "qom-get",
 *     "arguments": { "path": "/machine", "property": "led2" } }
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
#include "hw/net/w5100.h"
#include "net/net.h"
#include "trace.h"

#define TYPE_NUCLEO_F411RE_MACHINE MACHINE_TYPE_NAME("nucleo-f411re")
OBJECT_DECLARE_SIMPLE_TYPE(NucleoF411reMachineState, NUCLEO_F411RE_MACHINE)

/* UM1724 6.1: 8 MHz from the ST-LINK's MCO, HSE in bypass mode */
#define NUCLEO_HSE_FREQUENCY    8000000
#define NUCLEO_CONSOLE_USART    2

#define GPIO_PORT(c)    ((c) - 'A')
#define LD2_PORT        'A'
#define LD2_PIN         5
#define B1_PORT         'C'
#define B1_PIN          13
#define W5100_CS_PORT   'B'     /* Arduino D10 */
#define W5100_CS_PIN    6
#define W5100_INT_PORT  'A'     /* Arduino D2 */
#define W5100_INT_PIN   10

struct NucleoF411reMachineState {
    MachineState parent_obj;

    STM32F4xxSocState soc;
    bool ld2_on;
    bool b1_pressed;
    bool soc_ready;         /* the button pin can be driven */
};

static void nucleo_f411re_ld2_set(void *opaque, int n, int level)
{
    NucleoF411reMachineState *m = opaque;

    if (m->ld2_on != !!level) {
        m->ld2_on = level;
        trace_nucleo_f411re_led("LD2", m->ld2_on);
    }
}

static bool nucleo_f411re_get_ld2(Object *obj, Error **errp)
{
    return NUCLEO_F411RE_MACHINE(obj)->ld2_on;
}

/* B1 pulls PC13 low while pressed; the board's pull-up holds it high */
static void nucleo_f411re_drive_b1(NucleoF411reMachineState *m)
{
    if (m->soc_ready) {
        qemu_set_irq(qdev_get_gpio_in(DEVICE(&m->soc.gpio[GPIO_PORT(B1_PORT)]),
                                      B1_PIN), !m->b1_pressed);
    }
}

static bool nucleo_f411re_get_b1(Object *obj, Error **errp)
{
    return NUCLEO_F411RE_MACHINE(obj)->b1_pressed;
}

static void nucleo_f411re_set_b1(Object *obj, bool pressed, Error **errp)
{
    NucleoF411reMachineState *m = NUCLEO_F411RE_MACHINE(obj);

    if (m->b1_pressed != pressed) {
        m->b1_pressed = pressed;
        trace_nucleo_f411re_button("B1", pressed);
    }
    nucleo_f411re_drive_b1(m);
}

/* The Ethernet shield's W5100 on SPI1, as /machine/w5100 */
static void nucleo_f411re_add_w5100(NucleoF411reMachineState *m)
{
    SSIBus *spi1 = m->soc.spi[0].ssi;
    DeviceState *w5100 = qdev_new(TYPE_W5100);
    DeviceState *cs_port = DEVICE(&m->soc.gpio[GPIO_PORT(W5100_CS_PORT)]);
    DeviceState *int_port = DEVICE(&m->soc.gpio[GPIO_PORT(W5100_INT_PORT)]);

    object_property_add_child(OBJECT(m), "w5100", OBJECT(w5100));
    /* -nic/-netdev options give its MACRAW socket a network */
    qemu_configure_nic_device(w5100, true, NULL);
    ssi_realize_and_unref(w5100, spi1, &error_fatal);
    qdev_connect_gpio_out(cs_port, W5100_CS_PIN,
                          qdev_get_gpio_in_named(w5100, SSI_GPIO_CS, 0));
    qdev_connect_gpio_out_named(w5100, "int", 0,
                                qdev_get_gpio_in(int_port, W5100_INT_PIN));
}

static void nucleo_f411re_init(MachineState *machine)
{
    NucleoF411reMachineState *m = NUCLEO_F411RE_MACHINE(machine);
    DeviceState *soc;

    object_initialize_child(OBJECT(machine), "soc", &m->soc,
                            TYPE_STM32F411_SOC);
    soc = DEVICE(&m->soc);
    qdev_prop_set_uint32(soc, "hse-frequency", NUCLEO_HSE_FREQUENCY);
    qdev_prop_set_uint8(soc, "console-usart", NUCLEO_CONSOLE_USART);
    sysbus_realize(SYS_BUS_DEVICE(soc), &error_fatal);

    qdev_connect_gpio_out(DEVICE(&m->soc.gpio[GPIO_PORT(LD2_PORT)]), LD2_PIN,
                          qemu_allocate_irq(nucleo_f411re_ld2_set, m, 0));

    nucleo_f411re_add_w5100(m);

    m->soc_ready = true;
    nucleo_f411re_drive_b1(m);

    armv7m_load_kernel(ARM_CPU(first_cpu), machine->kernel_filename, 0,
                       STM32F4XX_SOC_GET_CLASS(&m->soc)->flash_size);
}

static void nucleo_f411re_instance_init(Object *obj)
{
    object_property_add_bool(obj, "led2", nucleo_f411re_get_ld2, NULL);
    object_property_set_description(obj, "led2",
        "LD2 (green, PA5, active high): true when lit");
    object_property_add_bool(obj, "button-user", nucleo_f411re_get_b1,
                             nucleo_f411re_set_b1);
    object_property_set_description(obj, "button-user",
        "B1 user push-button (blue, PC13, active low): true while pressed");
}

static void nucleo_f411re_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    static const char * const valid_cpu_types[] = {
        ARM_CPU_TYPE_NAME("cortex-m4"),
        NULL
    };

    mc->desc = "ST NUCLEO-F411RE (STM32F411RE, Cortex-M4F)";
    mc->init = nucleo_f411re_init;
    mc->valid_cpu_types = valid_cpu_types;
    mc->default_cpu_type = ARM_CPU_TYPE_NAME("cortex-m4");
    mc->default_ram_size = 0;
    mc->no_parallel = 1;
    mc->no_floppy = 1;
    mc->no_cdrom = 1;
}

static const TypeInfo nucleo_f411re_machine_types[] = {
    {
        .name          = TYPE_NUCLEO_F411RE_MACHINE,
        .parent        = TYPE_MACHINE,
        .instance_size = sizeof(NucleoF411reMachineState),
        .instance_init = nucleo_f411re_instance_init,
        .class_init    = nucleo_f411re_class_init,
    },
};

DEFINE_TYPES(nucleo_f411re_machine_types)
