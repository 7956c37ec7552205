"""platforms/*.repl are the lab's written-down memory map: every address, size and
interrupt they declare is checked against the QEMU machines (`info mtree`, interrupts
raised through qtest), the LEDs and the PHY against the QEMU board, and every loadable
segment of the firmware ELFs must land in a memory region they declare.

Tolerated, explicitly (the test prints these lists):
- NOT_YET_IN_QEMU: blocks the .repl declares per RM0090/UM1461 that this QEMU build
  does not model yet (only an unimplemented-device placeholder, or nothing). Once QEMU
  models one (its `info mtree` region gets a lowercase QOM type name, as every model
  here does; placeholders carry the uppercase names of create_unimplemented_device),
  the test fails until it is taken off the list, and its address, size and IRQs are
  checked like the rest.
- QEMU_IRQS_RENODE_LACKS: interrupts QEMU raises that the Renode models cannot (a
  Python peripheral has no interrupt output; Renode's RCC, flash interface and MAC have
  no such line).
- A point registration (`@ sysbus 0x...`) takes its size from the Renode model: only
  the address is compared.
"""
import re
import struct
import subprocess
from pathlib import Path

import pytest

from lab_qtest import RCC_CLOCKS, QTest, mtree
from repl_parser import parse

TOP = Path(__file__).resolve().parent.parent
PLATFORMS = TOP / "platforms"

BOARDS = {
    "stm324xg-eval": PLATFORMS / "stm324xg_eval.repl",
    "stm324x9i-eval": PLATFORMS / "stm324x9i_eval.repl",
}

# Declared in the .repl, not (yet) modelled by this QEMU build: name -> why
NOT_YET_IN_QEMU = {
    "fsmc": "FSMC control registers (RM0090 36): a placeholder region in QEMU so far",
    "fsmcBank1": "NOR/SRAM on FSMC bank 1 regions 1-2 (UM1461): no memory there in QEMU",
    "lcd": "ILI9325 on FSMC bank 1 region 3 (UM1461): not in QEMU so far",
    "flash_controller@0x1fffc000": "option bytes (RM0090 3.6.2): QEMU has OPTCR in the "
                                   "flash interface but maps no option byte memory",
}

# name in the .repl (or a QEMU-only block) -> IRQ QEMU raises, that Renode cannot
QEMU_IRQS_RENODE_LACKS = {
    "rcc": [5],             # RCC global interrupt (Renode's STM32F4_RCC has no IRQ)
    "flash_controller": [4],  # flash global interrupt (no IRQ in Renode's model)
    "ethernet": [62],       # Ethernet wake-up (SynopsysEthernetMAC has one IRQ)
    "cryp": [79],           # Python peripheral: no interrupt output
    "hash": [80],           # shared with RNG in QEMU; the Python HASH has no output
}
# (The FSMC's IRQ 48, NAND/PC card events, has no output in the Python FSMC either; QEMU
# has no FSMC model to raise it yet.)

# RM0090 table 61 (vector table of STM32F405xx/07xx and STM32F415xx/17xx), the
# positions of the blocks the .repl wires: name -> NVIC lines
RM0090_IRQS = {
    "usart1": [37], "usart2": [38], "usart3": [39], "usart6": [71],
    "timer2": [28], "timer3": [29], "timer4": [30], "timer5": [50],
    "exti": [6, 7, 8, 9, 10],           # lines 0..4; 5..9 -> 23 and 10..15 -> 40 below
    "nvicInput23": [23], "nvicInput40": [40],
    "dma1": [11, 12, 13, 14, 15, 16, 17, 47],
    "dma2": [56, 57, 58, 59, 60, 68, 69, 70],
    "ethernet": [61], "rng": [80],
}

# What ST's BSP says of the buttons (stm324xg_eval.h / stm324x9i_eval.h and BSP_PB_Init:
# Wakeup on a rising edge, the others on a falling edge): name -> (port, pin, active low)
BUTTONS = {
    "stm324xg-eval": {"wakeupButton": ("A", 0, False), "tamperButton": ("C", 13, True),
                      "keyButton": ("G", 15, True)},
    "stm324x9i-eval": {"wakeupButton": ("A", 0, False), "tamperButton": ("C", 13, True)},
}

# PHY registers in the .repl (Renode property) -> MDIO register number
PHY_REGS = {"BasicControl": 0, "BasicStatus": 1, "Id1": 2, "Id2": 3,
            "AutoNegotiationAdvertisement": 4, "AutoNegotiationLinkPartnerBasePageAbility": 5,
            "AutoNegotiationExpansion": 6, "AutoNegotiationNextPageTransmit": 7}
PHY_REGS.update({f"VendorSpecific{i}": 16 + i for i in range(16)})


@pytest.fixture(scope="module", params=list(BOARDS))
def board(request, qemu):
    """(machine, parsed .repl, QEMU regions, qtest) per board."""
    machine = request.param
    with QTest(qemu, machine=machine) as qts:
        yield machine, parse(BOARDS[machine]), mtree(qts), qts
        assert qts.alive(), qts.stderr()


def modelled(regions):
    """QEMU regions that are models or memory (lowercase names), by start address."""
    return {start: (name, size) for name, start, size in regions
            if re.match(r"[a-z]", name) and name != "system"}


def placeholders(regions):
    return {start: (name, size) for name, start, size in regions if re.match(r"[A-Z]", name)}


def sysbus_blocks(platform):
    """(entry name, address, size or None) of every sysbus registration."""
    out = []
    for e in platform.entries.values():
        for r in e.sysbus():
            size = r.size if r.size is not None else e.prop("size")
            out.append((e.name, r.address, size))
    return out


# ---- the description itself ----------------------------------------------------------

def test_descriptions_build_on_renodes_stm32f4_without_downloads():
    for path in BOARDS.values():
        p = parse(path)
        assert p.external == ["platforms/cpus/stm32f4.repl"]
        assert p["sysbus"].init, "the stock init (an SVD download) must be replaced"
    for f in list(PLATFORMS.glob("*.repl")) + list((TOP / "renode").glob("*.resc")):
        assert "http" not in f.read_text(), f"{f.name} fetches something at load time"


def test_python_peripheral_scripts_exist():
    for path in BOARDS.values():
        for e in parse(path).of_type("PythonPeripheral"):
            script = TOP / e.prop("filename")
            assert script.is_file(), f"{e.name}: {script} (paths are from the repo root)"
            assert e.prop("initable") is True, f"{e.name} keeps its state from an init request"


def test_f439_selects_the_v2_crypto_blocks():
    p = parse(BOARDS["stm324x9i-eval"])
    for name in ("cryp", "hash"):
        assert p[name].init == ["WriteDoubleWord 0x3FC 0x5EC00002"]
    p = parse(BOARDS["stm324xg-eval"])
    assert not p["cryp"].init and not p["hash"].init          # the models default to v1


# ---- memory map ---------------------------------------------------------------------------

def test_every_block_is_where_qemu_has_it(board):
    machine, platform, regions, _ = board
    have, stubs = modelled(regions), placeholders(regions)
    checked, pending = [], []
    for name, addr, size in sysbus_blocks(platform):
        if name in NOT_YET_IN_QEMU or f"{name}@0x{addr:08x}" in NOT_YET_IN_QEMU:
            assert addr not in have, (
                f"QEMU now models {have[addr][0]} at 0x{addr:08x}: take {name!r} off "
                f"NOT_YET_IN_QEMU so it is checked")
            pending.append(f"{name} @ 0x{addr:08x}"
                           f"{' (QEMU placeholder ' + stubs[addr][0] + ')' if addr in stubs else ''}")
            continue
        assert addr in have, f"{name}: nothing modelled at 0x{addr:08x} in QEMU {machine}"
        qname, qsize = have[addr]
        if size is not None:
            assert size == qsize, f"{name} @ 0x{addr:08x}: .repl 0x{size:x}, QEMU {qname} 0x{qsize:x}"
        checked.append(name)
    print(f"\n{machine}: {len(checked)} blocks checked; in .repl, not yet in this QEMU "
          f"build: {', '.join(pending)}")
    assert len(checked) > 25


def test_every_qemu_model_is_declared(board):
    machine, platform, regions, _ = board
    declared = {addr for _, addr, _ in sysbus_blocks(platform)}
    missing = [f"{name} @ 0x{start:08x}" for start, (name, _) in modelled(regions).items()
               if start not in declared and name != "signature"]
    assert not missing, f"QEMU {machine} models blocks the .repl lacks: {missing}"


def test_device_signature_matches_qemu(board):
    """The U_ID and flash size words the .repl writes at load are QEMU's ROM content."""
    machine, platform, _, qts = board
    writes = {}
    for line in platform["sysbus"].init:
        m = re.fullmatch(r"Write(DoubleWord|Word) (0x[0-9A-Fa-f]+) (0x[0-9A-Fa-f]+)", line)
        if m:
            writes[int(m[2], 16)] = (m[1], int(m[3], 16))
    assert len(writes) == 4
    for addr, (width, value) in writes.items():
        got = qts.readl(addr) if width == "DoubleWord" else qts.readw(addr)
        assert got == value, f"0x{addr:08x}: .repl 0x{value:x}, QEMU 0x{got:x}"


# ---- interrupts ---------------------------------------------------------------------------

def test_irqs_follow_rm0090(board):
    _, platform, _, _ = board
    for name, lines in RM0090_IRQS.items():
        assert platform[name].nvic_lines() == lines, name
    exti = platform["exti"]
    assert [i.dest for s in range(5, 10) for i in exti.irqs[s]] == ["nvicInput23"] * 5
    assert [i.dest for s in range(10, 16) for i in exti.irqs[s]] == ["nvicInput40"] * 6
    for name, lines in QEMU_IRQS_RENODE_LACKS.items():
        if name in platform:
            assert not set(platform[name].nvic_lines()) & set(lines), name


def enable_block_clock(qts, name):
    """Set the RCC clock-enable bit of the .repl block first, as firmware must: a block
    whose clock is off does not respond (EXTI's lines are routed by SYSCFG)."""
    key = {"ethernet": "eth", "exti": "syscfg"}.get(name, name)
    if key.startswith("timer"):
        key = "tim" + key[len("timer"):]
    if key in RCC_CLOCKS:
        qts.enable_clock(key)


def pulses(qts, irq):
    qts.irq_level(irq)                      # collects pending IRQ messages
    return any(n == irq and up for n, up in qts.irq_events)


def raise_irq(qts, name, base):
    """Make the QEMU model at base raise its interrupt the way firmware would."""
    if name.startswith("usart"):
        qts.writel(base + 0x0C, (1 << 13) | (1 << 7))        # UE, TXEIE; TXE is set
    elif name.startswith("timer"):
        qts.writel(base + 0x28, 0)                           # PSC
        qts.writel(base + 0x2C, 100)                         # ARR
        qts.writel(base + 0x0C, 1)                           # DIER.UIE
        qts.writel(base + 0x00, 1)                           # CR1.CEN
        qts.clock_step(100_000)
    elif name == "rng":
        qts.writel(base + 0x00, 0x0C)                        # IE, RNGEN
        qts.clock_step(100_000)
    elif name == "ethernet":
        qts.writel(base + 0x1010, 0x20000000)                # DMATDLAR: SRAM, OWN=0
        qts.writel(base + 0x101C, (1 << 16) | (1 << 2))      # DMAIER: NISE, TBUIE
        qts.writel(base + 0x0000, 1 << 3)                    # MACCR.TE
        qts.writel(base + 0x1018, 1 << 13)                   # DMAOMR.ST
        qts.clock_step(100_000)
    elif name == "cryp":
        qts.writel(base + 0x14, 1)                           # IMSCR.INIM
        qts.writel(base + 0x00, 1 << 15)                     # CRYPEN: IN FIFO wants data
    elif name == "hash":
        qts.writel(base + 0x20, 1)                           # IMR.DINIE; DINIS at reset
    elif name == "flash_controller":
        qts.writel(base + 0x04, 0x45670123)                  # KEYR: unlock
        qts.writel(base + 0x04, 0xCDEF89AB)
        qts.writel(base + 0x10, (1 << 24) | (11 << 3) | (1 << 1))   # EOPIE, SNB 11, SER
        qts.writel(base + 0x10, (1 << 24) | (11 << 3) | (1 << 1) | (1 << 16))  # STRT
    elif name == "rcc":
        qts.writel(base + 0x0C, 1 << 8)                      # CIR.LSIRDYIE
        qts.writel(base + 0x74, 1)                           # CSR.LSION
    else:
        return False
    return True



def dma2_stream_irqs(qts, base, lines):
    """DMA2 memory-to-memory, one word per stream with TCIE (RM0090 10.3.6: only DMA2
    can do memory-to-memory): each stream's transfer-complete is its own NVIC line."""
    for n, line in enumerate(lines):
        sx = base + 0x10 + 0x18 * n
        qts.writel(sx + 0x08, 0x20000000)                    # SxPAR: source
        qts.writel(sx + 0x0C, 0x20000100 + 4 * n)            # SxM0AR: destination
        qts.writel(sx + 0x04, 1)                             # SxNDTR
        qts.writel(sx + 0x00, (2 << 6) | (1 << 4) | 1)       # DIR=M2M, TCIE, EN
        qts.clock_step(100_000)
        assert pulses(qts, line), f"DMA2 stream {n}: no pulse on NVIC {line}"


def exti_line_irqs(qts, platform):
    """A rising edge on PAn (EXTICR reset value: port A) for every EXTI line 0..15:
    the NVIC line the .repl gives, directly or through nvicInput23/nvicInput40."""
    exti = platform["exti"]
    qts.writel(0x40013C00 + 0x00, 0xFFFF)                    # EXTI_IMR
    qts.writel(0x40013C00 + 0x08, 0xFFFF)                    # EXTI_RTSR
    for pin in range(16):
        (route,) = exti.irqs[pin]
        line = route.line if route.dest == "nvic" else platform[route.dest].nvic_lines()[0]
        qts.irq_events.clear()
        qts.set_irq_in("/machine/soc/gpioa", pin, 0)
        qts.set_irq_in("/machine/soc/gpioa", pin, 1)
        assert pulses(qts, line), f"EXTI{pin}: no pulse on NVIC {line}"


def test_irqs_match_qemu(qemu, board):
    """Each interrupt the .repl wires (and each one QEMU_IRQS_RENODE_LACKS lists)
    really is that NVIC line in QEMU: the model is made to raise it the way firmware
    would. Blocks on NOT_YET_IN_QEMU are skipped (and printed); DMA1 cannot do
    memory-to-memory, so its lines are checked against RM0090 only."""
    machine, platform, regions, _ = board
    blocks = {e.name: e.sysbus()[0].address for e in platform.entries.values() if e.sysbus()}
    checked, unchecked = [], []
    for name, addr in sorted(blocks.items()):
        want = platform[name].nvic_lines() or QEMU_IRQS_RENODE_LACKS.get(name, [])
        want = [n for n in want if n != 62]
        if not want:
            continue
        if name in NOT_YET_IN_QEMU or name == "dma1":
            unchecked.append(name)
            continue
        with QTest(qemu, machine=machine) as qts:
            qts.irq_intercept_in("/machine/soc/armv7m")
            enable_block_clock(qts, name)
            if name == "dma2":
                dma2_stream_irqs(qts, addr, want)
            elif name == "exti":
                exti_line_irqs(qts, platform)
            else:
                assert len(want) == 1 and raise_irq(qts, name, addr), f"no recipe for {name}"
                assert pulses(qts, want[0]), \
                    f"{name}: QEMU raised {sorted({n for n, up in qts.irq_events if up})}, not {want}"
            checked.append(f"{name}->{','.join(map(str, want))}")
    print(f"\n{machine}: IRQs raised in QEMU: {', '.join(checked)}; "
          f"RM0090 table only: {', '.join(unchecked)}")
    assert len(checked) >= 13


def test_exti_goes_through_syscfg(board):
    """Each port reaches EXTI through SYSCFG (EXTICR picks the port of a line), as in
    QEMU: PD13 with EXTICR4 = port D pulses NVIC 40, PA13 does not."""
    machine, platform, _, qts = board
    ports = "ABCDEFGHIJK"
    for e in platform.entries.values():
        m = re.fullmatch(r"gpioPort([A-K])", e.name)
        if m and e.irqs:
            index = ports.index(m[1])
            for pin in range(16):
                assert any(i.dest == "syscfg" and i.local == index and i.line == pin
                           for i in e.irqs[pin]), f"{e.name} pin {pin} bypasses SYSCFG"
    assert [i.line for s in range(16) for i in platform["syscfg"].irqs[s]] == list(range(16))
    qts.irq_intercept_in("/machine/soc/armv7m")
    qts.enable_clock("syscfg", "gpioa", "gpiod")  # as firmware must: off, no response
    qts.writel(0x40013800 + 0x14, 3 << 4)          # SYSCFG_EXTICR4: EXTI13 = port D
    qts.writel(0x40013C00 + 0x00, 1 << 13)         # EXTI_IMR
    qts.writel(0x40013C00 + 0x08, 1 << 13)         # EXTI_RTSR
    for port in ("a", "d"):
        qts.set_irq_in(f"/machine/soc/gpio{port}", 13, 0)
    qts.set_irq_in("/machine/soc/gpioa", 13, 1)
    assert not pulses(qts, 40), "PA13 reached EXTI13 with EXTICR4 = port D"
    qts.set_irq_in("/machine/soc/gpiod", 13, 1)
    assert pulses(qts, 40)


# ---- clocks -------------------------------------------------------------------------------

def test_clocks_for_168_mhz(board):
    machine, platform, _, qts = board
    assert platform["nvic"].prop("systickFrequency") == 168_000_000
    assert platform["cpu"].prop("cpuType") == "cortex-m4f"
    apb1_timers = ["timer%d" % n for n in (2, 3, 4, 5, 6, 7, 12, 13, 14)]
    apb2_timers = ["timer%d" % n for n in (1, 8, 9, 10, 11)]
    for t in apb1_timers:
        assert platform[t].prop("frequency") == 84_000_000, t
    for t in apb2_timers:
        assert platform[t].prop("frequency") == 168_000_000, t
    for i in range(4):                              # QEMU's TIM2..TIM5
        assert qts.qom_get(f"/machine/soc/timer[{i}]", "clock-frequency") == 84_000_000
    assert {u: platform[u].prop("frequency") for u in ("usart1", "usart2", "usart3", "usart6")} \
        == {"usart1": 84_000_000, "usart2": 42_000_000, "usart3": 42_000_000,
            "usart6": 84_000_000}


# ---- board: LEDs, buttons, PHY -------------------------------------------------------------

def test_leds_match_qemu(board):
    """Pin and polarity of each LED: QEMU's description, and driving the pin high in
    QEMU lights an active-high LED and darkens an active-low one."""
    machine, platform, _, qts = board
    props = {p["name"]: p.get("description", "") for p in
             qts.qmp("qom-list-properties", typename=f"{machine}-machine")}
    for n in range(1, 5):
        led = platform[f"led{n}"]
        reg = led.registrations[0]
        port = reg.parent.replace("gpioPort", "")
        m = re.search(r"P([A-K])(\d+), active (high|low)", props[f"led{n}"])
        assert m, props[f"led{n}"]
        assert (port, reg.address, led.prop("invert")) == (m[1], int(m[2]), m[3] == "low"), \
            f"led{n}: .repl P{port}{reg.address} invert={led.prop('invert')}, QEMU {m[0]}"
        gpio = 0x40020000 + 0x400 * "ABCDEFGHIJK".index(port)
        pin = reg.address
        qts.enable_clock(f"gpio{port.lower()}")     # as firmware must: off, no response
        qts.writel(gpio + 0x00, qts.readl(gpio) & ~(3 << 2 * pin) | (1 << 2 * pin))  # output
        qts.writel(gpio + 0x18, 1 << pin)                                             # high
        assert qts.qom_get("/machine", f"led{n}") is (not led.prop("invert")), f"led{n}"
        qts.writel(gpio + 0x18, 1 << (pin + 16))                                      # low
        assert qts.qom_get("/machine", f"led{n}") is led.prop("invert"), f"led{n}"
        routes = platform[reg.parent].irqs[pin]
        assert (f"led{n}", 0) in {(i.dest, i.line) for i in routes}
        assert any(i.dest == "syscfg" for i in routes), f"P{port}{pin} lost its route to SYSCFG"


def test_buttons_follow_the_bsp(board):
    machine, platform, _, _ = board
    buttons = {e.name: e for e in platform.of_type("Button")}
    assert set(buttons) == set(BUTTONS[machine])
    for name, (port, pin, active_low) in BUTTONS[machine].items():
        e = buttons[name]
        assert (e.registrations[0].parent, e.registrations[0].address) == (f"gpioPort{port}", pin)
        assert e.prop("invert") is active_low, name
        assert [(i.dest, i.line) for i in e.irqs[None]] == [(f"gpioPort{port}", pin)]


def mdio_read(qts, reg, phy_addr=1):
    eth = 0x40028000
    qts.writel(eth + 0x10, (phy_addr << 11) | (reg << 6) | 1)   # MACMIIAR: PA, MR, MB
    for _ in range(100):
        if not qts.readl(eth + 0x10) & 1:
            return qts.readl(eth + 0x14) & 0xFFFF
    raise AssertionError("MDIO read did not finish")


def test_phy_registers_match_qemu(qemu, board):
    """The static register file Renode gets is what QEMU's DP83848 reads with the
    link up and auto-negotiation done (100 Mb/s full duplex)."""
    machine, platform, _, _ = board
    phy = platform["phy"]
    assert phy.type == "Network.EthernetPhysicalLayer"
    assert (phy.registrations[0].parent, phy.registrations[0].address) == ("ethernet", 1)
    with QTest(qemu, machine=machine, nic="user,restrict=on,net=192.168.0.0/24") as qts:
        qts.enable_clock("eth")                     # ETHMACEN: MDIO is in the MAC
        for prop, value in phy.props.items():
            assert mdio_read(qts, PHY_REGS[prop]) == value, \
                f"{prop} (MDIO reg {PHY_REGS[prop]}): .repl 0x{value:04x}"
        assert mdio_read(qts, 2, phy_addr=0) == 0xFFFF   # nothing else on the bus


# ---- firmware ---------------------------------------------------------------------------------

def load_segments(elf: Path):
    """(paddr, vaddr, filesz, memsz) of every PT_LOAD of a 32-bit little-endian ELF."""
    data = elf.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 1 and data[5] == 1
    phoff, = struct.unpack_from("<I", data, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
    out = []
    for i in range(phnum):
        p_type, _, vaddr, paddr, filesz, memsz = struct.unpack_from(
            "<IIIIII", data, phoff + i * phentsize)
        if p_type == 1:
            out.append((paddr, vaddr, filesz, memsz))
    return out


def build_firmware(machine):
    elf = TOP / "firmware" / f"build-{machine}" / "firmware.elf"
    result = subprocess.run(["make", "-C", str(TOP / "firmware"), "-j2", f"BOARD={machine}"],
                            capture_output=True, text=True)
    if result.returncode != 0 or not elf.exists():
        pytest.fail(f"cannot build the firmware for {machine} ('make firmware "
                    f"BOARD={machine}'):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elf


@pytest.mark.parametrize("machine", list(BOARDS))
def test_firmware_segments_land_in_declared_memory(machine):
    platform = parse(BOARDS[machine])
    memories = [(name, addr, size) for name, addr, size in sysbus_blocks(platform)
                if platform[name].type in (None, "Memory.MappedMemory")
                and platform[name].prop("size") is not None and name != "fsmcBank1"]
    assert {m[0] for m in memories} >= {"flash", "sram", "ccm", "backupSram"}

    def region(start, length):
        for name, base, size in memories:
            if base <= start and start + length <= base + size:
                return name
        return None

    segments = load_segments(build_firmware(machine))
    assert segments
    for paddr, vaddr, filesz, memsz in segments:
        if filesz:
            assert region(paddr, filesz) == "flash", f"load image 0x{paddr:08x}+0x{filesz:x}"
        assert region(vaddr, memsz), f"segment 0x{vaddr:08x}+0x{memsz:x} is in no memory"
    # the config sector (host_tools/board.py: 0x080E0000, 128 KiB) is flash too
    assert region(0x080E0000, 128 * 1024) == "flash"


# ---- the Renode scripts -----------------------------------------------------------------------

RESC = {"stm324xg-eval": TOP / "renode" / "stm324xg_eval.resc",
        "stm324x9i-eval": TOP / "renode" / "stm324x9i_eval.resc"}


def test_resc_loads_its_board_and_console_is_qemus(board):
    """Each .resc loads its board's .repl and the firmware this tree builds, puts the
    config blob at the config sector and the console on the USART QEMU uses."""
    machine, platform, _, qts = board
    text = RESC[machine].read_text()
    repl = re.search(r"LoadPlatformDescription @(\S+)", text)[1]
    assert (TOP / repl).resolve() == BOARDS[machine].resolve()
    assert re.search(rf"\$bin\?=@firmware/build-{machine}/firmware\.elf", text)
    assert "sysbus LoadBinary $config 0x080E0000" in text
    config = re.search(r"\$config\?=@(\S+)", text)[1]
    assert (TOP / config).read_bytes() == b"\xff"            # an erased sector's first byte
    uart = re.search(r"connector Connect sysbus\.(usart\d) console", text)[1]
    assert uart in platform
    assert qts.qom_get("/machine/soc", "console-usart") == int(uart[-1])
    assert 'CreateServerSocketTerminal $console_port "console" False' in text
    assert "CreateTap" not in text                           # host links are opt-in
