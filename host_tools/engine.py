"""The engine interface behind :class:`host_tools.board.Board`, and what it is given.

An engine runs the board in one emulator: :class:`host_tools.qemu_engine.QemuEngine` today,
Renode later. It gets a :class:`BoardConfig` (firmware, machine, UARTs, forwards, logs,
determinism, config sector), checked here so that bad input is refused with one line
before anything starts, whatever the engine.
"""

from __future__ import annotations

import abc
import hashlib
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from host_tools import lab
from host_tools.config_sector import make_config_blob
from host_tools.lab import BOARD_IP, BOARD_MAC, NETWORK, BoardError
from host_tools.relay import IMPLEMENTATIONS as RELAYS

__all__ = ["BoardConfig", "Engine", "GuestForward", "HostForward", "check_firmware"]

ELF_MACHINE_ARM = 40


def _loopback(addr: str, what: str) -> str:
    """addr if it is an IPv4 loopback address (QEMU's forwards are IPv4), else BoardError."""
    return lab.check_loopback(addr, f"{what} host address", ipv6=False, error=BoardError)


def _port(text, what: str, allow_zero: bool = False) -> int:
    return lab.check_port(text, what, allow_zero=allow_zero, error=BoardError)


@dataclass(frozen=True)
class HostForward:
    """PC -> board: a TCP listener on host_addr:host_port reaches the board's guest_port.

    host_port 0 means "pick a free port" when the board starts."""

    host_port: int
    guest_port: int
    host_addr: str = "127.0.0.1"

    def __post_init__(self):
        _loopback(self.host_addr, "hostfwd")
        _port(self.host_port, "hostfwd host port", allow_zero=True)
        _port(self.guest_port, "hostfwd guest port")

    @classmethod
    def parse(cls, spec) -> "HostForward":
        """``HOSTPORT:GUESTPORT`` or ``HOSTADDR:HOSTPORT:GUESTPORT``."""
        if isinstance(spec, cls):
            return spec
        host_port, guest_port, addr = _forward_parts(spec, "hostfwd", addr_at=0,
                                                     form="HOSTPORT:GUESTPORT, e.g. 8080:80")
        return cls(_port(host_port, "hostfwd host port", True),
                   _port(guest_port, "hostfwd guest port"), _loopback(addr, "hostfwd"))


@dataclass(frozen=True)
class GuestForward:
    """Board -> PC: the board connecting to HOST_IP:guest_port reaches host_addr:host_port."""

    guest_port: int
    host_port: int
    host_addr: str = "127.0.0.1"

    def __post_init__(self):
        _loopback(self.host_addr, "guestfwd")
        _port(self.guest_port, "guestfwd guest port")
        _port(self.host_port, "guestfwd host port")

    @classmethod
    def parse(cls, spec) -> "GuestForward":
        """``GUESTPORT:HOSTPORT`` or ``GUESTPORT:HOSTADDR:HOSTPORT``."""
        if isinstance(spec, cls):
            return spec
        guest_port, host_port, addr = _forward_parts(spec, "guestfwd", addr_at=1,
                                                     form="GUESTPORT:HOSTPORT, e.g. 443:4433")
        return cls(_port(guest_port, "guestfwd guest port"),
                   _port(host_port, "guestfwd host port"), _loopback(addr, "guestfwd"))


def _forward_parts(spec, what: str, addr_at: int, form: str) -> tuple:
    """(first port, second port, host address) of a forward written with two ports and,
    at index addr_at, an optional host address (default 127.0.0.1)."""
    parts = str(spec).split(":")
    if len(parts) == 3:
        addr = parts.pop(addr_at)
    elif len(parts) == 2:
        addr = "127.0.0.1"
    else:
        raise BoardError(f"{what} '{spec}' is not {form}")
    return parts[0], parts[1], addr


@dataclass
class BoardConfig:
    """Everything an engine needs to start the board. Ports of 0 are picked at start."""

    firmware: Path
    machine: str = lab.DEFAULT_MACHINE   # a QEMU machine name (or short name: F417, F439)
    console_port: int = 0
    pty: bool = False
    extra_uarts: tuple = ()          # more UARTs to expose, e.g. ("usart2",)
    qmp_path: Path | None = None
    hostfwd: list = field(default_factory=list)
    guestfwd: list = field(default_factory=list)
    pcap: Path | None = None
    deterministic: bool = False
    seed: int = 1
    icount_shift: int = 7
    guest_errors: Path | None = None
    mac: str = BOARD_MAC
    board_ip: str = BOARD_IP
    log_dir: Path | None = None      # keep logs here; default: a temp dir removed at stop
    emulator: str | None = None      # emulator binary; default: the lab's build
    start_timeout: float = 30.0
    extra_args: tuple = ()           # test hook: more emulator arguments (no networking)
    config_blob: bytes | None = None  # the config sector's text (b"": an erased sector)
    config: dict | None = None       # config keys (PEM values as text or a Path); added last
    restore: Path | None = None      # a machine state saved by save_state, to start from
    relay: str = "native"            # the guestfwd relay (host_tools/relay.IMPLEMENTATIONS)

    def __post_init__(self):
        self.firmware = Path(self.firmware)
        #: the machine's table entry: UARTs, LEDs, buttons, config sector (lab.MACHINES)
        self.machine_spec = lab.machine(self.machine)
        self.machine = self.machine_spec.name
        # What goes into the config sector (None: nothing is loaded there)
        self.config_sector = None
        if self.config_blob is not None or self.config is not None:
            config = dict(self.config or {})
            if not self.machine_spec.rng and "seed" not in config \
                    and b"seed=" not in (self.config_blob or b""):
                # No RNG on the chip: the entropy seed its TLS needs comes with the config,
                # fresh for each boot (from --seed under --deterministic, so a run replays)
                config["seed"] = (hashlib.sha256(b"stm32lab-seed-%d" % int(self.seed)).hexdigest()
                                  if self.deterministic else os.urandom(32).hex())
            self.config_sector = make_config_blob(config, text=self.config_blob or b"")
        self.hostfwd = [HostForward.parse(f) for f in self.hostfwd]
        self.guestfwd = [GuestForward.parse(f) for f in self.guestfwd]
        self.console_port = _port(self.console_port, "console port", allow_zero=True)
        for opt in ("qmp_path", "pcap", "guest_errors", "log_dir", "restore"):
            if getattr(self, opt) is not None:
                setattr(self, opt, Path(getattr(self, opt)))
        console = self.machine_spec.console
        self.extra_uarts = tuple(dict.fromkeys(
            u for u in (self.machine_spec.uart(name) for name in self.extra_uarts)
            if u != console))
        if self.relay not in RELAYS:
            raise BoardError(f"relay '{self.relay}' is not one of {', '.join(RELAYS)}")
        if self.deterministic and not 0 < int(self.seed) < 2 ** 64:
            raise BoardError(f"seed {self.seed} must be a non-zero 64-bit number")
        net = ipaddress.ip_network(NETWORK)
        if ipaddress.ip_address(self.board_ip) not in net:
            raise BoardError(f"board IP {self.board_ip} is not in the emulated network {NETWORK}")
        seen = {}
        for fwd in self.guestfwd:
            if fwd.guest_port in seen:
                raise BoardError(f"guestfwd guest port {fwd.guest_port} is given twice")
            seen[fwd.guest_port] = fwd
        spec = self.machine_spec
        if not spec.ethernet and not spec.w5100 and (self.hostfwd or self.guestfwd or self.pcap):
            raise BoardError(f"{self.machine} has no Ethernet; drop --hostfwd, --guestfwd "
                             f"and --pcap")
        if spec.w5100:
            for fwd in (*self.hostfwd, *self.guestfwd):
                if fwd.host_addr != "127.0.0.1":
                    raise BoardError(f"{self.machine}'s W5100 reaches the PC on 127.0.0.1 "
                                     f"only; forward to 127.0.0.1, not {fwd.host_addr}")



def check_firmware(path) -> Path:
    """Check that path is a 32-bit little-endian ARM ELF; return it resolved."""
    path = Path(path)
    if not path.exists():
        raise BoardError(f"firmware '{path}' not found; build it with 'make firmware' "
                         f"or pass --firmware PATH")
    if not path.is_file():
        raise BoardError(f"firmware '{path}' is not a file; pass the firmware .elf "
                         f"with --firmware PATH")
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as e:
        raise BoardError(f"firmware '{path}' cannot be read ({e.strerror}); "
                         f"check its permissions") from None
    if head[:4] != b"\x7fELF":
        raise BoardError(f"firmware '{path}' is not an ELF file; pass the .elf the firmware "
                         f"build produces (not a .bin or .hex)")
    machine = int.from_bytes(head[18:20], "little" if head[5:6] == b"\x01" else "big")
    if len(head) < 20 or head[4] != 1 or head[5] != 1 or machine != ELF_MACHINE_ARM:
        bits = {1: "32", 2: "64"}.get(head[4] if len(head) > 4 else 0, "?")
        raise BoardError(f"firmware '{path}' is a {bits}-bit ELF for machine {machine}, "
                         f"not a 32-bit ARM ELF; build it with arm-none-eabi-gcc "
                         f"('make firmware')")
    return path.resolve()


class Engine(abc.ABC):
    """What an emulator engine offers. :class:`Board` delegates to one of these."""

    name = "?"

    def __init__(self, config: BoardConfig):
        self.config = config

    @abc.abstractmethod
    def start(self, paused: bool = False) -> None:
        """Start the board; with paused=True the CPU waits for :meth:`resume`."""

    @abc.abstractmethod
    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the board and clean up; returns the exit status (None if never started)."""

    @abc.abstractmethod
    def is_running(self) -> bool: ...

    @abc.abstractmethod
    def wait_for_exit(self, timeout: float | None = None) -> int | None:
        """Wait for the emulator to end by itself; its exit status, or None on timeout."""

    @abc.abstractmethod
    def resume(self) -> None: ...

    @abc.abstractmethod
    def pause(self) -> None: ...

    @abc.abstractmethod
    def reset(self) -> None: ...

    @abc.abstractmethod
    def uarts(self) -> dict:
        """UART -> pyserial URL (``socket://127.0.0.1:PORT``) or pty path; the console UART
        is "console", the others by their own names (usart2)."""

    @abc.abstractmethod
    def uart_connected(self, name: str) -> bool:
        """True while a client is attached to the UART (sockets; ptys always True)."""

    @abc.abstractmethod
    def set_link(self, up: bool) -> None: ...

    @abc.abstractmethod
    def link_is_up(self) -> bool: ...

    @abc.abstractmethod
    def led(self, name: str) -> bool:
        """True when the LED (its name in the machine's table: led1) is lit."""

    def set_button(self, prop: str, pressed: bool) -> None:
        """Press (True) or release a push-button; prop is its machine property
        (button-user). Engines without buttons say so."""
        raise BoardError(f"the {type(self).__name__} engine cannot press buttons")

    def button(self, prop: str) -> bool:
        """True while the push-button (its machine property, button-user) is pressed."""
        raise BoardError(f"the {type(self).__name__} engine has no buttons")

    def screenshot(self, path: Path) -> None:
        """Save the board's display as a PNG file at path."""
        raise BoardError(f"the {type(self).__name__} engine cannot take screenshots")

    def save_state(self, path: Path) -> None:
        """Pause the board and save the whole machine (CPU, memories, every device) to
        path, for BoardConfig.restore."""
        raise BoardError(f"the {type(self).__name__} engine cannot save the machine state")

    @abc.abstractmethod
    def hostfwds(self) -> list:
        """The PC -> board forwards, with the host ports actually used."""

    @abc.abstractmethod
    def logs(self) -> dict:
        """Log name -> path: "console", "stderr", and "guest_errors" when enabled."""

    @property
    @abc.abstractmethod
    def pid(self) -> int | None: ...

    def exit_report(self) -> str:
        """How the emulator ended, with its last error lines (after it exited)."""
        return ""

    def describe(self) -> list:
        """More (label, value) lines for the launcher's start-up text."""
        return []
