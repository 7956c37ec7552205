"""The QEMU engine: the board in the lab's qemu-system-arm.

:class:`QemuEngine` builds QEMU's command line from a :class:`BoardConfig` (the machine's
UARTs in QEMU's ``-serial`` order, the restricted user-mode network with loopback forwards,
the config sector in a copy of the ELF), starts QEMU and controls it over QMP
(:class:`_Qmp`). Each exposed UART goes through a console hub (:class:`_UartHub`) that logs
every byte and lets any number of clients attach on 127.0.0.1. Stopping never hangs: quit
over QMP, then SIGTERM, then SIGKILL, each with a bounded wait.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

from host_tools import paths, relay
from host_tools.config_sector import elf_with_config
from host_tools.engine import BoardConfig, Engine, GuestForward, HostForward, check_firmware
from host_tools.lab import HOST_IP, NETWORK, SLIRP_HOST_IP, BoardError

__all__ = ["NETDEV_ID", "QemuEngine", "find_qemu"]

log = logging.getLogger("board")

NETDEV_ID = "net0"


def find_qemu(explicit: str | None = None) -> Path:
    """The lab's qemu-system-arm: explicit path, else $STM32LAB_QEMU, else the build cache."""
    return paths.find_qemu(explicit, error=BoardError)


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



# Stopping: how long each step may take (see QemuEngine.stop).
QMP_QUIT_TIMEOUT = 2.0
TERM_WAIT = 5.0
SAVE_STATE_TIMEOUT = 60.0     # s for QEMU to write the machine state (a few MiB)
KILL_WAIT = 5.0


def _wait(proc: subprocess.Popen, timeout: float) -> int | None:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def _signal_and_wait(proc: subprocess.Popen, sig: int, timeout: float) -> int | None:
    """Send sig (after SIGTERM also SIGCONT, so a stopped QEMU can act on it); wait."""
    proc.send_signal(sig)
    if sig != signal.SIGKILL:
        proc.send_signal(signal.SIGCONT)
    return _wait(proc, timeout)


def _reap(proc: subprocess.Popen, tmpdir: str | None) -> None:
    """Last-resort cleanup when a QemuEngine is dropped or the interpreter exits."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        _wait(proc, KILL_WAIT)
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
        self._read(time.monotonic() + timeout)  # greeting
        self.command("qmp_capabilities")

    def _read(self, deadline: float) -> dict:
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

    def command(self, command: str, /, *, reply_timeout: float | None = None, **arguments):
        """Run a QMP command and return its answer; TimeoutError if QEMU does not answer
        within reply_timeout (default: the start timeout)."""
        timeout = self.timeout if reply_timeout is None else reply_timeout
        deadline = time.monotonic() + timeout
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        if not self._lock.acquire(timeout=timeout):
            raise TimeoutError(f"QMP is still busy with another command after {timeout:g} s")
        try:
            self._sock.settimeout(timeout)
            self._sock.sendall(json.dumps(msg).encode() + b"\n")
            while True:
                reply = self._read(deadline)
                if "event" in reply:
                    self.events.append(reply)
                    continue
                if "error" in reply:
                    raise BoardError(f"QMP {command} failed: {reply['error'].get('desc')}")
                return reply.get("return")
        finally:
            self._lock.release()

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
        self._relays: list[relay.Listener] = []
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
        if cfg.restore is not None and not cfg.restore.is_file():
            raise BoardError(f"no saved machine state '{cfg.restore}'; make one with "
                             f"Board.save_state")
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
            for uart in self._exposed():
                port = cfg.console_port if uart == self._console else 0
                self._uart_ports[uart] = port or _free_port(taken)
        self._hostfwds = [f if f.host_port else HostForward(_free_port(taken), f.guest_port,
                                                            f.host_addr)
                          for f in cfg.hostfwd]
        self._kernel = cfg.firmware
        if cfg.config_sector is not None:
            self._kernel = tmp / f"{cfg.firmware.stem}+config.elf"
            self._kernel.write_bytes(elf_with_config(cfg.firmware.read_bytes(),
                                                     cfg.config_sector,
                                                     cfg.machine_spec.config_addr))
            (logdir / "config-sector.txt").write_bytes(cfg.config_sector)
        self.command = self.build_command()

    @property
    def _console(self) -> str:
        return self.config.machine_spec.console

    def _exposed(self) -> tuple:
        """The UARTs QEMU connects to something: the console, then extra_uarts."""
        return (self._console,) + tuple(self.config.extra_uarts)

    def _chardev(self, uart: str) -> str:
        cid = self.config.machine_spec.uart_label(uart)
        logfile = self._logs["console"] if cid == "console" \
            else self._logs["console"].with_name(f"{uart}.log")
        self._logs[cid] = logfile
        if self.config.pty:
            return f"pty,id={cid},logfile={_qemu_opt(logfile)},logappend=on"
        # QEMU connects to the launcher's hub (see _UartHub), which logs and fans out
        return f"socket,id={cid},path={_qemu_opt(self._hub_path(uart))}"

    def _hub_path(self, uart: str) -> Path:
        return Path(self._tmp) / f"{uart}.sock"

    def _start_hubs(self) -> None:
        for uart, port in self._uart_ports.items():
            label = self.config.machine_spec.uart_label(uart)
            self._hubs[uart] = _UartHub(label, self._hub_path(uart), port, self._logs[label])

    def nic_option(self) -> str:
        """The -nic option: QEMU's user-mode network with restrict=on on the lab's
        addresses, and the forwards (host ports are chosen at start). On a board with a
        W5100 it is the network of the chip's MACRAW socket, and the forwards are the
        chip's own (w5100_options)."""
        cfg = self.config
        net = ipaddress.ip_network(NETWORK)
        opts = [f"user,id={NETDEV_ID}", "restrict=on", "ipv6=off", f"net={net}",
                f"host={SLIRP_HOST_IP}", f"dhcpstart={cfg.board_ip}", f"mac={cfg.mac}"]
        if cfg.machine_spec.w5100:
            return ",".join(opts)
        for f in self._hostfwds:
            opts.append(f"hostfwd=tcp:{f.host_addr}:{f.host_port}-{cfg.board_ip}:{f.guest_port}")
        for f in cfg.guestfwd:
            opts.append(f"guestfwd=tcp:{HOST_IP}:{f.guest_port}-{self._guestfwd_target(f)}")
        return ",".join(opts)

    def w5100_options(self) -> list:
        """The W5100 shield's forwards (hw/net/w5100.c): the lab host's GUESTPORT is
        127.0.0.1:HOSTPORT for the board's TCP connects and UDP datagrams ("forward"), and
        127.0.0.1:HOSTPORT reaches a socket listening on GUESTPORT ("listen")."""
        forward = ",".join(f"{f.guest_port}:{f.host_port}" for f in self.config.guestfwd)
        listen = ",".join(f"{f.host_port}:{f.guest_port}" for f in self._hostfwds)
        opts = []
        if forward:
            opts += ["-global", f"w5100.forward={forward}"]
        if listen:
            opts += ["-global", f"w5100.listen={listen}"]
        return opts

    def _guestfwd_target(self, fwd: GuestForward) -> str:
        # Each board connection becomes a connection of its own to the PC server, which
        # sees it open and close like a real client's. (A "tcp:" chardev target would be a
        # single connection opened when QEMU starts, shared by every board connection.)
        # By default a native relay the launcher keeps running takes each one from a Unix
        # socket ("unix:", our QEMU patch 0015); else a "cmd:" target has QEMU start a
        # relay per connection, which stalls the board while QEMU forks
        # (host_tools/relay.py).
        if self._relay_helper() is not None:
            return "unix:" + _qemu_opt(self._relay_socket(fwd))
        command = relay.command(f"{fwd.host_addr}:{fwd.host_port}", self._logs["relay"],
                                self.config.relay)
        return "cmd:" + _qemu_opt(shlex.join(command))

    def _relay_helper(self) -> Path | None:
        """The native relay to keep running for each forward, or None (per connection)."""
        return relay.native_helper() if self.config.relay == "native" else None

    def _relay_socket(self, fwd: GuestForward) -> Path:
        return Path(self._tmp) / f"relay-{fwd.guest_port}.sock"

    def _start_relays(self) -> None:
        if not self.config.guestfwd or self.config.machine_spec.w5100:
            return      # no forward, or the W5100's own (w5100_options)
        helper = self._relay_helper()
        if helper is None:
            return
        for fwd in self.config.guestfwd:
            self._relays.append(relay.Listener(helper, self._relay_socket(fwd),
                                               f"{fwd.host_addr}:{fwd.host_port}",
                                               self._logs["relay"]))

    def build_command(self) -> list[str]:
        cfg = self.config
        kernel = getattr(self, "_kernel", cfg.firmware)
        cmd = [str(self.qemu), "-M", cfg.machine, "-kernel", str(kernel),
               "-display", "none", "-monitor", "none", "-nodefaults",
               "-qmp", f"unix:{_qemu_opt(self.qmp_path)},server=on,wait=off"]
        # -serial options reach the UARTs in the machine's order (the console first);
        # the ones before an exposed UART that nobody asked for get "null".
        uarts = cfg.machine_spec.uarts
        exposed = self._exposed()
        for uart in uarts[:max(uarts.index(u) for u in exposed) + 1]:
            if uart in exposed:
                cid = cfg.machine_spec.uart_label(uart)
                cmd += ["-chardev", self._chardev(uart), "-serial", f"chardev:{cid}"]
            else:
                cmd += ["-serial", "null"]
        if cfg.machine_spec.ethernet or cfg.machine_spec.w5100:
            cmd += ["-nic", self.nic_option()]
        if cfg.machine_spec.w5100:
            cmd += self.w5100_options()
        if cfg.pcap is not None:
            cmd += ["-object", f"filter-dump,id=dump0,netdev={NETDEV_ID},"
                               f"file={_qemu_opt(cfg.pcap.resolve())}"]
        if cfg.deterministic:
            cmd += ["-icount", f"shift={cfg.icount_shift},align=off,sleep=off",
                    "-global", f"stm32f4xx-rng.seed={int(cfg.seed)}",
                    "-seed", str(int(cfg.seed) & 0x7FFFFFFF or 1)]
        if cfg.guest_errors is not None:
            cmd += ["-d", "guest_errors,unimp", "-D", str(cfg.guest_errors.resolve())]
        if cfg.restore is not None:
            cmd += ["-incoming", f"file:{_qemu_opt(cfg.restore.resolve())}"]
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
            self._start_relays()
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
        """Chardev label (console, usart2) -> pty path."""
        ptys = {}
        for dev in self._qmp.command("query-chardev"):
            filename = dev.get("filename", "")
            if filename.startswith("pty:"):
                ptys[dev["label"]] = filename[4:]
        if "console" not in ptys:
            raise BoardError("QEMU did not report the console pty (query-chardev)")
        return ptys

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
        """Quit over QMP (an answer within QMP_QUIT_TIMEOUT, an exit within timeout), then
        SIGTERM and TERM_WAIT, then SIGKILL and KILL_WAIT: never hangs, even when QEMU is
        stopped, hung or starved of CPU. The exit status (None if never started, or if
        QEMU outlived SIGKILL: a process stuck in the kernel)."""
        if self.proc is None:
            self._cleanup()
            return None
        if self.proc.poll() is None and self._qmp is not None:
            try:
                self._qmp.command("quit", reply_timeout=min(timeout, QMP_QUIT_TIMEOUT))
            except (OSError, EOFError, TimeoutError, BoardError):
                pass
        rc = _wait(self.proc, timeout)
        if rc is None:
            log.warning("QEMU pid %d did not quit within %g s; sending SIGTERM",
                        self.proc.pid, timeout)
            rc = _signal_and_wait(self.proc, signal.SIGTERM, TERM_WAIT)
        if rc is None:
            log.warning("QEMU pid %d ignored SIGTERM for %g s; sending SIGKILL",
                        self.proc.pid, TERM_WAIT)
            rc = _signal_and_wait(self.proc, signal.SIGKILL, KILL_WAIT)
        if rc is None:
            log.error("QEMU pid %d outlived SIGKILL for %g s (stuck in the kernel?); "
                      "leaving it", self.proc.pid, KILL_WAIT)
        self._cleanup()
        return rc

    def _cleanup(self) -> None:
        for hub in self._hubs.values():
            hub.close()
        self._hubs = {}
        for listener in self._relays:
            listener.close()
        self._relays = []
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

    def describe(self) -> list:
        return [("qmp:", str(self.qmp_path))]

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
            return dict(self._uart_paths)
        spec = self.config.machine_spec
        return {spec.uart_label(u): f"socket://127.0.0.1:{p}"
                for u, p in self._uart_ports.items()}

    def uart_connected(self, name: str) -> bool:
        slot = self.config.machine_spec.uart(name)
        if slot in self._hubs:
            return self._hubs[slot].clients > 0
        label = self.config.machine_spec.uart_label(slot)
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

    def set_button(self, prop: str, pressed: bool) -> None:
        self._control("qom-set", path="/machine", property=prop, value=bool(pressed))

    def button(self, prop: str) -> bool:
        return bool(self._control("qom-get", path="/machine", property=prop))

    def screenshot(self, path: Path) -> None:
        self._control("screendump", filename=str(path), format="png")

    def save_state(self, path: Path) -> None:
        # QEMU's migration to a file: the VM stays paused once it completes
        self.pause()
        self._control("migrate", uri=f"file:{path}")
        deadline = time.monotonic() + SAVE_STATE_TIMEOUT
        while True:
            info = self._control("query-migrate")
            if info.get("status") == "completed":
                return
            if info.get("status") in ("failed", "cancelled"):
                raise BoardError(f"saving the machine state to '{path}' failed: "
                                 f"{info.get('error-desc', info.get('status'))}")
            if time.monotonic() > deadline:
                raise BoardError(f"saving the machine state to '{path}' did not finish "
                                 f"within {SAVE_STATE_TIMEOUT:g} s ({info.get('status')})")
            time.sleep(0.05)

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
