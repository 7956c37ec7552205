"""What the lab is: its emulated network, its machines, and the network rule.

Every host tool takes these facts from here, so a new board is one more entry in
:data:`MACHINES` and the network rule is checked by one function (:func:`check_loopback`).

The machines are the QEMU machines of ``qemu/`` (see qemu/README.md). For each: the UARTs in
the order QEMU's ``-serial`` options reach them (the SoC gives ``serial_hd(0)`` to the
board's console USART, then the others in the order usart1, usart2, usart3, usart6, skipping
the console), the LEDs with their pins, colours and polarity, the push-buttons, and where
the firmware's config sector is.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = [
    "BOARD_IP", "BOARD_MAC", "BoardError", "Button", "DEFAULT_MACHINE", "HOST_IP", "Led",
    "MACHINES", "Machine", "NETWORK", "SLIRP_HOST_IP", "check_loopback", "check_port",
    "is_loopback", "machine",
]


class BoardError(RuntimeError):
    """The board could not be started or controlled.

    The message is one line that names the problem and, where there is one, the fix.
    ``returncode`` and ``stderr`` are set when the emulator process exited.
    """

    def __init__(self, message: str, returncode: int | None = None, stderr: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


# --- the emulated LAN (docs/architecture.md, "Network safety") -------------------------

NETWORK = "192.168.0.0/24"
HOST_IP = "192.168.0.1"       # the PC as the board sees it: where --guestfwd ports live
# slirp's own address (its gateway, and the source of --hostfwd connections). It cannot be
# HOST_IP: slirp refuses a guestfwd on its own address ("Conflicting/invalid host:port").
SLIRP_HOST_IP = "192.168.0.2"
BOARD_IP = "192.168.0.10"     # the firmware's static address (also the DHCP lease)
BOARD_MAC = "00:00:00:00:00:02"


# --- the network rule ------------------------------------------------------------------

def is_loopback(host: str, names: bool = True) -> bool:
    """True for 127.0.0.0/8, ::1 and (with names) "localhost". No name is ever resolved."""
    host = str(host).strip("[]")
    if names and host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_loopback(host: str, what: str, *, error: type = ValueError, ipv6: bool = True,
                   hint: str = "") -> str:
    """The lab's network rule for one address: return host as an IP literal ("localhost"
    is 127.0.0.1) if it is loopback, else raise ``error`` with one line naming the problem
    and the fix. ``ipv6=False`` also refuses ::1 (QEMU's forwards are IPv4). Nothing is
    looked up: a host name other than localhost is refused."""
    text = str(host).strip()
    allowed = "127.0.0.0/8 or ::1" if ipv6 else "127.0.0.0/8"
    if text.lower() == "localhost":
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        raise error(f"{what} '{host}' is not loopback: it is not an IP address, and only "
                    f"loopback addresses are allowed, with no name lookups (network rule): "
                    f"{allowed}, e.g. 127.0.0.1{hint}") from None
    if not ip.is_loopback:
        raise error(f"{what} '{host}' is not loopback; only loopback addresses are allowed "
                    f"(network rule): {allowed}, e.g. 127.0.0.1{hint}")
    if ip.version == 6 and not ipv6:
        raise error(f"{what} '{host}' is IPv6 loopback; this needs an IPv4 loopback "
                    f"address: {allowed}, e.g. 127.0.0.1{hint}")
    return str(ip)


def check_port(text, what: str, *, allow_zero: bool = False, error: type = ValueError) -> int:
    """A TCP port number from text; 0 ("a free one") only with allow_zero."""
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise error(f"{what} '{text}' is not a port number") from None
    if not (0 if allow_zero else 1) <= port <= 65535:
        raise error(f"{what} {port} is out of range (1..65535"
                    f"{', or 0 for a free one' if allow_zero else ''})")
    return port


# --- the machines ----------------------------------------------------------------------

@dataclass(frozen=True)
class Led:
    """A board LED: QOM property ``name`` on /machine (true = lit, whatever the polarity)."""

    name: str
    colour: str
    pin: str
    active_low: bool = False


@dataclass(frozen=True)
class Button:
    """A board push-button on a GPIO pin. The QEMU machine offers it as the QOM bool
    property ``button-<name>`` on /machine (true = pressed)."""

    name: str
    pin: str
    active_low: bool          # the pin reads 0 while the button is pressed

    @property
    def prop(self) -> str:
        return f"button-{self.name}"


@dataclass(frozen=True)
class Machine:
    """One emulated board: what the launcher, the tools and the tests need to know of it."""

    name: str                 # the QEMU machine (-M) and the firmware's BOARD= name
    short: str                # the chip's short name: F417, F439 (demo --board, Robot ${BOARD})
    board: str                # the board's own name
    chip: str
    uarts: tuple              # in QEMU's -serial order: the console first
    leds: tuple               # of Led
    buttons: tuple            # of Button
    console_port: str = ""    # the console UART and connector, for help texts
    config_addr: int = 0x080E0000   # the firmware's config sector (last 128 KiB sector)
    ethernet: bool = True     # a NIC on QEMU's restricted user-mode network
    # a W5100 shield (hw/net/w5100.c): the board's sockets are host sockets on 127.0.0.1,
    # reached through the same forwards (-global w5100.forward=/listen=)
    w5100: bool = False
    # an RNG on the chip; without one the launcher puts an entropy seed in the config
    rng: bool = True
    # CRYP/HASH on the chip: the firmware's hardware-crypto variant exists (HW_CRYPTO=1)
    crypto: bool = True
    # the LCD on the board's graphic console (what --screenshot saves), "" for none
    lcd: str = ""

    @property
    def console(self) -> str:
        """The console UART's own name, e.g. usart3."""
        return self.uarts[0]

    def uart(self, name: str) -> str:
        """The UART's own name for "console" or a UART name (any case); BoardError if the
        board has no such UART."""
        key = str(name).lower()
        if key == "console":
            return self.console
        if key not in self.uarts:
            raise BoardError(f"no UART '{name}' on {self.name}; use one of console, "
                             + ", ".join(self.uarts))
        return key

    def uart_label(self, name: str) -> str:
        """"console" for the console UART, else the UART's own name."""
        key = self.uart(name)
        return "console" if key == self.console else key

    def led(self, name: str) -> Led:
        """An LED by name (led1), colour (blue) or pin (PC7), any case."""
        key = str(name).lower()
        for led in self.leds:
            if key in (led.name, led.colour, led.pin.lower()):
                return led
        raise BoardError(f"no LED '{name}' on {self.name}; use one of "
                         + ", ".join(f"{led.name} ({led.colour})" for led in self.leds))

    def button(self, name: str) -> Button:
        """A push-button by name (user) or pin (PG15), any case."""
        key = str(name).lower()
        for button in self.buttons:
            if key in (button.name, button.pin.lower()):
                return button
        raise BoardError(f"no button '{name}' on {self.name}; use one of "
                         + ", ".join(b.name for b in self.buttons))


MACHINES = {m.name: m for m in (
    Machine(
        name="stm324xg-eval", short="F417", board="STM324xG-EVAL", chip="STM32F417IG",
        uarts=("usart3", "usart1", "usart2", "usart6"), console_port="USART3, the RS232 port CN16",
        leds=(Led("led1", "green", "PG6"), Led("led2", "orange", "PG8"),
              Led("led3", "red", "PI9"), Led("led4", "blue", "PC7")),
        buttons=(Button("wakeup", "PA0", active_low=False),
                 Button("tamper", "PC13", active_low=True),
                 Button("user", "PG15", active_low=True)),
        lcd="3.2-inch TFT, ILI9325, 320x240 RGB565 on FSMC NE3"),
    Machine(
        name="stm324x9i-eval", short="F439", board="STM324x9I-EVAL", chip="STM32F439NI",
        uarts=("usart1", "usart2", "usart3", "usart6"), console_port="USART1",
        leds=(Led("led1", "green", "PG6", True), Led("led2", "orange", "PG7", True),
              Led("led3", "red", "PG10", True), Led("led4", "blue", "PG12", True)),
        buttons=(Button("wakeup", "PA0", active_low=False),
                 Button("tamper", "PC13", active_low=True))),
    Machine(
        name="nucleo-f411re", short="F411", board="NUCLEO-F411RE", chip="STM32F411RE",
        uarts=("usart2", "usart1", "usart6"),
        console_port="USART2, the ST-LINK virtual COM port",
        leds=(Led("led2", "green", "PA5"),),
        buttons=(Button("user", "PC13", active_low=True),),
        config_addr=0x08060000, ethernet=False, w5100=True, rng=False,
        crypto=False),
)}
DEFAULT_MACHINE = "stm324xg-eval"


def machine(name: str | None = None) -> Machine:
    """A machine by QEMU name (stm324xg-eval) or short name (F417), any case; the default
    machine for None. BoardError names the choices otherwise."""
    if name is None:
        return MACHINES[DEFAULT_MACHINE]
    key = str(name).strip()
    for m in MACHINES.values():
        if key.lower() in (m.name, m.short.lower()):
            return m
    raise BoardError(f"unknown machine '{name}'; use one of "
                     + ", ".join(f"{m.name} ({m.short})" for m in MACHINES.values()))
