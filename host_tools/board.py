"""Start the emulated STM324xG-EVAL board with a firmware ELF, and control it.

This module is the one place that knows how to start an emulator. The API is
engine-neutral: :class:`Board` is a facade over an :class:`Engine`; QEMU
(:class:`QemuEngine`) is the engine today, Renode can be added behind the same API.

Example::

    from host_tools.board import Board
    import serial

    with Board("tests/baremetal/build/hello.elf", hostfwd=["8080:80"]) as board:
        console = serial.serial_for_url(board.uart("console"), timeout=1)
        print(console.readline())
        print(board.leds(), board.forwarded_port(80))
        board.link_down()

Network (hard rule of the project): the board sits on QEMU user-mode networking with
``restrict=on`` (192.168.0.0/24, PC 192.168.0.1 (the --guestfwd ports), QEMU's own
address 192.168.0.2, board 192.168.0.10), so it can
reach nothing but the forwards given here, and every forward's host side is a loopback
address. There is no option to lift the restriction.

As a script::

    python host_tools/board.py --firmware FW.elf [--pty] [--hostfwd 8080:80] \\
        [--guestfwd 443:4433] [--pcap net.pcap] [--deterministic]
"""

from __future__ import annotations

import abc
import argparse
import ipaddress
import json
import logging
import os
import selectors
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    # Run as "python host_tools/board.py": make "import host_tools" work like "-m".
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

__all__ = [
    "BOARD_IP", "BOARD_MAC", "HOST_IP", "NETWORK", "LEDS", "UARTS",
    "Board", "BoardConfig", "BoardError", "Engine", "GuestForward", "HostForward",
    "QemuEngine", "check_firmware", "find_qemu", "main",
    "CONFIG_ADDR", "CONFIG_SIZE", "CONFIG_KEYS", "make_config_blob", "elf_with_config",
]

log = logging.getLogger("board")

TOP = Path(__file__).resolve().parent.parent
DEFAULT_FIRMWARE = TOP / "firmware" / "build-stm324xg-eval" / "firmware.elf"
DEFAULT_MACHINE = "stm324xg-eval"

# The emulated LAN (see ARCHITECTURE.md "Network safety").
NETWORK = "192.168.0.0/24"
HOST_IP = "192.168.0.1"       # the PC as the board sees it: where --guestfwd ports live
# slirp's own address (its gateway, and the source of --hostfwd connections). It cannot be
# HOST_IP: slirp refuses a guestfwd on its own address ("Conflicting/invalid host:port").
SLIRP_HOST_IP = "192.168.0.2"
BOARD_IP = "192.168.0.10"     # the firmware's static address (also the DHCP lease)
BOARD_MAC = "00:00:00:00:00:02"
NETDEV_ID = "net0"

# Board LEDs: name -> (colour, pin), active high.
LEDS = {
    "led1": ("green", "PG6"),
    "led2": ("orange", "PG8"),
    "led3": ("red", "PI9"),
    "led4": ("blue", "PC7"),
}

# QEMU attaches -serial options in this order; "console" is USART3 (CN16).
UARTS = ("usart3", "usart1", "usart2", "usart6")
UART_ALIASES = {"console": "usart3"}

ELF_MACHINE_ARM = 40

# The config flash sector (firmware/apps/boardcfg.py): the last 128 KiB sector of the
# STM32F417's flash, kept free of code by the firmware's linker scripts. It holds key=value
# lines and PEM blocks; the rest of the sector is erased flash (0xFF).
CONFIG_ADDR = 0x080E0000
CONFIG_SIZE = 128 * 1024
CONFIG_KEYS = ("role", "dhcp", "ip", "netmask", "gateway", "mac", "server_ip", "server_port",
               "server_name", "path", "period", "port", "client_auth", "deadline", "sessions",
               "max_reply", "resume", "tls_min", "tls_max", "ciphers", "blink_ms",
               "dhcp_timeout", "time", "ca", "cert", "key")
CONFIG_PEM_KEYS = ("ca", "cert", "key")


class BoardError(RuntimeError):
    """The board could not be started or controlled.

    The message is one line that names the problem and, where there is one, the fix.
    ``returncode`` and ``stderr`` are set when the emulator process exited.
    """

    def __init__(self, message: str, returncode: int | None = None, stderr: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


# --- configuration -------------------------------------------------------------------

def _loopback(addr: str, what: str) -> str:
    """Return addr if it is an IPv4 loopback address, else refuse it."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise BoardError(f"{what} host address '{addr}' is not an IP address; "
                         f"forwards may only use loopback, e.g. 127.0.0.1") from None
    if ip.version != 4 or not ip.is_loopback:
        raise BoardError(f"{what} host address '{addr}' is not loopback; forwards may only "
                         f"use 127.0.0.0/8 (network safety rule), e.g. 127.0.0.1")
    return str(ip)


def _port(text, what: str, allow_zero: bool = False) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise BoardError(f"{what} '{text}' is not a port number") from None
    if not (0 if allow_zero else 1) <= port <= 65535:
        raise BoardError(f"{what} {port} is out of range (1..65535"
                         f"{', or 0 for a free one' if allow_zero else ''})")
    return port


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
        parts = str(spec).split(":")
        if len(parts) == 2:
            return cls(_port(parts[0], "hostfwd host port", True),
                       _port(parts[1], "hostfwd guest port"))
        if len(parts) == 3:
            return cls(_port(parts[1], "hostfwd host port", True),
                       _port(parts[2], "hostfwd guest port"), _loopback(parts[0], "hostfwd"))
        raise BoardError(f"hostfwd '{spec}' is not HOSTPORT:GUESTPORT, e.g. 8080:80")


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
        parts = str(spec).split(":")
        if len(parts) == 2:
            return cls(_port(parts[0], "guestfwd guest port"),
                       _port(parts[1], "guestfwd host port"))
        if len(parts) == 3:
            return cls(_port(parts[0], "guestfwd guest port"),
                       _port(parts[2], "guestfwd host port"), _loopback(parts[1], "guestfwd"))
        raise BoardError(f"guestfwd '{spec}' is not GUESTPORT:HOSTPORT, e.g. 443:4433")


@dataclass
class BoardConfig:
    """Everything an engine needs to start the board. Ports of 0 are picked at start."""

    firmware: Path
    machine: str = DEFAULT_MACHINE
    console_port: int = 0
    pty: bool = False
    extra_uarts: tuple = ()          # more UARTs to expose, e.g. ("usart1",)
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

    def __post_init__(self):
        self.firmware = Path(self.firmware)
        # What goes into the config sector (None: nothing is loaded there)
        self.config_sector = None
        if self.config_blob is not None or self.config is not None:
            self.config_sector = make_config_blob(self.config, text=self.config_blob or b"")
        self.hostfwd = [HostForward.parse(f) for f in self.hostfwd]
        self.guestfwd = [GuestForward.parse(f) for f in self.guestfwd]
        self.console_port = _port(self.console_port, "console port", allow_zero=True)
        for opt in ("qmp_path", "pcap", "guest_errors", "log_dir"):
            if getattr(self, opt) is not None:
                setattr(self, opt, Path(getattr(self, opt)))
        self.extra_uarts = tuple(_uart_slot(u) for u in self.extra_uarts)
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


def _uart_slot(name: str) -> str:
    key = str(name).lower()
    key = UART_ALIASES.get(key, key)
    if key not in UARTS:
        raise BoardError(f"no UART '{name}' on this board; use one of console, "
                         + ", ".join(UARTS))
    return key


def make_config_blob(config: dict | None = None, *, text=b"") -> bytes:
    """The config sector's blob: text (bytes/str: key=value lines and PEM blocks, as
    written by hand) followed by one line per config item (later lines win on the board).
    Values: True/False -> on/off, a PEM text (or a Path to a PEM file) for ca/cert/key."""
    blob = text.encode() if isinstance(text, str) else bytes(text)
    lines = []
    for key, value in (config or {}).items():
        if key not in CONFIG_KEYS:
            raise BoardError(f"unknown config key '{key}'; use one of {', '.join(CONFIG_KEYS)}")
        if value is None:
            continue
        if isinstance(value, Path):
            try:
                value = value.read_text()
            except (OSError, UnicodeError) as e:
                raise BoardError(f"config {key}: cannot read '{value}' ({e}); pass a PEM "
                                 f"file") from None
        if key in CONFIG_PEM_KEYS:
            value = str(value)
            if value and "-----BEGIN " not in value:
                raise BoardError(f"config {key} is not PEM text (no '-----BEGIN' line); pass "
                                 f"the PEM file's contents or its Path")
            lines.append(f"{key}=")
            lines.extend(line.strip() for line in value.strip().splitlines())
        elif isinstance(value, bool):
            lines.append(f"{key}={'on' if value else 'off'}")
        else:
            value = str(value)
            if "\n" in value or "\r" in value:
                raise BoardError(f"config {key}={value!r} spans lines; give one line")
            lines.append(f"{key}={value}")
    if lines:
        if blob and not blob.endswith(b"\n"):
            blob += b"\n"
        blob += ("\n".join(lines) + "\n").encode()
    if b"\x00" in blob or b"\xff" in blob:
        raise BoardError("config blob holds a 0x00 or 0xFF byte, which ends it on the board; "
                         "write it as UTF-8 text")
    try:
        blob.decode()
    except UnicodeError:
        raise BoardError("config blob is not UTF-8 text; write key=value lines and PEM "
                         "blocks") from None
    if len(blob) >= CONFIG_SIZE:
        raise BoardError(f"config blob is {len(blob)} bytes; the sector holds "
                         f"{CONFIG_SIZE - 1} at most")
    return blob


def elf_with_config(elf: bytes, blob: bytes) -> bytes:
    """A copy of a 32-bit ARM ELF with one more loadable segment: the config sector
    (blob, then 0xFF up to CONFIG_SIZE) at CONFIG_ADDR. (Our QEMU is built without the
    generic loader device, so the sector travels with the -kernel ELF.)"""
    phoff = int.from_bytes(elf[28:32], "little")
    phentsize = int.from_bytes(elf[42:44], "little")
    phnum = int.from_bytes(elf[44:46], "little")
    if phentsize != 32 or phoff + phnum * 32 > len(elf):
        raise BoardError("firmware ELF has no usable program headers; rebuild it")
    headers = elf[phoff:phoff + phnum * 32]
    for i in range(phnum):
        ph = headers[i * 32:(i + 1) * 32]
        p_type, paddr, filesz = (int.from_bytes(ph[o:o + 4], "little") for o in (0, 12, 16))
        if p_type == 1 and filesz and paddr < CONFIG_ADDR + CONFIG_SIZE \
                and paddr + filesz > CONFIG_ADDR:
            raise BoardError(f"firmware loads data into the config sector at "
                             f"0x{CONFIG_ADDR:08x}; rebuild it with the lab's linker scripts "
                             f"(firmware/mcu/*.ld)")
    sector = blob + b"\xff" * (CONFIG_SIZE - len(blob))
    out = bytearray(elf)
    out += b"\0" * (-len(out) % 4)
    data_off = len(out)
    out += sector
    new_phoff = len(out)
    ph = [1, data_off, CONFIG_ADDR, CONFIG_ADDR, CONFIG_SIZE, CONFIG_SIZE, 4, 4]  # PT_LOAD, R
    out += headers + b"".join(v.to_bytes(4, "little") for v in ph)
    out[28:32] = new_phoff.to_bytes(4, "little")
    out[44:46] = (phnum + 1).to_bytes(2, "little")
    return bytes(out)


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


def find_qemu(explicit: str | None = None) -> Path:
    """The lab's qemu-system-arm: explicit path, else $STM32LAB_QEMU, else the build cache."""
    path = explicit or os.environ.get("STM32LAB_QEMU")
    if not path:
        script = TOP / "scripts" / "build-qemu.sh"
        try:
            path = subprocess.run(["bash", str(script), "--print"], check=True, text=True,
                                  capture_output=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            raise BoardError(f"cannot ask {script} where QEMU is; run 'make qemu' "
                             f"or pass --qemu PATH") from None
    path = Path(path)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise BoardError(f"QEMU not built at {path}; run 'make qemu' (or set STM32LAB_QEMU "
                         f"or --qemu to a qemu-system-arm)")
    return path


def _port_busy(port: int) -> bool:
    """True if a TCP listener cannot be bound on 127.0.0.1:port (as QEMU would bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # QEMU and slirp set SO_REUSEADDR, so a port in TIME_WAIT is not busy for them.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _free_port(taken: set) -> int:
    """A port nobody listens on now. QEMU binds it a moment later: a small race."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


# --- engines -----------------------------------------------------------------------

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
        """UART name -> pyserial URL (``socket://127.0.0.1:PORT``) or pty path."""

    @abc.abstractmethod
    def uart_connected(self, name: str) -> bool:
        """True while a client is attached to the UART (sockets; ptys always True)."""

    @abc.abstractmethod
    def set_link(self, up: bool) -> None: ...

    @abc.abstractmethod
    def link_is_up(self) -> bool: ...

    @abc.abstractmethod
    def led(self, name: str) -> bool: ...

    @abc.abstractmethod
    def hostfwds(self) -> list:
        """The PC -> board forwards, with the host ports actually used."""

    @abc.abstractmethod
    def logs(self) -> dict:
        """Log name -> path: "console", "stderr", and "guest_errors" when enabled."""

    @property
    @abc.abstractmethod
    def pid(self) -> int | None: ...


def _reap(proc: subprocess.Popen, tmpdir: str | None) -> None:
    """Last-resort cleanup when a QemuEngine is dropped or the interpreter exits."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the launching process dies (Linux)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort only, never fail the exec
        pass


class _Qmp:
    """A minimal QMP client over a unix socket (thread-safe, one command at a time)."""

    def __init__(self, path: Path, proc: subprocess.Popen, timeout: float):
        self.events = []
        self._buf = b""
        self._lock = threading.Lock()
        self.timeout = timeout
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if proc.poll() is not None:
                    raise EOFError("QEMU exited before its QMP socket came up") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no QMP socket at {path} after {timeout:.0f} s") from None
                time.sleep(0.02)
        self._sock = sock
        self._read()  # greeting
        self.command("qmp_capabilities")

    def _read(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("QEMU did not answer on QMP")
            self._sock.settimeout(left)
            chunk = self._sock.recv(65536)
            if not chunk:
                raise EOFError("QEMU closed the QMP connection")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, command: str, /, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        with self._lock:
            self._sock.sendall(json.dumps(msg).encode() + b"\n")
            while True:
                reply = self._read()
                if "event" in reply:
                    self.events.append(reply)
                    continue
                if "error" in reply:
                    raise BoardError(f"QMP {command} failed: {reply['error'].get('desc')}")
                return reply.get("return")

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass


class _UartHub:
    """One emulated UART shared by any number of clients, with a complete log.

    QEMU connects out to a unix socket this hub listens on (so nothing QEMU sends is ever
    dropped for want of a client), every byte from the board goes to the log and to every
    client attached on 127.0.0.1:port, and whatever a client sends goes to the board.
    """

    def __init__(self, name: str, unix_path: Path, port: int, log_path: Path):
        self.name, self.unix_path, self.port = name, unix_path, port
        self._log = open(log_path, "ab", buffering=0)
        self._board: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._unix.bind(str(unix_path))
        self._unix.listen(1)
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._tcp.bind(("127.0.0.1", port))
        except OSError:
            self.close()
            raise BoardError(f"{name} port {port} on 127.0.0.1 is busy; pick another "
                             f"with --console-port N (0 = a free one)") from None
        self._tcp.listen(4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"uart-{name}", daemon=True)
        self._thread.start()

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def _drop(self, sel, sock) -> None:
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()
        with self._lock:
            if sock in self._clients:
                self._clients.remove(sock)

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._unix, selectors.EVENT_READ, "board-listen")
        sel.register(self._tcp, selectors.EVENT_READ, "client-listen")
        while not self._stop.is_set():
            try:
                events = sel.select(timeout=0.2)
            except (OSError, ValueError):
                break                                   # sockets closed under us: stopping
            for key, _ in events:
                sock, what = key.fileobj, key.data
                try:
                    if what == "board-listen":
                        self._board, _ = sock.accept()
                        sel.register(self._board, selectors.EVENT_READ, "board")
                    elif what == "client-listen":
                        client, _ = sock.accept()
                        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        # A client that stops reading must not stall the board: a send
                        # that cannot finish in this time drops that client.
                        client.settimeout(2.0)
                        sel.register(client, selectors.EVENT_READ, "client")
                        with self._lock:
                            self._clients.append(client)
                    elif what == "board":
                        data = sock.recv(65536)
                        if not data:
                            sel.unregister(sock)
                            continue
                        self._log.write(data)
                        with self._lock:
                            clients = list(self._clients)
                        for client in clients:
                            try:
                                client.sendall(data)
                            except OSError:
                                self._drop(sel, client)
                    else:
                        data = sock.recv(65536)
                        if not data:
                            self._drop(sel, sock)
                        elif self._board is not None:
                            self._board.sendall(data)
                except (OSError, ValueError):
                    if self._stop.is_set():
                        break
                    if what == "client":
                        self._drop(sel, sock)
        sel.close()

    def close(self) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()
            self._thread.join(2)
        for sock in [self._unix, self._tcp, self._board, *self._clients]:
            if sock is not None:
                sock.close()
        self._clients = []
        self._log.close()


class QemuEngine(Engine):
    """The board in the lab's qemu-system-arm (``-M stm324xg-eval``)."""

    name = "qemu"

    def __init__(self, config: BoardConfig):
        super().__init__(config)
        self.proc: subprocess.Popen | None = None
        self.command: list[str] = []
        self.qemu: Path | None = None
        self._qmp: _Qmp | None = None
        self._tmp: str | None = None
        self._stderr_file = None
        self._finalizer = None
        self._uart_ports: dict[str, int] = {}
        self._uart_paths: dict[str, str] = {}
        self._hubs: dict[str, _UartHub] = {}
        self._hostfwds: list[HostForward] = []
        self._link_up = True
        self._logs: dict[str, Path] = {}
        self.qmp_path: Path | None = None

    # -- preparation ------------------------------------------------------------------

    def check(self) -> None:
        """Everything that can be checked without starting QEMU, as one-line errors."""
        cfg = self.config
        cfg.firmware = check_firmware(cfg.firmware)
        self.qemu = find_qemu(cfg.emulator)
        for arg in cfg.extra_args:
            low = str(arg).lower()
            if low.lstrip("-") in ("net", "nic", "netdev") or "fwd" in low or "restrict" in low:
                raise BoardError(f"extra argument '{arg}' touches networking; the launcher "
                                 f"alone sets up the restricted network")
        taken: set[int] = set()
        if not cfg.pty and cfg.console_port:
            if _port_busy(cfg.console_port):
                raise BoardError(f"console port {cfg.console_port} on 127.0.0.1 is busy; "
                                 f"pick another with --console-port N (0 = a free one)")
            taken.add(cfg.console_port)
        for fwd in cfg.hostfwd:
            if fwd.host_port in taken:
                raise BoardError(f"hostfwd host port {fwd.host_port} is used twice; "
                                 f"give each forward its own port")
            if fwd.host_port and _port_busy(fwd.host_port):
                raise BoardError(f"hostfwd port {fwd.host_port} on 127.0.0.1 is busy; pick "
                                 f"another with --hostfwd PORT:{fwd.guest_port} (0 = a free one)")
            if fwd.host_port:
                taken.add(fwd.host_port)
        if cfg.pcap is not None and not cfg.pcap.resolve().parent.is_dir():
            raise BoardError(f"pcap directory '{cfg.pcap.parent}' does not exist; create it "
                             f"or pass another --pcap FILE")
        if cfg.guest_errors is not None and not cfg.guest_errors.resolve().parent.is_dir():
            raise BoardError(f"guest-errors directory '{cfg.guest_errors.parent}' does not "
                             f"exist; create it or pass another --guest-errors FILE")
        self._taken = taken

    def _prepare(self) -> None:
        """Resolve ports and paths, then build the command line."""
        cfg = self.config
        self._tmp = tempfile.mkdtemp(prefix="stm32lab-board-")
        tmp = Path(self._tmp)
        logdir = cfg.log_dir or tmp
        logdir.mkdir(parents=True, exist_ok=True)
        self._logs = {"console": logdir / "console.log", "stderr": logdir / "qemu-stderr.log",
                      "relay": logdir / "guestfwd-relay.log"}
        if cfg.guest_errors is not None:
            self._logs["guest_errors"] = cfg.guest_errors.resolve()
        self.qmp_path = (cfg.qmp_path or tmp / "qmp.sock").resolve()
        if len(str(self.qmp_path).encode()) > 100:
            raise BoardError(f"QMP socket path '{self.qmp_path}' is too long for a unix "
                             f"socket; pass a shorter --qmp PATH")
        taken = set(self._taken)
        self._uart_ports = {}
        if not cfg.pty:
            for uart in ("usart3",) + tuple(u for u in cfg.extra_uarts if u != "usart3"):
                port = cfg.console_port if uart == "usart3" else 0
                self._uart_ports[uart] = port or _free_port(taken)
        self._hostfwds = [f if f.host_port else HostForward(_free_port(taken), f.guest_port,
                                                            f.host_addr)
                          for f in cfg.hostfwd]
        self._kernel = cfg.firmware
        if cfg.config_sector is not None:
            self._kernel = tmp / f"{cfg.firmware.stem}+config.elf"
            self._kernel.write_bytes(elf_with_config(cfg.firmware.read_bytes(),
                                                     cfg.config_sector))
            (logdir / "config-sector.txt").write_bytes(cfg.config_sector)
        self.command = self.build_command()

    def _chardev(self, uart: str) -> str:
        cid = "console" if uart == "usart3" else uart
        logfile = self._logs["console"] if uart == "usart3" \
            else self._logs["console"].with_name(f"{uart}.log")
        if uart != "usart3":
            self._logs[uart] = logfile
        if self.config.pty:
            return f"pty,id={cid},logfile={_qemu_opt(logfile)},logappend=on"
        # QEMU connects to the launcher's hub (see _UartHub), which logs and fans out
        return f"socket,id={cid},path={_qemu_opt(self._hub_path(uart))}"

    def _hub_path(self, uart: str) -> Path:
        return Path(self._tmp) / f"{uart}.sock"

    def _start_hubs(self) -> None:
        for uart, port in self._uart_ports.items():
            self._hubs[uart] = _UartHub("console" if uart == "usart3" else uart,
                                        self._hub_path(uart), port,
                                        self._logs["console" if uart == "usart3" else uart])

    def _nic(self) -> str:
        cfg = self.config
        net = ipaddress.ip_network(NETWORK)
        opts = [f"user,id={NETDEV_ID}", "restrict=on", "ipv6=off", f"net={net}",
                f"host={SLIRP_HOST_IP}", f"dhcpstart={cfg.board_ip}", f"mac={cfg.mac}"]
        for f in self._hostfwds:
            opts.append(f"hostfwd=tcp:{f.host_addr}:{f.host_port}-{cfg.board_ip}:{f.guest_port}")
        for f in cfg.guestfwd:
            opts.append(f"guestfwd=tcp:{HOST_IP}:{f.guest_port}-{self._guestfwd_target(f)}")
        return ",".join(opts)

    def _guestfwd_target(self, fwd: GuestForward) -> str:
        # A "cmd:" target runs one relay per board connection, so the PC server sees each
        # connection open and close like a real client's. (A "tcp:" chardev target would be
        # a single connection opened when QEMU starts, shared by every board connection.)
        relay = [sys.executable, str(Path(__file__).resolve()), "--relay",
                 f"{fwd.host_addr}:{fwd.host_port}", "--relay-log", str(self._logs["relay"])]
        return "cmd:" + _qemu_opt(" ".join(shlex.quote(a) for a in relay))

    def build_command(self) -> list[str]:
        cfg = self.config
        kernel = getattr(self, "_kernel", cfg.firmware)
        cmd = [str(self.qemu), "-M", cfg.machine, "-kernel", str(kernel),
               "-display", "none", "-monitor", "none", "-nodefaults",
               "-qmp", f"unix:{_qemu_opt(self.qmp_path)},server=on,wait=off"]
        slots = ["usart3"] + list(cfg.extra_uarts)
        last = max(UARTS.index(u) for u in slots)
        for uart in UARTS[:last + 1]:
            if uart in slots:
                cid = "console" if uart == "usart3" else uart
                cmd += ["-chardev", self._chardev(uart), "-serial", f"chardev:{cid}"]
            else:
                cmd += ["-serial", "null"]
        cmd += ["-nic", self._nic()]
        if cfg.pcap is not None:
            cmd += ["-object", f"filter-dump,id=dump0,netdev={NETDEV_ID},"
                               f"file={_qemu_opt(cfg.pcap.resolve())}"]
        if cfg.deterministic:
            cmd += ["-icount", f"shift={cfg.icount_shift},align=off,sleep=off",
                    "-global", f"stm32f4xx-rng.seed={int(cfg.seed)}",
                    "-seed", str(int(cfg.seed) & 0x7FFFFFFF or 1)]
        if cfg.guest_errors is not None:
            cmd += ["-d", "guest_errors,unimp", "-D", str(cfg.guest_errors.resolve())]
        cmd += [str(a) for a in cfg.extra_args]
        return cmd

    # -- life cycle ---------------------------------------------------------------------

    def start(self, paused: bool = False) -> None:
        if self.proc is not None:
            raise BoardError("the board is already started; stop() it first")
        self.check()
        try:
            self._prepare()
        except BaseException:
            self._cleanup()
            raise
        cmd = self.command + (["-S"] if paused else [])
        try:
            self._start_hubs()
        except BaseException:
            self._cleanup()
            raise
        log.info("starting: %s", shlex.join(cmd))
        self._stderr_file = open(self._logs["stderr"], "wb")
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=self._stderr_file,
                stderr=self._stderr_file, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        except OSError as e:
            self._cleanup()
            raise BoardError(f"cannot run {self.qemu}: {e.strerror}; run 'make qemu'") from None
        self._finalizer = weakref.finalize(self, _reap, self.proc, self._tmp)
        try:
            self._qmp = _Qmp(self.qmp_path, self.proc, self.config.start_timeout)
            if self.config.pty:
                self._uart_paths = self._query_ptys()
            self._link_up = True
        except BoardError:
            self.stop()
            raise
        except (OSError, EOFError, TimeoutError, ValueError) as e:
            err = self._exit_error("during start", str(e))
            self.stop()
            raise err from None
        log.info("QEMU pid %d is up; QMP %s", self.proc.pid, self.qmp_path)

    def _query_ptys(self) -> dict:
        paths = {}
        for dev in self._qmp.command("query-chardev"):
            filename = dev.get("filename", "")
            if filename.startswith("pty:"):
                label = dev["label"]
                paths["usart3" if label == "console" else label] = filename[4:]
        if "usart3" not in paths:
            raise BoardError("QEMU did not report the console pty (query-chardev)")
        return paths

    def _stderr_tail(self, lines: int = 6) -> str:
        if self._stderr_file is not None:
            self._stderr_file.flush()
        try:
            text = self._logs["stderr"].read_text(errors="replace")
        except (OSError, KeyError):
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def _exit_error(self, when: str, detail: str = "") -> BoardError:
        """A BoardError saying how QEMU ended (or that it hangs) with its last stderr."""
        rc = None
        if self.proc is not None:
            try:
                rc = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                rc = None
        tail = self._stderr_tail()
        when = f" {when}" if when else ""
        if rc is None:
            what = f"QEMU is not responding{when}" + (f" ({detail})" if detail else "")
        else:
            what = f"QEMU exited with status {_status(rc)}{when}"
        if tail:
            what += ": " + " | ".join(tail.splitlines())
        return BoardError(what, returncode=rc, stderr=tail)

    def _control(self, command: str, /, **arguments):
        """A QMP command; a dead or hung QEMU becomes a BoardError with its exit status."""
        if self.proc is None or self._qmp is None:
            raise BoardError("the board is not started; call start() first")
        if self.proc.poll() is not None:
            raise self._exit_error("unexpectedly")
        try:
            return self._qmp.command(command, **arguments)
        except (OSError, EOFError, TimeoutError) as e:
            raise self._exit_error("unexpectedly", str(e)) from None

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            self._cleanup()
            return None
        if self.proc.poll() is None and self._qmp is not None:
            try:
                self._qmp.command("quit")
            except (OSError, EOFError, TimeoutError, BoardError):
                pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("QEMU pid %d ignored 'quit'; terminating it", self.proc.pid)
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self._cleanup()
        return rc

    def _cleanup(self) -> None:
        for hub in self._hubs.values():
            hub.close()
        self._hubs = {}
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        if self._finalizer is not None:
            self._finalizer()  # process already gone: only removes the temp dir
            self._finalizer = None
        elif self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for_exit(self, timeout: float | None = None) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def exit_report(self) -> str:
        """How QEMU ended, with its last stderr lines (for a process that has exited)."""
        return str(self._exit_error(""))

    # -- control ------------------------------------------------------------------------

    def resume(self) -> None:
        self._control("cont")

    def pause(self) -> None:
        self._control("stop")

    def reset(self) -> None:
        self._control("system_reset")

    def status(self) -> str:
        return self._control("query-status")["status"]

    def qmp(self, command: str, /, **arguments):
        """Send any QMP command (QEMU-specific escape hatch)."""
        return self._control(command, **arguments)

    def uarts(self) -> dict:
        if self.config.pty:
            out = dict(self._uart_paths)
        else:
            out = {u: f"socket://127.0.0.1:{p}" for u, p in self._uart_ports.items()}
        if "usart3" in out:
            out = {"console": out.pop("usart3"), **out}
        return out

    def uart_connected(self, name: str) -> bool:
        slot = _uart_slot(name)
        if slot in self._hubs:
            return self._hubs[slot].clients > 0
        label = "console" if slot == "usart3" else slot
        for dev in self._control("query-chardev"):
            if dev.get("label") == label:
                return not dev.get("filename", "").startswith("disconnected")
        raise BoardError(f"UART '{name}' is not connected to anything; "
                         f"add it to extra_uarts")

    def set_link(self, up: bool) -> None:
        self._control("set_link", name=NETDEV_ID, up=bool(up))
        self._link_up = bool(up)

    def link_is_up(self) -> bool:
        # QMP has no query for a NIC's link state; it is whatever set_link last made it.
        return self._link_up

    def led(self, name: str) -> bool:
        return bool(self._control("qom-get", path="/machine", property=name))

    def hostfwds(self) -> list:
        return list(self._hostfwds)

    def logs(self) -> dict:
        return dict(self._logs)


def _qemu_opt(value) -> str:
    """Escape a value for a QEMU key=value option list (a comma is written twice)."""
    return str(value).replace(",", ",,")


def _status(rc: int) -> str:
    if rc is not None and rc < 0:
        try:
            return f"{rc} (killed by {signal.Signals(-rc).name})"
        except ValueError:
            return str(rc)
    return str(rc)


ENGINES = {"qemu": QemuEngine}


# --- the facade ----------------------------------------------------------------------

class Board:
    """The emulated STM324xG-EVAL, whatever engine runs it.

    ``Board(firmware, engine="qemu", **options)``; options are the fields of
    :class:`BoardConfig` (``console_port``, ``pty``, ``hostfwd``, ``guestfwd``, ``pcap``,
    ``deterministic``, ``seed``, ``guest_errors``, ``log_dir``, ``emulator``, ...).
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, firmware=DEFAULT_FIRMWARE, engine: str = "qemu", **options):
        if engine not in ENGINES:
            raise BoardError(f"unknown engine '{engine}'; use one of {', '.join(ENGINES)}")
        self.config = BoardConfig(firmware=firmware, **options)
        self.engine: Engine = ENGINES[engine](self.config)

    # life cycle
    def start(self, paused: bool = False) -> "Board":
        """Start the board. With paused=True the CPU holds until :meth:`resume`, so a
        UART client can attach before the firmware prints its banner."""
        self.engine.start(paused=paused)
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the emulator (politely, then by force) and remove temp files."""
        return self.engine.stop(timeout)

    def __enter__(self) -> "Board":
        if not self.is_running():
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def is_running(self) -> bool:
        return self.engine.is_running()

    def wait_for_exit(self, timeout: float | None = None) -> int | None:
        return self.engine.wait_for_exit(timeout)

    def resume(self) -> None:
        self.engine.resume()

    def pause(self) -> None:
        self.engine.pause()

    def reset(self) -> None:
        self.engine.reset()

    @property
    def pid(self) -> int | None:
        return self.engine.pid

    # UARTs
    def uart(self, name: str = "console") -> str:
        """A pyserial URL for the UART (``socket://127.0.0.1:PORT``) or its pty path."""
        slot = _uart_slot(name)
        key = "console" if slot == "usart3" else slot
        urls = self.engine.uarts()
        if key not in urls:
            raise BoardError(f"UART '{name}' is not exposed; pass extra_uarts=('{slot}',)")
        return urls[key]

    def uarts(self) -> dict:
        return self.engine.uarts()

    def uart_connected(self, name: str = "console") -> bool:
        return self.engine.uart_connected(name)

    def wait_uart_connected(self, name: str = "console", timeout: float = 60.0) -> bool:
        """Wait until a client attaches to the UART; False on timeout."""
        deadline = time.monotonic() + timeout
        while not self.engine.uart_connected(name):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # network
    def link_up(self) -> None:
        """Plug the Ethernet cable back in."""
        self.engine.set_link(True)

    def link_down(self) -> None:
        """Pull the Ethernet cable out."""
        self.engine.set_link(False)

    def set_link(self, up: bool) -> None:
        self.engine.set_link(up)

    def link_is_up(self) -> bool:
        return self.engine.link_is_up()

    def hostfwds(self) -> list:
        """PC -> board forwards with the host ports in use."""
        return self.engine.hostfwds()

    def forwarded_port(self, guest_port: int) -> int:
        """The 127.0.0.1 port that reaches the board's guest_port."""
        for fwd in self.engine.hostfwds():
            if fwd.guest_port == guest_port:
                return fwd.host_port
        raise BoardError(f"board port {guest_port} is not forwarded; "
                         f"add hostfwd=['0:{guest_port}']")

    def guestfwds(self) -> list:
        """Board -> PC forwards (the board connects to HOST_IP:guest_port)."""
        return list(self.config.guestfwd)

    # LEDs
    def led(self, name: str) -> bool:
        """True when the LED is lit; name is led1..led4 or its colour (blue = led4)."""
        return self.engine.led(_led_name(name))

    def leds(self) -> dict:
        return {name: self.engine.led(name) for name in LEDS}

    # logs
    def logs(self) -> dict:
        """Log paths: "console" (what the console UART sent), "stderr" (the emulator's),
        "guest_errors" when enabled. In a temp dir removed at stop unless log_dir was
        given. The console log is complete whether or not a client is attached."""
        return self.engine.logs()

    @property
    def console_log(self) -> Path:
        return self.engine.logs()["console"]

    @property
    def stderr_log(self) -> Path:
        return self.engine.logs()["stderr"]

    def console_text(self) -> str:
        try:
            return self.console_log.read_text(errors="replace")
        except (OSError, KeyError):
            return ""


def _led_name(name: str) -> str:
    key = str(name).lower()
    if key in LEDS:
        return key
    for led, (colour, pin) in LEDS.items():
        if key in (colour, pin.lower()):
            return led
    raise BoardError(f"no LED '{name}' on this board; use one of {', '.join(LEDS)}")


# --- the guestfwd relay ----------------------------------------------------------------

def _is_socket(fd: int) -> bool:
    return stat.S_ISSOCK(os.fstat(fd).st_mode)


def relay(target: str, log_path: str | None = None) -> int:
    """Copy stdin/stdout (a board connection handed over by slirp) to a loopback TCP port.

    slirp gives this process the board's connection as fds 0, 1 and 2, one socket: so our
    own messages go to log_path (or nowhere), never into the board's TCP stream, and the
    end of the PC's data is passed on by half-closing that socket (closing fd 1 alone would
    leave it open through fds 0 and 2)."""
    if log_path or _is_socket(2):
        fd = os.open(log_path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    host, _, port = target.rpartition(":")
    try:
        addr = (_loopback(host, "guestfwd"), _port(port, "guestfwd host port"))
        peer = socket.create_connection(addr, timeout=10)
    except (BoardError, OSError) as e:
        print(f"board relay: cannot reach {target}: {e}", file=sys.stderr)
        return 1
    peer.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "board")
    sel.register(peer, selectors.EVENT_READ, "pc")
    open_sides = 2
    while open_sides:
        for key, _ in sel.select():
            if key.data == "board":
                data = os.read(0, 65536)
                if data:
                    peer.sendall(data)
                    continue
                peer.shutdown(socket.SHUT_WR)
            else:
                data = peer.recv(65536)
                if data:
                    _write_all(1, data)
                    continue
                if _is_socket(1):
                    with socket.socket(fileno=os.dup(1)) as board:
                        board.shutdown(socket.SHUT_WR)
                else:
                    os.close(1)
            sel.unregister(key.fileobj)
            open_sides -= 1
    peer.close()
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# --- command line --------------------------------------------------------------------

class _Stop(Exception):
    """SIGTERM/SIGHUP in the foreground: stop like Ctrl-C."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="board",
        description="Start the emulated STM324xG-EVAL board (STM32F417IG) with a firmware "
                    "ELF, print how to attach to it, and run until Ctrl-C or until the "
                    "emulator exits.",
        epilog="Network: QEMU user-mode networking with restrict=on, net "
               f"{NETWORK}, PC {HOST_IP} (the --guestfwd ports), QEMU {SLIRP_HOST_IP}, board {BOARD_IP} (MAC {BOARD_MAC}); the "
               "board reaches only the --guestfwd targets, and forwards use 127.0.0.1 "
               "only. Example: board.py --firmware fw.elf --guestfwd 443:4433 "
               "--hostfwd 8443:443")
    p.add_argument("--relay", metavar="HOST:PORT", help=argparse.SUPPRESS)
    p.add_argument("--relay-log", metavar="FILE", help=argparse.SUPPRESS)

    g = p.add_argument_group("board")
    g.add_argument("--firmware", metavar="PATH", default=None,
                   help="firmware ELF to run (default: $STM32LAB_FIRMWARE or "
                        f"{DEFAULT_FIRMWARE.relative_to(TOP)})")
    g.add_argument("--machine", default=DEFAULT_MACHINE,
                   help="emulated machine (default: %(default)s)")

    g = p.add_argument_group("console (USART3)")
    m = g.add_mutually_exclusive_group()
    m.add_argument("--console-port", type=int, default=0, metavar="N",
                   help="serve the console on 127.0.0.1:N (default 0: a free port)")
    m.add_argument("--pty", action="store_true",
                   help="put the console on a pseudo-terminal (for minicom, screen, pyserial)")
    g.add_argument("--wait-console", action="store_true",
                   help="hold the CPU until a client attaches to the console, so it sees the "
                        "output from the first byte (the console log always has all of it)")
    g.add_argument("--attach", action="store_true",
                   help="show the console here (from the first byte) and send typed lines "
                        "to the board; LED changes are printed as they happen")

    g = p.add_argument_group("control")
    g.add_argument("--qmp", metavar="PATH", type=Path,
                   help="QMP unix socket path (default: in a temp dir)")

    g = p.add_argument_group("network (restricted user-mode, loopback forwards only)")
    g.add_argument("--hostfwd", action="append", default=[], metavar="HOSTPORT:GUESTPORT",
                   help="PC -> board: 127.0.0.1:HOSTPORT reaches the board's GUESTPORT "
                        "(HOSTPORT 0: a free port); repeatable")
    g.add_argument("--guestfwd", action="append", default=[], metavar="GUESTPORT:HOSTPORT",
                   help=f"board -> PC: the board connecting to {HOST_IP}:GUESTPORT reaches "
                        "127.0.0.1:HOSTPORT, e.g. 443:4433; repeatable")
    g.add_argument("--pcap", metavar="FILE", type=Path,
                   help="write the board's Ethernet traffic to FILE (pcap)")

    g = p.add_argument_group(
        f"board configuration (the config flash sector at 0x{CONFIG_ADDR:08x}, read by the "
        "firmware's apps; on a real board: st-flash write FILE 0x080E0000)")
    g.add_argument("--config", metavar="FILE", type=Path,
                   help="load FILE (key=value lines and PEM blocks) into the config sector; "
                        "an empty file (/dev/null) gives an erased sector: the defaults")
    g.add_argument("--role", choices=("client", "server", "repl"),
                   help="what the firmware starts: the SSL client demo (the default), the "
                        "HTTPS server, or the REPL")
    g.add_argument("--ca", metavar="PEM", type=Path,
                   help="trusted CA: the PC server's (client) or the clients' (server)")
    g.add_argument("--cert", metavar="PEM", type=Path, help="the board's certificate")
    g.add_argument("--key", metavar="PEM", type=Path, help="the board's private key")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="one config line, e.g. --set dhcp=on --set period=30; repeatable")
    g.add_argument("--config-out", metavar="FILE", type=Path,
                   help="write the config blob to FILE (for st-flash) and exit")

    g = p.add_argument_group("determinism")
    g.add_argument("--deterministic", action="store_true",
                   help="count instructions instead of real time (-icount) and seed the RNG, "
                        "so a run replays; the slirp network still runs in real time")
    g.add_argument("--seed", type=int, default=1, metavar="N",
                   help="RNG seed for --deterministic (non-zero, default %(default)s)")
    g.add_argument("--icount-shift", type=int, default=7, metavar="N",
                   help="virtual ns per instruction = 2**N for --deterministic "
                        "(default %(default)s)")

    g = p.add_argument_group("emulator and logs")
    g.add_argument("--qemu", metavar="PATH",
                   help="qemu-system-arm to use (default: $STM32LAB_QEMU or the lab build)")
    g.add_argument("--guest-errors", metavar="FILE", type=Path,
                   help="log guest errors and unimplemented device accesses to FILE")
    g.add_argument("--log-dir", metavar="DIR", type=Path,
                   help="keep console.log and qemu-stderr.log in DIR (default: a temp dir "
                        "removed at exit)")

    g = p.add_argument_group("output")
    v = g.add_mutually_exclusive_group()
    v.add_argument("-v", "--verbose", action="count", default=0, help="more messages")
    v.add_argument("-q", "--quiet", action="store_true", help="errors only")
    g.add_argument("--debug", action="store_true", help="show tracebacks (re-raise errors)")
    return p


def _attach_text(board: Board) -> str:
    cfg = board.config
    lines = [f"board: {cfg.machine} running {cfg.firmware.name} (QEMU pid {board.pid})"]
    for name, url in board.uarts().items():
        hint = f"python -m serial.tools.miniterm {url} 115200"
        lines.append(f"  {name + ':':13}{url}    attach: {hint}")
    engine = board.engine
    if isinstance(engine, QemuEngine):
        lines.append(f"  {'qmp:':13}{engine.qmp_path}")
    for f in board.hostfwds():
        lines.append(f"  {'hostfwd:':13}{f.host_addr}:{f.host_port} -> board "
                     f"{cfg.board_ip}:{f.guest_port}")
    for f in board.guestfwds():
        lines.append(f"  {'guestfwd:':13}board -> {HOST_IP}:{f.guest_port} -> "
                     f"{f.host_addr}:{f.host_port}")
    if cfg.pcap:
        lines.append(f"  {'pcap:':13}{cfg.pcap}")
    if cfg.config_sector is not None:
        lines.append(f"  {'config:':13}{len(cfg.config_sector)} bytes at 0x{CONFIG_ADDR:08x}"
                     + (" (erased sector: the firmware's defaults)"
                        if not cfg.config_sector else ""))
    for name, path in board.logs().items():
        lines.append(f"  {name + ' log:':13}{path}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _attach(board: "Board") -> None:
    """Mirror the console on stdout, stdin lines to the console, LED changes as lines,
    until the board stops (the caller handles Ctrl-C)."""
    import serial  # pyserial, a dependency of the package

    port = serial.serial_for_url(board.uart("console"), timeout=0.05)
    board.wait_uart_connected("console")
    board.resume()

    def typed():
        for line in sys.stdin:
            port.write(line.replace("\n", "\r").encode())

    if sys.stdin.isatty():
        threading.Thread(target=typed, daemon=True).start()
    # LEDs are summarised every 2 s, only when the summary changes: a heartbeat LED
    # toggling 5 times a second shows once as "blinking".
    seen, shown, window_end = {}, None, time.monotonic() + 2
    try:
        while board.is_running():
            data = port.read(4096)
            if data:
                sys.stdout.write(data.decode(errors="replace").replace("\r\n", "\n"))
                sys.stdout.flush()
            for name, on in board.leds().items():
                seen.setdefault(name, set()).add(on)
            if time.monotonic() >= window_end:
                summary = ", ".join(
                    f"{name} {LEDS[name][0]} "
                    + ("blinking" if len(states) > 1 else "on" if True in states else "off")
                    for name, states in sorted(seen.items()))
                if summary != shown:
                    print(f"[LEDs: {summary}]", flush=True)
                    shown = summary
                seen, window_end = {}, time.monotonic() + 2
    finally:
        port.close()


def _config_args(args) -> tuple:
    """(config_blob, config dict) from --config/--role/--ca/--cert/--key/--set, or
    (None, None) when none is given (nothing is loaded into the config sector)."""
    blob = None
    if args.config is not None:
        try:
            blob = args.config.read_bytes()
        except OSError as e:
            raise BoardError(f"config file '{args.config}' cannot be read ({e.strerror}); "
                             f"pass a text file of key=value lines") from None
    config = {}
    for setting in args.settings:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise BoardError(f"--set '{setting}' is not KEY=VALUE, e.g. --set dhcp=on")
        config[key.strip()] = value.strip()
    for key in ("role", "ca", "cert", "key"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if blob is None and not config:
        return None, None
    return blob, config or None


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.relay:
        return relay(args.relay, args.relay_log)
    level = logging.WARNING - 10 * args.verbose if not args.quiet else logging.ERROR
    logging.basicConfig(level=max(level, logging.DEBUG), format="board: %(message)s")

    board = None
    old_handlers = {}

    def on_signal(signum, frame):
        raise _Stop()

    try:
        config_blob, config = _config_args(args)
        if args.config_out is not None:
            blob = make_config_blob(config, text=config_blob or b"")
            try:
                args.config_out.write_bytes(blob)
            except OSError as e:
                raise BoardError(f"cannot write '{args.config_out}' ({e.strerror}); pass "
                                 f"another --config-out FILE") from None
            if not args.quiet:
                print(f"board: wrote {len(blob)} bytes of configuration to {args.config_out}; "
                      f"on a board: st-flash write {args.config_out} 0x{CONFIG_ADDR:08x}")
            return 0
        firmware = args.firmware or os.environ.get("STM32LAB_FIRMWARE") or DEFAULT_FIRMWARE
        board = Board(firmware, machine=args.machine, config_blob=config_blob, config=config, console_port=args.console_port,
                      pty=args.pty, qmp_path=args.qmp, hostfwd=args.hostfwd,
                      guestfwd=args.guestfwd, pcap=args.pcap,
                      deterministic=args.deterministic, seed=args.seed,
                      icount_shift=args.icount_shift, guest_errors=args.guest_errors,
                      log_dir=args.log_dir, emulator=args.qemu)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            old_handlers[sig] = signal.signal(sig, on_signal)
        board.start(paused=args.wait_console or args.attach)
        if not args.quiet:
            print(_attach_text(board), flush=True)
        if args.attach:
            _attach(board)
        elif args.wait_console:
            log.warning("waiting for a client on the console before running the firmware")
            board.wait_uart_connected("console", timeout=float("inf"))
            board.resume()
        rc = board.wait_for_exit()
        report = board.engine.exit_report() if isinstance(board.engine, QemuEngine) else ""
        board.stop()
        if rc:
            print(f"board: {report}", file=sys.stderr)
            return 128 - rc if rc < 0 else rc
        log.info("QEMU exited with status 0")
        return 0
    except (KeyboardInterrupt, _Stop):
        if board is not None:
            board.stop()
        log.info("stopped")
        return 0
    except BoardError as e:
        if board is not None:
            board.stop()
        if args.debug:
            raise
        print(f"board: {e}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
