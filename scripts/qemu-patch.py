#!/usr/bin/env python3
"""Regenerate qemu/patches/*.patch: the lines that register our models in QEMU.

Each patch inserts text after an anchor line of a QEMU file; this script applies the
insertions to the pristine tree (from the build cache), patch after patch in the order
of their names, and writes unified diffs against the file as the earlier patches left
it, so the patches stay small and apply in that order with `patch -p1`.
Usage: python3 scripts/qemu-patch.py QEMU_SRC_DIR
"""
import difflib
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent

# patch name -> reason, [(file, anchor line, text to insert after it, or None / a list of
# fragment files to insert before it)]; an anchor ("REPLACE", old, new) replaces old text.
PATCHES = {
    "0001-hw-arm-add-stm32f4xx-soc-and-stm324xg-eval.patch": (
        "Register the STM32F4xx SoC and the STM324xG-EVAL and STM324x9I-EVAL boards.",
        [
            ("hw/arm/Kconfig", "config OLIMEX_STM32_H405\n",
             None),
            ("hw/arm/meson.build",
             "arm_ss.add(when: 'CONFIG_STM32F405_SOC', if_true: files('stm32f405_soc.c'))\n",
             "arm_ss.add(when: 'CONFIG_STM32F4XX_SOC', if_true: files('stm32f4xx_soc.c'))\n"
             "arm_ss.add(when: 'CONFIG_STM32F4_EVAL', if_true: files('stm324xg_eval.c'))\n"),
            ("hw/arm/trace-events", "# strongarm.c\n", None),
        ],
    ),
    "0002-hw-misc-add-stm32f4xx-rcc-flash-pwr-rng.patch": (
        "Register the STM32F4xx RCC, flash interface, PWR and RNG models.",
        [
            ("hw/misc/Kconfig", "config STM32L4X5_RCC\n    bool\n",
             "\nconfig STM32F4XX_RCC\n    bool\n"
             "\nconfig STM32F4XX_FLASH\n    bool\n"
             "\nconfig STM32F4XX_PWR\n    bool\n"
             "\nconfig STM32F4XX_RNG\n    bool\n"),
            ("hw/misc/meson.build",
             "system_ss.add(when: 'CONFIG_STM32L4X5_RCC', if_true: files('stm32l4x5_rcc.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_RCC', if_true: files('stm32f4xx_rcc.c'))\n"
             "system_ss.add(when: 'CONFIG_STM32F4XX_FLASH', if_true: files('stm32f4xx_flash.c'))\n"
             "system_ss.add(when: 'CONFIG_STM32F4XX_PWR', if_true: files('stm32f4xx_pwr.c'))\n"
             "system_ss.add(when: 'CONFIG_STM32F4XX_RNG', if_true: files('stm32f4xx_rng.c'))\n"),
            ("hw/misc/trace-events", "# stm32l4x5_syscfg.c\n", None),
        ],
    ),
    "0003-hw-gpio-add-stm32f4xx-gpio.patch": (
        "Register the STM32F4xx GPIO port model.",
        [
            ("hw/gpio/Kconfig", "config STM32L4X5_GPIO\n    bool\n",
             "\nconfig STM32F4XX_GPIO\n    bool\n"),
            ("hw/gpio/meson.build",
             "system_ss.add(when: 'CONFIG_STM32L4X5_SOC', if_true: files('stm32l4x5_gpio.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_GPIO', if_true: files('stm32f4xx_gpio.c'))\n"),
            ("hw/gpio/trace-events", "# stm32l4x5_gpio.c\n", None),
        ],
    ),
    "0005-hw-misc-add-stm32f4xx-cryp-hash.patch": (
        "Register the STM32F4xx CRYP and HASH processor models.",
        [
            ("hw/misc/Kconfig", "config STM32_RCC\n    bool\n",
             "\nconfig STM32F4XX_CRYP\n    bool\n"
             "\nconfig STM32F4XX_HASH\n    bool\n"),
            ("hw/misc/meson.build",
             "system_ss.add(when: 'CONFIG_STM32_RCC', if_true: files('stm32_rcc.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_CRYP', if_true: files('stm32f4xx_cryp.c'))\n"
             "system_ss.add(when: 'CONFIG_STM32F4XX_HASH', if_true: files('stm32f4xx_hash.c'))\n"),
            ("hw/misc/trace-events", "# stm32_rcc.c\n",
             ["hw__misc__trace-events.cryp", "hw__misc__trace-events.hash"]),
        ],
    ),
    "0006-hw-misc-stm32f4xx-syscfg-route-exti-for-every-port.patch": (
        "stm32f4xx_syscfg: GPIO input n is port n/16, pin n%16; EXTICR and the EXTI line"
        " are chosen by the pin (ports B..I indexed past EXTICR and aborted).",
        [
            ("hw/misc/stm32f4xx_syscfg.c", ("REPLACE",
             "    int icrreg = irq / 4;\n"
             "    int startbit = (irq & 3) * 4;\n"
             "    uint8_t config = irq / 16;\n",
             "    int pin = irq % 16;\n"
             "    int icrreg = pin / 4;\n"
             "    int startbit = (pin & 3) * 4;\n"
             "    uint8_t config = irq / 16;\n"), None),
            ("hw/misc/stm32f4xx_syscfg.c", ("REPLACE",
             "        qemu_set_irq(s->gpio_out[irq], level);\n"
             "        trace_stm32f4xx_pulse_exti(irq);\n",
             "        qemu_set_irq(s->gpio_out[pin], level);\n"
             "        trace_stm32f4xx_pulse_exti(pin);\n"), None),
        ],
    ),
    "0010-hw-misc-add-stm32f4xx-rcc-gate-and-dbgmcu.patch": (
        "Register the STM32F4xx RCC gate (peripheral reset and clock enable on the bus)"
        " and DBGMCU models.",
        [
            ("hw/misc/Kconfig", "config STM32F4XX_SYSCFG\n    bool\n",
             "\nconfig STM32F4XX_DBGMCU\n    bool\n"),
            ("hw/misc/meson.build",
             "system_ss.add(when: 'CONFIG_STM32F4XX_SYSCFG', if_true: files('stm32f4xx_syscfg.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_RCC', if_true: files('stm32f4xx_rcc_gate.c'))\n"
             "system_ss.add(when: 'CONFIG_STM32F4XX_DBGMCU', if_true: files('stm32f4xx_dbgmcu.c'))\n"),
            ("hw/misc/trace-events", "# stm32f4xx_syscfg.c\n",
             ["hw__misc__trace-events.gate-dbgmcu"]),
        ],
    ),
    "0011-hw-misc-stm32f4xx-syscfg-keep-pmc-mii-rmii-sel.patch": (
        "stm32f4xx_syscfg: keep SYSCFG_PMC.MII_RMII_SEL (RM0090 9.2.2), which selects the"
        " Ethernet MII or RMII interface; writes to PMC were dropped.",
        [
            ("hw/misc/stm32f4xx_syscfg.c", ("REPLACE",
             "    case SYSCFG_PMC:\n"
             "        qemu_log_mask(LOG_UNIMP,\n"
             "                      \"%s: Changing the memory mapping isn't supported \" \\\n"
             "                      \"in QEMU\\n\", __func__);\n"
             "        return;\n",
             "    case SYSCFG_PMC:\n"
             "        /* MII_RMII_SEL (bit 23) selects the Ethernet PHY interface */\n"
             "        if (value & ~SYSCFG_PMC_MII_RMII_SEL) {\n"
             "            qemu_log_mask(LOG_UNIMP, \"%s: PMC bits 0x%08x are not \"\n"
             "                          \"modelled\\n\", __func__,\n"
             "                          value & ~SYSCFG_PMC_MII_RMII_SEL);\n"
             "        }\n"
             "        s->syscfg_pmc = value & SYSCFG_PMC_MII_RMII_SEL;\n"
             "        return;\n"), None),
            ("hw/misc/stm32f4xx_syscfg.c", "#include \"hw/misc/stm32f4xx_syscfg.h\"\n",
             "\n#define SYSCFG_PMC_MII_RMII_SEL (1 << 23)\n"),
        ],
    ),
    "0008-hw-dma-add-stm32f4xx-dma.patch": (
        "Register the STM32F4xx DMA controller model (DMA1, DMA2).",
        [
            ("hw/dma/Kconfig", "config SIFIVE_PDMA\n    bool\n",
             "\nconfig STM32F4XX_DMA\n    bool\n"),
            ("hw/dma/meson.build",
             "system_ss.add(when: 'CONFIG_PL330', if_true: files('pl330.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_DMA', if_true: files('stm32f4xx_dma.c'))\n"),
            ("hw/dma/trace-events", "# i8257.c\n", None),
        ],
    ),
    "0009-hw-char-stm32f2xx-usart-dma-requests.patch": (
        "stm32f2xx_usart: DMA requests as GPIO outputs \"dma-tx\" (TXE with CR3.DMAT) and"
        " \"dma-rx\" (RXNE with CR3.DMAR), so a DMA controller can serve the USART.",
        [
            ("include/hw/char/stm32f2xx_usart.h", "#define USART_CR1_RE     (1 << 2)\n",
             "\n#define USART_CR3_DMAT   (1 << 7)\n"
             "#define USART_CR3_DMAR   (1 << 6)\n"),
            ("include/hw/char/stm32f2xx_usart.h", ("REPLACE",
             "    CharBackend chr;\n"
             "    qemu_irq irq;\n"
             "};\n",
             "    CharBackend chr;\n"
             "    qemu_irq irq;\n"
             "    qemu_irq dma_tx;\n"
             "    qemu_irq dma_rx;\n"
             "};\n"), None),
            ("hw/char/stm32f2xx_usart.c", ("REPLACE",
             "static void stm32f2xx_update_irq(STM32F2XXUsartState *s)\n"
             "{\n",
             "/* DMA requests: TXE with CR3.DMAT, RXNE with CR3.DMAR */\n"
             "static void stm32f2xx_update_dma(STM32F2XXUsartState *s)\n"
             "{\n"
             "    qemu_set_irq(s->dma_tx, (s->usart_cr3 & USART_CR3_DMAT) &&\n"
             "                            (s->usart_sr & USART_SR_TXE));\n"
             "    qemu_set_irq(s->dma_rx, (s->usart_cr3 & USART_CR3_DMAR) &&\n"
             "                            (s->usart_sr & USART_SR_RXNE));\n"
             "}\n"
             "\n"
             "static void stm32f2xx_update_irq(STM32F2XXUsartState *s)\n"
             "{\n"), None),
            ("hw/char/stm32f2xx_usart.c", ("REPLACE",
             "    } else {\n"
             "        qemu_set_irq(s->irq, 0);\n"
             "    }\n"
             "}\n",
             "    } else {\n"
             "        qemu_set_irq(s->irq, 0);\n"
             "    }\n"
             "    stm32f2xx_update_dma(s);\n"
             "}\n"), None),
            ("hw/char/stm32f2xx_usart.c", ("REPLACE",
             "        s->usart_cr3 = value;\n"
             "        return;\n",
             "        s->usart_cr3 = value;\n"
             "        stm32f2xx_update_dma(s);\n"
             "        return;\n"), None),
            ("hw/char/stm32f2xx_usart.c", ("REPLACE",
             "    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);\n",
             "    sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irq);\n"
             "    qdev_init_gpio_out_named(DEVICE(obj), &s->dma_tx, \"dma-tx\", 1);\n"
             "    qdev_init_gpio_out_named(DEVICE(obj), &s->dma_rx, \"dma-rx\", 1);\n"), None),
        ],
    ),
    "0012-hw-add-stm32f4xx-fsmc-and-ili9325.patch": (
        "Register the STM32F4xx FSMC model and the ILI9325 LCD controller.",
        [
            ("hw/misc/Kconfig", "config STM32F4XX_EXTI\n    bool\n",
             "\nconfig STM32F4XX_FSMC\n    bool\n"),
            ("hw/misc/meson.build",
             "system_ss.add(when: 'CONFIG_STM32F4XX_EXTI', if_true: files('stm32f4xx_exti.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_FSMC', if_true: files('stm32f4xx_fsmc.c'))\n"),
            ("hw/misc/trace-events", "# stm32l4x5_exti.c\n", ["hw__misc__trace-events.fsmc"]),
            ("hw/display/Kconfig", "config DM163\n    bool\n",
             "\nconfig ILI9325\n    bool\n"),
            ("hw/display/meson.build",
             "system_ss.add(when: 'CONFIG_DM163', if_true: files('dm163.c'))\n",
             "system_ss.add(when: 'CONFIG_ILI9325', if_true: files('ili9325.c'))\n"),
            ("hw/display/trace-events", "# apple-gfx.m\n", None),
        ],
    ),
    "0013-hw-arm-add-nucleo-f411re-and-stm32f4xx-spi.patch": (
        "Register the NUCLEO-F411RE board (STM32F411 part of the STM32F4xx SoC) and the"
        " STM32F4xx SPI model (one frame per DR write, unlike stm32f2xx_spi).",
        [
            ("hw/arm/Kconfig", "config OLIMEX_STM32_H405\n", ["hw__arm__Kconfig.nucleo"]),
            ("hw/arm/Kconfig", "    select STM32F4XX_FSMC\n", "    select STM32F4XX_SPI\n"),
            ("hw/arm/meson.build",
             "arm_ss.add(when: 'CONFIG_STM32F4_EVAL', if_true: files('stm324xg_eval.c'))\n",
             "arm_ss.add(when: 'CONFIG_NUCLEO_F411RE', if_true: files('nucleo_f411re.c'))\n"),
            ("hw/arm/trace-events", "# strongarm.c\n", ["hw__arm__trace-events.nucleo"]),
            ("hw/ssi/Kconfig", "config STM32F2XX_SPI\n    bool\n    select SSI\n",
             "\nconfig STM32F4XX_SPI\n    bool\n    select SSI\n"),
            ("hw/ssi/meson.build",
             "system_ss.add(when: 'CONFIG_STM32F2XX_SPI', if_true: files('stm32f2xx_spi.c'))\n",
             "system_ss.add(when: 'CONFIG_STM32F4XX_SPI', if_true: files('stm32f4xx_spi.c'))\n"),
            ("hw/ssi/trace-events", "# allwinner_a10_spi.c\n", None),
        ],
    ),
    "0014-hw-net-add-w5100.patch": (
        "Register the WIZnet W5100 (SPI) model and put it on the NUCLEO-F411RE's SPI1.",
        [
            ("hw/net/Kconfig", "config CAN_CTUCANFD_PCI\n", ["hw__net__Kconfig.w5100"]),
            ("hw/net/meson.build",
             "system_ss.add(when: 'CONFIG_STM32F4XX_ETH', if_true: files('stm32f4xx_eth.c'))\n",
             "system_ss.add(when: 'CONFIG_W5100', if_true: files('w5100.c'))\n"),
            ("hw/net/trace-events", "# lan9118_phy.c\n", ["hw__net__trace-events.w5100"]),
            ("hw/arm/Kconfig", ("REPLACE",
             "    depends on TCG && ARM\n    select STM32F4XX_SOC\n\nconfig OLIMEX_STM32_H405\n",
             "    depends on TCG && ARM\n    select STM32F4XX_SOC\n    select W5100\n"
             "\nconfig OLIMEX_STM32_H405\n"), None),
        ],
    ),
    "0004-hw-net-add-stm32f4xx-eth.patch": (
        "Register the STM32F4xx Ethernet MAC/DMA model and the DP83848 PHY.",
        [
            ("hw/net/Kconfig", "config CAN_CTUCANFD_PCI\n",
             None),
            ("hw/net/meson.build",
             "system_ss.add(when: 'CONFIG_IMX_FEC', if_true: files('imx_fec.c'))\n",
             "system_ss.add(when: 'CONFIG_DP83848_PHY', if_true: files('dp83848_phy.c'))\n"
             "system_ss.add(when: 'CONFIG_STM32F4XX_ETH', if_true: files('stm32f4xx_eth.c'))\n"),
            ("hw/net/trace-events", "# lan9118_phy.c\n", None),
        ],
    ),
    "0007-hw-char-stm32f2xx-usart-migrate-registers.patch": (
        "stm32f2xx_usart: add a VMStateDescription; without one a snapshot or migration"
        " restored the USART with its reset registers (UE, RE, RXNEIE off: no more input).",
        [
            ("hw/char/stm32f2xx_usart.c", "#include \"hw/qdev-properties-system.h\"\n",
             "#include \"migration/vmstate.h\"\n"),
            ("hw/char/stm32f2xx_usart.c", ("REPLACE",
             "static void stm32f2xx_usart_class_init(ObjectClass *klass, void *data)\n"
             "{\n"
             "    DeviceClass *dc = DEVICE_CLASS(klass);\n"
             "\n"
             "    device_class_set_legacy_reset(dc, stm32f2xx_usart_reset);\n",
             "static const VMStateDescription vmstate_stm32f2xx_usart = {\n"
             "    .name = TYPE_STM32F2XX_USART,\n"
             "    .version_id = 1,\n"
             "    .minimum_version_id = 1,\n"
             "    .fields = (const VMStateField[]) {\n"
             "        VMSTATE_UINT32(usart_sr, STM32F2XXUsartState),\n"
             "        VMSTATE_UINT32(usart_dr, STM32F2XXUsartState),\n"
             "        VMSTATE_UINT32(usart_brr, STM32F2XXUsartState),\n"
             "        VMSTATE_UINT32(usart_cr1, STM32F2XXUsartState),\n"
             "        VMSTATE_UINT32(usart_cr2, STM32F2XXUsartState),\n"
             "        VMSTATE_UINT32(usart_cr3, STM32F2XXUsartState),\n"
             "        VMSTATE_UINT32(usart_gtpr, STM32F2XXUsartState),\n"
             "        VMSTATE_END_OF_LIST()\n"
             "    }\n"
             "};\n"
             "\n"
             "static void stm32f2xx_usart_class_init(ObjectClass *klass, void *data)\n"
             "{\n"
             "    DeviceClass *dc = DEVICE_CLASS(klass);\n"
             "\n"
             "    device_class_set_legacy_reset(dc, stm32f2xx_usart_reset);\n"
             "    dc->vmsd = &vmstate_stm32f2xx_usart;\n"), None),
        ],
    ),
    "0015-net-slirp-guestfwd-to-a-unix-socket.patch": (
        "net/slirp: guestfwd=tcp:server:port-unix:path connects each guest connection to a"
        " Unix socket (libslirp 4.7's slirp_add_unix), so a program already running serves"
        " it without a process spawned per connection.",
        [
            ("qemu-options.hx", ("REPLACE",
             "    ``guestfwd=[tcp]:server:port-dev``; \\ ``guestfwd=[tcp]:server:port-cmd:command``\n"
             "        Forward guest TCP connections to the IP address server on port\n"
             "        port to the character device dev or to a program executed by\n"
             "        cmd:command which gets spawned for each connection. This option\n"
             "        can be given multiple times.\n",
             "    ``guestfwd=[tcp]:server:port-dev``; \\ ``guestfwd=[tcp]:server:port-cmd:command``;"
             " \\ ``guestfwd=[tcp]:server:port-unix:path``\n"
             "        Forward guest TCP connections to the IP address server on port\n"
             "        port to the character device dev, to a program executed by\n"
             "        cmd:command which gets spawned for each connection, or to a new\n"
             "        connection to the Unix socket unix:path for each connection\n"
             "        (libslirp 4.7 or later). This option can be given multiple times.\n"),
             None),
            ("net/slirp.c", ("REPLACE",
             "            return -1;\n"
             "        }\n"
             "    } else {\n"
             "        Error *err = NULL;\n",
             "            return -1;\n"
             "        }\n"
             "    } else if (g_str_has_prefix(p, \"unix:\")) {\n"
             "#if SLIRP_CHECK_VERSION(4, 7, 0)\n"
             "        if (slirp_add_unix(s->slirp, &p[5], &server, port) < 0) {\n"
             "            error_setg(errp, \"Conflicting/invalid host:port in guest \"\n"
             "                       \"forwarding rule '%s'\", config_str);\n"
             "            return -1;\n"
             "        }\n"
             "#else\n"
             "        error_setg(errp, \"guestfwd to a unix socket needs libslirp 4.7 or \"\n"
             "                   \"later, in rule '%s'\", config_str);\n"
             "        return -1;\n"
             "#endif\n"
             "    } else {\n"
             "        Error *err = NULL;\n"), None),
        ],
    ),
}

# Text inserted *before* an anchor (Kconfig blocks, trace-events sections) lives in
# qemu/patches/fragments/: by default the file named after the target file, or the
# fragment files an edit lists.
FRAGMENTS = TOP / "qemu" / "patches" / "fragments"


def insertion(path, anchor, text):
    if isinstance(anchor, tuple):                      # ("REPLACE", old, new)
        return anchor[1], anchor[2], "replace"
    if isinstance(text, str):
        return anchor, text, "after"
    names = text or [path.replace("/", "__")]
    return anchor, "".join((FRAGMENTS / n).read_text() for n in names), "before"


def main(argv):
    src = Path(argv[1])
    tree = {}              # each file as the patches before this one have left it
    for name, (reason, edits) in sorted(PATCHES.items()):
        out = [f"{reason}\n", "\n"]
        originals, edited = {}, {}
        for path, anchor, text in edits:
            if path not in originals:
                if path not in tree:
                    tree[path] = subprocess.run(
                        ["git", "-C", str(src), "show", f"HEAD:{path}"],
                        check=True, capture_output=True, text=True).stdout
                originals[path] = edited[path] = tree[path]
            anchor, text, where = insertion(path, anchor, text)
            if edited[path].count(anchor) != 1:
                sys.exit(f"{name}: anchor not unique in {path}: {anchor!r}")
            new = {"after": anchor + text, "before": text + anchor, "replace": text}[where]
            edited[path] = edited[path].replace(anchor, new)
        for path in originals:
            out.extend(difflib.unified_diff(originals[path].splitlines(True),
                                            edited[path].splitlines(True),
                                            f"a/{path}", f"b/{path}"))
        tree.update(edited)
        (TOP / "qemu" / "patches" / name).write_text("".join(out))
        print("wrote", name)


if __name__ == "__main__":
    main(sys.argv)
