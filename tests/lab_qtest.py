"""Drive the emulated board through QEMU's qtest line protocol and QMP.

QEMU runs with ``-accel qtest``: no CPU executes, the test reads and writes the bus
(``readl``/``writel``/``memread``/``memwrite``), moves virtual time (``clock_step``) and
watches interrupt lines (``irq_intercept_in`` then ``irq_level``). A QMP socket next to it
answers ``qom-get``/``set_link``/``human-monitor-command``. Guest errors and unimplemented
accesses go to a log file the test can read with ``log()``.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path


class QTestError(RuntimeError):
    pass


RCC_BASE = 0x40023800
# RCC clock-enable register offset and bit of each block (RM0090 7.3.10..7.3.14); the
# reset bit is at the same position in the xxxRSTR register 0x20 below.
RCC_CLOCKS = {
    **{f"gpio{chr(ord('a') + i)}": (0x30, i) for i in range(11)},
    "dma1": (0x30, 21), "dma2": (0x30, 22), "eth": (0x30, 25),
    "cryp": (0x34, 4), "hash": (0x34, 5), "rng": (0x34, 6),
    "fsmc": (0x38, 0),
    "tim2": (0x40, 0), "tim3": (0x40, 1), "tim4": (0x40, 2), "tim5": (0x40, 3),
    "usart2": (0x40, 17), "usart3": (0x40, 18), "pwr": (0x40, 28),
    "usart1": (0x44, 4), "usart6": (0x44, 5), "syscfg": (0x44, 14),
}


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies (Linux), so a killed
    test run leaves no emulator behind."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _reap(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


class _Lines:
    """Line reader over a stream socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def readline(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from QEMU")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QTestError("QEMU closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


class _Qemu:
    """What every QEMU the tests start has: a process, QMP, a guest-error log."""

    proc: subprocess.Popen
    tmp: tempfile.TemporaryDirectory
    log_path: Path
    stderr_path: Path
    timeout: float

    def _connect_qmp(self, qmp_path: Path) -> None:
        self.qmp_sock = None
        deadline = time.monotonic() + self.timeout
        while self.qmp_sock is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(str(qmp_path))
                self.qmp_sock = s
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise QTestError(f"no QMP socket: {self.stderr()}")
                time.sleep(0.05)
        self.m = _Lines(self.qmp_sock)
        self.m.readline(self.timeout)  # greeting
        self.qmp("qmp_capabilities")

    # --- QMP ---------------------------------------------------------------
    def qmp(self, command: str, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.qmp_sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = json.loads(self.m.readline(self.timeout))
            if "event" in reply:
                continue
            if "error" in reply:
                raise QTestError(f"QMP {command}: {reply['error']['desc']}")
            return reply["return"]

    def hmp(self, command: str) -> str:
        return self.qmp("human-monitor-command", **{"command-line": command})

    def qom_get(self, path: str, prop: str):
        return self.qmp("qom-get", path=path, property=prop)

    def qom_set(self, path: str, prop: str, value) -> None:
        self.qmp("qom-set", path=path, property=prop, value=value)

    # --- process -----------------------------------------------------------
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace").strip()
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class QTest(_Qemu):
    """One QEMU process in qtest mode, with QMP and a guest-error log."""

    def __init__(self, qemu: str, machine: str = "stm324xg-eval", args=(),
                 nic: str | None = None, timeout: float = 30.0,
                 serials=("null",)):
        self.tmp = tempfile.TemporaryDirectory(prefix="stm32lab-qtest-")
        d = Path(self.tmp.name)
        self.log_path = d / "qemu.log"
        qtest_path, qmp_path = d / "qtest.sock", d / "qmp.sock"
        self.timeout = timeout
        self.irq_levels: dict[int, bool] = {}
        self.irq_events: list[tuple[int, bool]] = []

        qtest_srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        qtest_srv.bind(str(qtest_path))
        qtest_srv.listen(1)
        cmd = [qemu, "-M", machine, "-accel", "qtest", "-qtest", f"unix:{qtest_path}",
               "-qmp", f"unix:{qmp_path},server=on,wait=off", "-display", "none",
               "-monitor", "none", "-d", "guest_errors,unimp",
               "-D", str(self.log_path)]
        for serial in serials:       # the console USART first, then USART1, 2, 6
            cmd += ["-serial", serial]
        cmd += ["-nic", nic] if nic else ["-nic", "none"]
        cmd += list(args)
        self.cmd = cmd
        self.stderr_path = d / "stderr"
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=stderr,
                                         preexec_fn=_die_with_parent)
        # A QTest dropped without close() still stops its QEMU
        self._finalizer = weakref.finalize(self, _reap, self.proc)
        qtest_srv.settimeout(timeout)
        try:
            conn, _ = qtest_srv.accept()
        except socket.timeout:
            self.close()
            raise QTestError(f"QEMU did not connect to qtest: {self.stderr()}")
        finally:
            qtest_srv.close()
        self.q = _Lines(conn)
        self._connect_qmp(qmp_path)

    # --- qtest protocol ---------------------------------------------------
    def _cmd(self, line: str) -> list[str]:
        self.q.sock.sendall((line + "\n").encode())
        while True:
            reply = self.q.readline(self.timeout)
            if reply.startswith("IRQ "):
                _, what, num = reply.split()
                level = what == "raise"
                self.irq_levels[int(num)] = level
                self.irq_events.append((int(num), level))
                continue
            parts = reply.split()
            if parts[0] != "OK":
                raise QTestError(f"{line!r} -> {reply!r}")
            return parts[1:]

    def readl(self, addr: int) -> int:
        return int(self._cmd(f"readl 0x{addr:x}")[0], 16)

    def readw(self, addr: int) -> int:
        return int(self._cmd(f"readw 0x{addr:x}")[0], 16)

    def readb(self, addr: int) -> int:
        return int(self._cmd(f"readb 0x{addr:x}")[0], 16)

    def writel(self, addr: int, value: int) -> None:
        self._cmd(f"writel 0x{addr:x} 0x{value & 0xFFFFFFFF:x}")

    def writew(self, addr: int, value: int) -> None:
        self._cmd(f"writew 0x{addr:x} 0x{value & 0xFFFF:x}")

    def writeb(self, addr: int, value: int) -> None:
        self._cmd(f"writeb 0x{addr:x} 0x{value & 0xFF:x}")

    def memread(self, addr: int, size: int) -> bytes:
        return bytes.fromhex(self._cmd(f"read 0x{addr:x} 0x{size:x}")[0][2:])

    def memwrite(self, addr: int, data: bytes) -> None:
        self._cmd(f"write 0x{addr:x} 0x{len(data):x} 0x{data.hex()}")

    def clock_step(self, ns: int | None = None) -> int:
        """Advance virtual time by ns (or to the next timer); returns the new time."""
        return int(self._cmd("clock_step" + (f" {ns}" if ns is not None else ""))[0])

    def irq_intercept_in(self, path: str = "/machine/soc/armv7m") -> None:
        self._cmd(f"irq_intercept_in {path}")

    def set_irq_in(self, path: str, n: int, level: int, name: str = "unnamed-gpio-in") -> None:
        """Drive input line n of the device at path (e.g. a GPIO pin from the board)."""
        self._cmd(f"set_irq_in {path} {name} {n} {level}")

    def irq_level(self, n: int) -> bool:
        self._cmd("endianness")  # a round trip collects pending IRQ messages
        return self.irq_levels.get(n, False)

    def wait_until(self, predicate, timeout: float = 5.0, step_ns: int = 100_000):
        """Step virtual time and let the main loop run until predicate() is true.

        Network backends (slirp) run in QEMU's main loop in real time, so this also
        sleeps a little between steps."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            self.clock_step(step_ns)
            time.sleep(0.01)

    # --- RCC: clocks and resets, as firmware sets them ----------------------
    def enable_clock(self, *blocks: str) -> None:
        """Set the RCC clock-enable bit of each block (e.g. "gpiog", "hash"), as firmware
        must before touching the block: a block whose clock is off does not respond."""
        for block in blocks:
            enr, bit = RCC_CLOCKS[block]
            self.writel(RCC_BASE + enr, self.readl(RCC_BASE + enr) | 1 << bit)

    def disable_clock(self, *blocks: str) -> None:
        for block in blocks:
            enr, bit = RCC_CLOCKS[block]
            self.writel(RCC_BASE + enr, self.readl(RCC_BASE + enr) & ~(1 << bit))

    def reset_block(self, block: str) -> None:
        """Pulse the block's RCC reset bit (set, then clear), as __HAL_RCC_x_FORCE_RESET
        and __HAL_RCC_x_RELEASE_RESET do."""
        enr, bit = RCC_CLOCKS[block]
        rstr = RCC_BASE + enr - 0x20
        self.writel(rstr, self.readl(rstr) | 1 << bit)
        self.writel(rstr, self.readl(rstr) & ~(1 << bit))



class Guest(_Qemu):
    """One QEMU running a program on the emulated CPU: the console (the board's first
    serial port) on a pipe, QMP beside it, guest errors in the log."""

    def __init__(self, qemu: str, kernel, machine: str = "stm324xg-eval", args=(),
                 nic: str | None = None, timeout: float = 30.0):
        self.tmp = tempfile.TemporaryDirectory(prefix="stm32lab-guest-")
        d = Path(self.tmp.name)
        self.log_path, self.stderr_path = d / "qemu.log", d / "stderr"
        qmp_path = d / "qmp.sock"
        self.timeout = timeout
        self.output = ""
        cmd = [qemu, "-M", machine, "-kernel", str(kernel), "-display", "none",
               "-monitor", "none", "-serial", "stdio",
               "-qmp", f"unix:{qmp_path},server=on,wait=off",
               "-d", "guest_errors,unimp", "-D", str(self.log_path)]
        cmd += ["-nic", nic] if nic else ["-nic", "none"]
        cmd += list(args)
        self.cmd = cmd
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=stderr, preexec_fn=_die_with_parent)
        self._finalizer = weakref.finalize(self, _reap, self.proc)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._connect_qmp(qmp_path)

    def read_until(self, text: str, timeout: float = 30.0) -> str:
        """Console output up to and including the first line holding text (after what
        earlier calls consumed); raises TimeoutError with the output so far."""
        deadline = time.monotonic() + timeout
        while True:
            at = self.output.find(text)
            end = self.output.find("\n", at) if at >= 0 else -1
            if end >= 0:                                     # the whole line is in
                seen, self.output = self.output[:end + 1], self.output[end + 1:]
                return seen
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise TimeoutError(f"{text!r} not seen; console: {self.output[-2000:]!r}; "
                                   f"{self.stderr()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if ready:
                chunk = self.proc.stdout.read()
                if chunk:
                    self.output += chunk.decode(errors="replace").replace("\r", "")

    def write(self, text: str) -> None:
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()


def qemu_binary() -> str:
    """Path of the lab's qemu-system-arm: $STM32LAB_QEMU, else the build cache."""
    path = os.environ.get("STM32LAB_QEMU")
    if not path:
        top = Path(__file__).resolve().parent.parent
        path = subprocess.run(["bash", str(top / "scripts" / "build-qemu.sh"), "--print"],
                              check=True, capture_output=True, text=True).stdout.strip()
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} not built: run 'make qemu'")
    return path


def mtree(qts: QTest) -> set[tuple[str, int, int]]:
    """(name, start, size) of every region in the system address space."""
    text = qts.hmp("info mtree")
    text = text.split("address-space: memory", 1)[1].split("address-space:", 1)[0]
    regions = set()
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) \(prio [-0-9]+, [^)]+\): (?:alias )?(\S+)",
                     line)
        if m:
            start, end = int(m[1], 16), int(m[2], 16)
            regions.add((m[3], start, end - start + 1))
    return regions


def guest_errors(log: str, pattern: str = "") -> list[str]:
    return [line for line in log.splitlines() if re.search(pattern, line)]
