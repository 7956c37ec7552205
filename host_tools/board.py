"""Start an emulated STM32F4 board with a firmware ELF, and control it.

This module is the one place that knows how to start an emulator. The API is
engine-neutral: :class:`Board` is a facade over an :class:`Engine`
(:mod:`host_tools.engine`); QEMU (:class:`host_tools.qemu_engine.QemuEngine`) is the engine
today, Renode can be added behind the same API. What a board has (its UARTs, LEDs,
buttons) comes from the machine's table in :mod:`host_tools.lab`; the config flash sector
is :mod:`host_tools.config_sector`; the board's connections to the PC go through
:mod:`host_tools.relay`. docs/architecture.md has the whole design.

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

import argparse
import importlib
import logging
import os
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/board.py)

from host_tools import cli, lab, paths, relay  # noqa: E402
from host_tools.config_sector import (  # noqa: E402
    CONFIG_ADDR, CONFIG_KEYS, CONFIG_SIZE, elf_with_config, make_config_blob)
from host_tools.engine import (  # noqa: E402
    BoardConfig, Engine, GuestForward, HostForward, check_firmware)
from host_tools.lab import (  # noqa: E402
    BOARD_IP, BOARD_MAC, DEFAULT_MACHINE, HOST_IP, NETWORK, SLIRP_HOST_IP, BoardError)
from host_tools.qemu_engine import QemuEngine, find_qemu  # noqa: E402

__all__ = [
    "BOARD_IP", "BOARD_MAC", "HOST_IP", "NETWORK", "LEDS", "UARTS",
    "Board", "BoardConfig", "BoardError", "Engine", "GuestForward", "HostForward",
    "QemuEngine", "check_firmware", "find_qemu", "main",
    "CONFIG_ADDR", "CONFIG_SIZE", "CONFIG_KEYS", "make_config_blob", "elf_with_config",
]

log = logging.getLogger("board")

# The default machine's LEDs (name -> (colour, pin)) and UARTs (in QEMU's -serial order),
# kept for code written before the per-machine tables (lab.MACHINES); Board.machine has
# the running board's.
LEDS = {led.name: (led.colour, led.pin) for led in lab.machine().leds}
UARTS = lab.machine().uarts

ENGINES = {"qemu": QemuEngine}
# Engines in modules of their own, imported when asked for (issue 12: Renode)
ENGINE_MODULES = {"renode": ("host_tools.renode_engine", "RenodeEngine")}


def default_firmware(machine: str = DEFAULT_MACHINE) -> Path | None:
    """$STM32LAB_FIRMWARE, else the checkout's MicroPython build for machine."""
    env = os.environ.get("STM32LAB_FIRMWARE")
    return Path(env) if env else paths.default_firmware(lab.machine(machine).name)


# --- the facade ----------------------------------------------------------------------

class Board:
    """An emulated board (lab.MACHINES: stm324xg-eval, stm324x9i-eval), whatever engine
    runs it.

    ``Board(firmware, engine="qemu", **options)``; options are the fields of
    :class:`BoardConfig` (``console_port``, ``pty``, ``hostfwd``, ``guestfwd``, ``pcap``,
    ``deterministic``, ``seed``, ``guest_errors``, ``log_dir``, ``emulator``, ...).
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, firmware=None, engine: str = "qemu", **options):
        if engine in ENGINE_MODULES and engine not in ENGINES:
            module, cls = ENGINE_MODULES[engine]
            # run as a script, this module is __main__: let the engine import this one
            sys.modules.setdefault("host_tools.board", sys.modules[__name__])
            ENGINES[engine] = getattr(importlib.import_module(module), cls)
        if engine not in ENGINES:
            raise BoardError(f"unknown engine '{engine}'; use one of "
                             f"{', '.join([*ENGINES, *ENGINE_MODULES.keys() - ENGINES.keys()])}")
        if firmware is None:
            firmware = default_firmware(options.get("machine", DEFAULT_MACHINE))
            if firmware is None:
                raise BoardError("no firmware given, and no default outside a checkout of "
                                 "the lab; pass --firmware PATH (or set STM32LAB_FIRMWARE)")
        self.config = BoardConfig(firmware=firmware, **options)
        self.engine: Engine = ENGINES[engine](self.config)

    @property
    def machine(self) -> lab.Machine:
        """The machine's table entry: its UARTs, LEDs and buttons."""
        return self.config.machine_spec

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
        key = self.machine.uart_label(name)
        urls = self.engine.uarts()
        if key not in urls:
            raise BoardError(f"UART '{name}' is not exposed; pass extra_uarts=('{key}',)")
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
        """True when the LED is lit; name is led1..led4, its colour (blue) or its pin."""
        return self.engine.led(self.machine.led(name).name)

    def leds(self) -> dict:
        return {led.name: self.engine.led(led.name) for led in self.machine.leds}

    # push-buttons (the machine's table: wakeup, tamper, user)
    def press_button(self, name: str) -> None:
        """Press and hold a push-button (name or pin: user, PG15) until release_button."""
        self.engine.set_button(self.machine.button(name).prop, True)

    def release_button(self, name: str) -> None:
        self.engine.set_button(self.machine.button(name).prop, False)

    def click_button(self, name: str, hold: float = 0.1) -> None:
        """Press, hold for ``hold`` seconds (host time), release."""
        self.press_button(name)
        try:
            time.sleep(hold)
        finally:
            self.release_button(name)

    def button_pressed(self, name: str) -> bool:
        return self.engine.button(self.machine.button(name).prop)

    def buttons(self) -> dict:
        return {b.name: self.engine.button(b.prop) for b in self.machine.buttons}

    # the LCD
    def screenshot(self, path) -> Path:
        """Save what the board's LCD shows now as a PNG file; returns its path."""
        if not self.machine.lcd:
            with_lcd = [m.name for m in lab.MACHINES.values() if m.lcd]
            raise BoardError(f"{self.machine.name} has no LCD in this lab; screenshots are "
                             f"for " + (", ".join(with_lcd) or "no machine yet"))
        path = Path(path).resolve()
        if not path.parent.is_dir():
            raise BoardError(f"cannot save a screenshot to '{path}': no directory "
                             f"'{path.parent}'")
        self.engine.screenshot(path)
        return path

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


# --- command line --------------------------------------------------------------------

def _machines_text() -> str:
    return "; ".join(f"{m.name} ({m.short}): {m.board}, {m.chip}, console {m.console_port}"
                     for m in lab.MACHINES.values())


def _parser() -> argparse.ArgumentParser:
    p = cli.parser(
        "board",
        description="Start an emulated STM32F4 board with a firmware ELF, print how to "
                    "attach to it, and run until Ctrl-C or until the emulator exits. "
                    f"Machines: {_machines_text()}.",
        epilog="Network: QEMU user-mode networking with restrict=on, net "
               f"{NETWORK}, PC {HOST_IP} (the --guestfwd ports), QEMU {SLIRP_HOST_IP}, "
               f"board {BOARD_IP} (MAC {BOARD_MAC}); the "
               "board reaches only the --guestfwd targets, and forwards use 127.0.0.1 "
               "only. Example: board.py --firmware fw.elf --guestfwd 443:4433 "
               "--hostfwd 8443:443")
    # The guestfwd relay's command line of earlier launchers (see host_tools/relay.py)
    p.add_argument("--relay", metavar="HOST:PORT", help=argparse.SUPPRESS)
    p.add_argument("--relay-log", metavar="FILE", help=argparse.SUPPRESS)

    g = p.add_argument_group("board")
    g.add_argument("--firmware", metavar="PATH", default=None,
                   help="firmware ELF to run (default: $STM32LAB_FIRMWARE, else in a "
                        "checkout the MicroPython build for the machine, "
                        "firmware/build-MACHINE/firmware.elf)")
    g.add_argument("--machine", default=DEFAULT_MACHINE,
                   help="emulated machine, by name or short name (default: %(default)s)")
    g.add_argument("--engine", choices=["qemu", *ENGINE_MODULES], default="qemu",
                   help="emulator (default: %(default)s); renode needs a renode executable "
                        "on PATH (renode/README.md)")

    g = p.add_argument_group("console (the board's console UART: "
                             + ", ".join(f"{m.console.upper()} on {m.name}"
                                         for m in lab.MACHINES.values()) + ")")
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
    g.add_argument("--screenshot", metavar="FILE", type=Path,
                   help="save the LCD as a PNG file when the launcher is stopped (Ctrl-C); "
                        "with --attach, '!screenshot [FILE]' saves it at once")
    g.add_argument("--guest-errors", metavar="FILE", type=Path,
                   help="log guest errors and unimplemented device accesses to FILE")
    g.add_argument("--log-dir", metavar="DIR", type=Path,
                   help="keep console.log and qemu-stderr.log in DIR (default: a temp dir "
                        "removed at exit)")

    cli.add_output_options(p)
    return p


def _attach_text(board: Board) -> str:
    cfg = board.config
    emulator = "Renode" if board.engine.name == "renode" else "QEMU"
    lines = [f"board: {cfg.machine} running {cfg.firmware.name} ({emulator} pid {board.pid})"]
    for name, url in board.uarts().items():
        hint = f"python -m serial.tools.miniterm {url} 115200"
        lines.append(f"  {name + ':':13}{url}    attach: {hint}")
    for label, value in board.engine.describe():
        lines.append(f"  {label:13}{value}")
    for f in board.hostfwds():
        lines.append(f"  {'hostfwd:':13}{f.host_addr}:{f.host_port} -> board "
                     f"{cfg.board_ip}:{f.guest_port}")
    for f in board.guestfwds():
        lines.append(f"  {'guestfwd:':13}board -> {HOST_IP}:{f.guest_port} -> "
                     f"{f.host_addr}:{f.host_port}")
    if cfg.pcap:
        lines.append(f"  {'pcap:':13}{cfg.pcap}")
    if cfg.config_sector is not None:
        lines.append(f"  {'config:':13}{len(cfg.config_sector)} bytes at "
                     f"0x{board.machine.config_addr:08x}"
                     + (" (erased sector: the firmware's defaults)"
                        if not cfg.config_sector else ""))
    for name, path in board.logs().items():
        lines.append(f"  {name + ' log:':13}{path}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


BUTTON_COMMANDS = ("press", "release", "click")
DEFAULT_SCREENSHOT = "lcd.png"


def _button_command(board: "Board", line: str) -> None:
    """A console command typed with --attach: ``!press user``, ``!release user``,
    ``!click user`` (not sent to the board)."""
    words = line[1:].split()
    if words[:1] == ["screenshot"] and len(words) <= 2:
        try:
            path = board.screenshot(words[1] if len(words) == 2 else DEFAULT_SCREENSHOT)
        except BoardError as e:
            print(f"board: {e}", flush=True)
            return
        print(f"[LCD saved to {path}]", flush=True)
        return
    if len(words) != 2 or words[0] not in BUTTON_COMMANDS:
        names = ", ".join(b.name for b in board.machine.buttons)
        print(f"board: commands: !press NAME, !release NAME, !click NAME (buttons: {names}), "
              f"!screenshot [FILE]", flush=True)
        return
    try:
        getattr(board, f"{words[0]}_button")(words[1])
    except BoardError as e:
        print(f"board: {e}", flush=True)
        return
    print(f"[button {board.machine.button(words[1]).name}: {words[0]}]", flush=True)


def _attach(board: "Board") -> None:
    """Mirror the console on stdout, stdin lines to the console, LED changes as lines,
    until the board stops (the caller handles Ctrl-C)."""
    import serial  # pyserial, a dependency of the package

    port = serial.serial_for_url(board.uart("console"), timeout=0.05)
    board.wait_uart_connected("console")
    board.resume()

    def typed():
        for line in sys.stdin:
            if line.startswith("!"):
                _button_command(board, line)
            else:
                port.write(line.replace("\n", "\r").encode())

    if sys.stdin.isatty():
        threading.Thread(target=typed, daemon=True).start()
    # LEDs are summarised every 2 s, only when the summary changes: a heartbeat LED
    # toggling 5 times a second shows once as "blinking".
    colours = {led.name: led.colour for led in board.machine.leds}
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
                    f"{name} {colours[name]} "
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
        return relay.relay(args.relay, args.relay_log)
    cli.setup_logging("board", args)
    state = {}

    def run() -> int:
        config_blob, config = _config_args(args)
        if args.config_out is not None:
            return _write_config(args, config_blob, config)
        if args.screenshot is not None and not lab.machine(args.machine).lcd:
            raise BoardError(f"--screenshot: {lab.machine(args.machine).name} has no LCD in "
                             f"this lab")
        board = state["board"] = Board(
            args.firmware, engine=args.engine, machine=args.machine, config_blob=config_blob, config=config,
            console_port=args.console_port, pty=args.pty, qmp_path=args.qmp,
            hostfwd=args.hostfwd, guestfwd=args.guestfwd, pcap=args.pcap,
            deterministic=args.deterministic, seed=args.seed,
            icount_shift=args.icount_shift, guest_errors=args.guest_errors,
            log_dir=args.log_dir, emulator=args.qemu)
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
        report = board.engine.exit_report()
        board.stop()
        if rc:
            print(f"board: {report}", file=sys.stderr)
            return 128 - rc if rc < 0 else rc
        log.info("QEMU exited with status 0")
        return 0

    def interrupted() -> int:
        log.info("stopped")
        return 0

    def stop_board() -> None:
        board = state.get("board")
        if board is None:
            return
        if args.screenshot is not None and board.is_running():
            try:
                print(f"board: LCD saved to {board.screenshot(args.screenshot)}", flush=True)
            except BoardError as e:
                print(f"board: no screenshot: {e}", file=sys.stderr, flush=True)
        board.stop()

    return cli.run("board", run, errors=(BoardError,), debug=args.debug,
                   interrupted=interrupted, cleanup=stop_board)


def _write_config(args, config_blob, config) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
