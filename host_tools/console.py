"""Attach to the emulated board's UART: interactively like a terminal, or scripted.

The console is whatever pyserial's ``serial_for_url`` opens: ``socket://127.0.0.1:PORT``
(the board launcher's default console), a pty path such as ``/dev/pts/5`` (``board.py
--pty``), ``rfc2217://127.0.0.1:PORT``, ``loop://``. Network URLs must point at a loopback
address (the lab's network rule); the console never resolves a host name other than
``localhost``.

Interactive (like miniterm or HyperTerminal; Ctrl-] quits)::

    python host_tools/console.py socket://127.0.0.1:34887

Scripted (steps run in order; exit 0 when every expectation matched, 1 otherwise)::

    python host_tools/console.py socket://127.0.0.1:34887 \\
        --expect 'hello from stm324xg-eval' --send 'print(6*7)' --expect '42' --timeout 10

From Python (pytest, the Robot library)::

    from host_tools.console import Console
    with Console(board.uart("console"), log="console.log") as console:
        console.expect("hello from stm324xg-eval", timeout=10)
        console.write_line("print(6*7)")
        console.wait_for_line("42")
        print(console.lines())
"""

from __future__ import annotations

import argparse
import codecs
import collections
import contextlib
import logging
import os
import re
import select
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pexpect
import serial
from pexpect.spawnbase import SpawnBase

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/console.py)

from host_tools import cli, lab  # noqa: E402

__all__ = [
    "Console", "ConsoleClosed", "ConsoleError", "ConsoleTimeout", "DEFAULT_BAUDRATE",
    "DEFAULT_TIMEOUT", "EOLS", "check_url", "interact", "main", "open_port",
]

log = logging.getLogger("console")

DEFAULT_BAUDRATE = 115200
DEFAULT_TIMEOUT = 10.0
EOLS = {"CR": "\r", "LF": "\n", "CRLF": "\r\n"}
EXIT_KEY = b"\x1d"                       # Ctrl-], as in telnet and miniterm
START_BOARD = "start it with python host_tools/board.py"

# URL schemes that open a network connection (the host must be loopback), and the
# pyserial schemes that only open local devices.
NETWORK_SCHEMES = ("socket", "rfc2217")
LOCAL_SCHEMES = ("loop", "spy", "alt", "hwgrep", "cp2110")

MAX_LINES = 10000                        # lines kept for lines() / failure messages
MAX_PENDING = 1 << 20                    # bytes kept for expect() when nobody expects
READ_POLL = 0.1                          # reader thread wake-up, so close() is prompt


class ConsoleError(RuntimeError):
    """The console could not be opened or used. The message is one line naming the
    problem and, where there is one, the fix."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable       # the board may just not be up yet


class ConsoleTimeout(ConsoleError, AssertionError):
    """An expectation did not match in time. Also an AssertionError, so Robot Framework
    and pytest report it as a failed check. ``pattern``, ``timeout`` and ``last_lines``
    say what was awaited and what the board printed last."""

    def __init__(self, message: str, pattern: str = "", timeout: float = 0.0,
                 last_lines: list | None = None):
        super().__init__(message)
        self.pattern = pattern
        self.timeout = timeout
        self.last_lines = list(last_lines or [])


class ConsoleClosed(ConsoleError):
    """The connection ended (the board stopped, or the pty went away) while waiting."""


# --- opening the port ----------------------------------------------------------------

def _scheme(url: str) -> str | None:
    return url.split("://", 1)[0].lower() if "://" in url else None


def check_url(url: str) -> None:
    """Refuse a URL the console must not or cannot open, before opening anything.

    Network URLs (socket://, rfc2217://) must name a loopback host: 127.0.0.0/8, ::1 or
    localhost. Unknown schemes are refused (a pyserial plug-in could reach the network).
    A device or pty path is checked when the port is opened (see :func:`open_port`)."""
    scheme = _scheme(url)
    if scheme is None:
        return
    if scheme in NETWORK_SCHEMES:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = None
        host = parts.hostname
        if not host or port is None:
            raise ConsoleError(f"'{url}' needs a host and a port, e.g. "
                               f"{scheme}://127.0.0.1:PORT")
        try:
            lab.check_loopback(host, f"'{url}': host",
                               hint=" (socket://127.0.0.1:PORT as board.py prints it)")
        except ValueError as e:
            raise ConsoleError(str(e)) from None
    elif scheme not in LOCAL_SCHEMES:
        raise ConsoleError(f"'{url}': unknown URL scheme '{scheme}://'; use "
                           f"socket://127.0.0.1:PORT, rfc2217://127.0.0.1:PORT or a "
                           f"device/pty path such as /dev/pts/N")


def _open_error(url: str, err: Exception) -> ConsoleError:
    """Turn pyserial's open failure into a one-line message with the fix."""
    text = str(err)
    scheme = _scheme(url)
    if scheme in NETWORK_SCHEMES:
        parts = urlsplit(url)
        where = f"{parts.hostname}:{parts.port}"
        if "refused" in text.lower() or "errno 111" in text.lower():
            return ConsoleError(f"nothing listens on {where}; is the board running? "
                                f"{START_BOARD}", retryable=True)
        if "timed out" in text.lower():
            return ConsoleError(f"no answer from {where}; is the board running? "
                                f"{START_BOARD}", retryable=True)
        return ConsoleError(f"cannot connect to {url}: {text}")
    if scheme is None:
        errno_ = getattr(err, "errno", None)
        if errno_ == 2 or not os.path.exists(url):
            return ConsoleError(f"no serial device or pty at {url}; is the board running "
                                f"with --pty? python host_tools/board.py --pty prints the "
                                f"console's pty path", retryable=True)
        if errno_ == 13:
            return ConsoleError(f"no permission to open {url}; check its owner and mode "
                                f"(ls -l {url})")
    return ConsoleError(f"cannot open {url}: {text}")


def _open_once(url: str, baudrate: int) -> serial.SerialBase:
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=READ_POLL,
                                     do_not_open=True)
    except (ValueError, serial.SerialException) as e:
        raise ConsoleError(f"cannot use '{url}': {e}") from None
    # pyserial discards pending input when it opens a port; what the board printed
    # right after the connection came up is exactly what we must not lose.
    port.reset_input_buffer = port._reset_input_buffer = lambda: None
    try:
        port.open()
    except (serial.SerialException, OSError) as e:
        raise _open_error(url, e) from None
    finally:
        del port.reset_input_buffer, port._reset_input_buffer
    return port


def open_port(url: str, baudrate: int = DEFAULT_BAUDRATE, wait: float = 0.0):
    """Open the console as a pyserial port, after :func:`check_url`.

    With ``wait`` > 0, keep retrying for that many seconds while nothing listens (or the
    pty does not exist yet): the board may still be starting."""
    check_url(url)
    deadline = time.monotonic() + wait
    while True:
        try:
            return _open_once(url, baudrate)
        except ConsoleError as e:
            if not e.retryable or time.monotonic() >= deadline:
                raise
            log.debug("%s; retrying", e)
            time.sleep(0.2)


# --- received text: lines and display --------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")


class _LineSplitter:
    """Split a text stream into lines at CRLF, LF or a lone CR, across chunk borders."""

    def __init__(self, keep: int = MAX_LINES):
        self.lines = collections.deque(maxlen=keep)
        self.partial = ""
        self._after_cr = False

    def feed(self, text: str) -> None:
        if self._after_cr and text.startswith("\n"):
            text = text[1:]              # the LF of a CRLF split over two chunks
        if not text:
            return
        self._after_cr = text.endswith("\r")
        pieces = _NEWLINE.split(text)
        pieces[0] = self.partial + pieces[0]
        self.lines.extend(pieces[:-1])
        self.partial = pieces[-1]


def _stamp() -> str:
    now = time.time()
    return time.strftime("[%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}] "


class _Display:
    """Received bytes -> bytes to show: line endings (CRLF, CR, LF) become LF, optionally
    each line starts with a wall-clock time stamp. ``raw`` passes bytes through."""

    def __init__(self, raw: bool = False, timestamps: bool = False, encoding: str = "utf-8"):
        self.raw = raw
        self.timestamps = timestamps
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._after_cr = False
        self._line_start = True

    def feed(self, data: bytes) -> bytes:
        if self.raw:
            return data
        text = self._decoder.decode(data)
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        if not text:
            return b""
        self._after_cr = text.endswith("\r")
        text = _NEWLINE.sub("\n", text)
        if self.timestamps:
            out = []
            for piece in re.split(r"(?<=\n)", text):
                if piece:
                    if self._line_start:
                        out.append(_stamp())
                    out.append(piece)
                    self._line_start = piece.endswith("\n")
            text = "".join(out)
        return text.encode(self.encoding, "replace")


# --- pexpect over the received stream ------------------------------------------------

class _ConsoleSpawn(SpawnBase):
    """pexpect's expect machinery over the bytes the console's reader thread collects.

    The reader thread, not pexpect, reads the port, so the log, lines() and the terminal
    see everything the board sends whether or not anyone is expecting at that moment."""

    def __init__(self, console: "Console", timeout: float, encoding: str):
        super().__init__(timeout=timeout, encoding=encoding, codec_errors="replace")
        self._console = console
        self.closed = False
        self.delayafterread = None

    def read_nonblocking(self, size=1, timeout=-1):
        if timeout == -1:
            timeout = self.timeout
        data = self._console._take(size, timeout)
        text = self._decoder.decode(data, final=False)
        self._log(text, "read")
        return text

    def send(self, s) -> int:
        data = s.encode(self.encoding) if isinstance(s, str) else bytes(s)
        self._console.write(data)
        return len(data)

    def sendline(self, s="") -> int:
        return self.send(s + self._console.eol)

    def isalive(self) -> bool:
        return not self._console.eof


# --- the console -------------------------------------------------------------------

class Console:
    """A connection to a board UART, with expect-style waits.

    ``Console(url)`` opens the port (see :func:`open_port`) and starts a reader thread
    that records everything received: into ``log`` (a path or binary file; byte for byte,
    or with a time stamp per line when ``timestamps=True``), into :meth:`lines`, to the
    ``on_receive(bytes)`` callback, and for :meth:`expect`.

    Waits raise :class:`ConsoleTimeout` (an AssertionError) naming the pattern and the
    last lines seen, or :class:`ConsoleClosed` when the board goes away. Use it as a
    context manager or call :meth:`close`.
    """

    def __init__(self, url: str, baudrate: int = DEFAULT_BAUDRATE, *,
                 timeout: float = DEFAULT_TIMEOUT, eol: str = "CR", encoding: str = "utf-8",
                 log=None, timestamps: bool = False, on_receive=None, wait: float = 0.0):
        self.url = url
        self.timeout = float(timeout)
        self.eol = EOLS.get(str(eol).upper(), eol)
        self.encoding = encoding
        self.on_receive = on_receive
        self.last_receive = time.monotonic()
        self._lines = _LineSplitter()
        self._line_decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._pending = bytearray()
        self._eof_reason: str | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._log_file = None
        self._own_log = False
        self._log_display = _Display(timestamps=True, encoding=encoding) if timestamps else None
        if log is not None:
            if hasattr(log, "write"):
                self._log_file = log
            else:
                try:
                    self._log_file = open(log, "wb")
                except OSError as e:
                    raise ConsoleError(f"cannot write the log {log}: {e.strerror}") from None
                self._own_log = True
        try:
            self.port = open_port(url, baudrate, wait=wait)
        except BaseException:
            self._close_log()
            raise
        self.spawn = _ConsoleSpawn(self, self.timeout, encoding)
        self._reader = threading.Thread(target=self._read_loop, name=f"console {url}",
                                        daemon=True)
        self._reader.start()
        log_name = getattr(self._log_file, "name", None)
        logging.getLogger("console").info("connected to %s%s", url,
                                          f", logging to {log_name}" if log_name else "")

    def __repr__(self) -> str:
        state = "closed" if self._stop.is_set() else "eof" if self.eof else "open"
        return f"<Console {self.url} {state}>"

    def __enter__(self) -> "Console":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- receiving (reader thread) --------------------------------------------------------

    def _read_chunk(self) -> bytes:
        """What has arrived (waiting up to READ_POLL for the first byte). A connection
        that ends after some bytes returns them; the next call raises."""
        data = self.port.read(1)
        while data and len(data) < 65536:
            try:
                waiting = self.port.in_waiting
                if not waiting:
                    break
                data += self.port.read(waiting)
            except (serial.SerialException, OSError):
                break                    # the end of the connection: raised next call
        return data

    def _read_loop(self) -> None:
        reason = "the console was closed"
        while not self._stop.is_set():
            try:
                data = self._read_chunk()
            except (serial.SerialException, OSError, TypeError, AttributeError) as e:
                # TypeError/AttributeError: pyserial racing with close() on the port.
                if not self._stop.is_set():
                    reason = "the board closed the console connection"
                    log.debug("%s: %s", reason, e)
                break
            if data:
                self._received(data)
        with self._cond:
            self._eof_reason = reason
            self._cond.notify_all()

    def _received(self, data: bytes) -> None:
        self.last_receive = time.monotonic()
        if self._log_file is not None:
            try:
                out = self._log_display.feed(data) if self._log_display else data
                self._log_file.write(out)
                self._log_file.flush()
            except (OSError, ValueError) as e:
                log.error("cannot write the log: %s", e)
                self._log_file = None
        self._lines.feed(self._line_decoder.decode(data))
        if self.on_receive is not None:
            try:
                self.on_receive(data)
            except Exception:  # noqa: BLE001 - a display error must not stop the log
                log.exception("on_receive failed")
        with self._cond:
            self._pending += data
            if len(self._pending) > MAX_PENDING:
                del self._pending[:-MAX_PENDING]
            self._cond.notify_all()

    def _take(self, size: int, timeout: float | None) -> bytes:
        """Up to size received bytes for pexpect; TIMEOUT or EOF like a pexpect spawn."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._pending and self._eof_reason is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise pexpect.TIMEOUT("nothing received")
                self._cond.wait(left)
            if self._pending:
                data = bytes(self._pending[:size])
                del self._pending[:size]
                return data
            raise pexpect.EOF(self._eof_reason)

    @property
    def eof(self) -> bool:
        """True once the connection has ended (after what was received is consumed,
        waits raise :class:`ConsoleClosed`)."""
        return self._eof_reason is not None

    @property
    def eof_reason(self) -> str | None:
        return self._eof_reason

    # -- sending --------------------------------------------------------------------------

    def write(self, data) -> None:
        """Send bytes, or text encoded with the console's encoding, as is."""
        if isinstance(data, str):
            data = data.encode(self.encoding)
        try:
            with self._write_lock:
                self.port.write(data)
                self.port.flush()
        except (serial.SerialException, OSError) as e:
            raise ConsoleClosed(f"cannot send to {self.url}: {e}") from None

    def write_line(self, text: str = "") -> None:
        """Send text and the line ending (``eol``: CR by default, like Enter)."""
        self.write(text + self.eol)

    # -- waiting --------------------------------------------------------------------------

    def _wait(self, how, pattern, shown: str, timeout: float | None):
        timeout = self.timeout if timeout is None else float(timeout)
        try:
            how(pattern, timeout=timeout)
        except pexpect.TIMEOUT:
            seen = self.last_lines()
            raise ConsoleTimeout(f"timed out after {timeout:g} s waiting for {shown!r} on "
                                 f"{self.url}; {_describe(seen)}", shown, timeout,
                                 seen) from None
        except pexpect.EOF:
            seen = self.last_lines()
            raise ConsoleClosed(f"{self._eof_reason} while waiting for {shown!r} (did the "
                                f"board stop?); {_describe(seen)}") from None
        return self.spawn.match

    def expect(self, pattern, timeout: float | None = None) -> re.Match:
        """Wait for a regular expression (str or compiled; or a list of them) in what the
        board sends; return the :class:`re.Match`. Text before it is consumed."""
        shown = pattern.pattern if isinstance(pattern, re.Pattern) else (
            " | ".join(getattr(p, "pattern", p) for p in pattern)
            if isinstance(pattern, (list, tuple)) else pattern)
        return self._wait(self.spawn.expect, pattern, shown, timeout)

    def expect_exact(self, text: str, timeout: float | None = None) -> str:
        """Wait for literal text; return it."""
        self._wait(self.spawn.expect_exact, text, text, timeout)
        return self.spawn.after

    def read_until(self, text: str, timeout: float | None = None) -> str:
        """Wait for literal text; return everything received up to and including it."""
        self._wait(self.spawn.expect_exact, text, text, timeout)
        return self.spawn.before + self.spawn.after

    def wait_for_line(self, text: str, timeout: float | None = None,
                      regex: bool = False) -> str:
        """Wait for a complete line containing text (or matching the regex); return the
        line without its line ending. Like Renode's ``Wait For Line On Uart``."""
        body = text if regex else re.escape(text)
        pattern = re.compile(rf"[^\r\n]*(?:{body})[^\r\n]*(?=\r\n|\r|\n)")
        match = self._wait(self.spawn.expect, pattern, text, timeout)
        return match.group(0)

    # -- what was received ----------------------------------------------------------------

    def lines(self) -> list:
        """Every complete line received so far (the last 10000), without line endings."""
        return list(self._lines.lines)

    def last_lines(self, n: int = 5) -> list:
        """The last n lines received, including a line still being written."""
        lines = list(self._lines.lines)
        if self._lines.partial:
            lines.append(self._lines.partial)
        return lines[-n:] if n else []

    def wait_quiet(self, quiet: float = 0.5, timeout: float = 5.0) -> None:
        """Wait until nothing has arrived for ``quiet`` seconds (at most ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            if time.monotonic() - self.last_receive >= quiet:
                return
            time.sleep(0.05)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop reading, close the port and the log. Safe to call twice."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._reader.join(READ_POLL * 20)
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass
        with self._cond:
            if self._eof_reason is None:
                self._eof_reason = "the console was closed"
            self._cond.notify_all()
        self._close_log()

    def _close_log(self) -> None:
        if self._own_log and self._log_file is not None:
            self._log_file.close()
        self._log_file = None


def _describe(lines: list) -> str:
    if not lines:
        return "nothing received"
    shown = " | ".join(repr(line if len(line) <= 120 else line[:117] + "...")
                       for line in lines)
    return f"last lines seen: {shown}"


# --- interactive ---------------------------------------------------------------------

@contextlib.contextmanager
def _keys_to_board(fd: int):
    """Terminal: every key goes to the board (no line editing, no echo, Ctrl-C is a
    byte); output processing stays on, so a LF still starts a new line on screen."""
    import termios
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
    new[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    new[6][termios.VMIN] = 1
    new[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, new)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def interact(console: Console, out, echo: bool = False, stdin_fd: int | None = None,
             show=None) -> int:
    """Keys from stdin to the board until Ctrl-] (0) or until the board goes away (1).

    ``out`` is a binary stream for local echo; ``show`` turns typed bytes into displayed
    bytes. When stdin is not a terminal, its lines are sent and the session ends at its
    end, once the board has been quiet for half a second."""
    fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    is_tty = os.isatty(fd)
    enter = b"\r" if is_tty else b"\n"  # what the Enter key produces on this stdin
    eol = console.eol.encode()
    with _keys_to_board(fd) if is_tty else contextlib.nullcontext():
        while True:
            if console.eof:
                print(f"\r\nconsole: {console.eof_reason} (did the board stop?)",
                      file=sys.stderr)
                return 1
            ready, _, _ = select.select([fd], [], [], READ_POLL)
            if not ready:
                continue
            data = os.read(fd, 1024)
            if not data:
                console.wait_quiet()
                return 0
            quit_now = EXIT_KEY in data
            if quit_now:
                data = data[:data.index(EXIT_KEY)]
            data = data.replace(enter, eol) if enter != eol else data
            if data:
                if echo:
                    out.write(show(data) if show else data)
                    out.flush()
                console.write(data)
            if quit_now:
                return 0


# --- command line --------------------------------------------------------------------

class _Step(argparse.Action):
    """--send/--expect options keep their command-line order in args.steps."""

    def __call__(self, parser, namespace, values, option_string=None):
        steps = list(getattr(namespace, "steps", None) or [])
        steps.append((self.dest, values))
        namespace.steps = steps


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[\\abefnrt0])")
_ESCAPES = {"\\": 0x5c, "a": 7, "b": 8, "e": 0x1b, "f": 12, "n": 10, "r": 13, "t": 9, "0": 0}


def _unescape(text: str) -> bytes:
    r"""'\x03', '\r', '\\' ... in a --send-bytes argument -> bytes."""
    out, pos = bytearray(), 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode()
        code = m.group(1)
        out.append(int(code[1:], 16) if code.startswith("x") else _ESCAPES[code])
        pos = m.end()
    return bytes(out + text[pos:].encode())


def _parser() -> argparse.ArgumentParser:
    p = cli.parser(
        "console",
        description="Attach to the emulated board's UART (a pyserial URL such as "
                    "socket://127.0.0.1:PORT, or a pty path), interactively like a terminal "
                    "(Ctrl-] quits) or scripted with --send/--expect steps.",
        epilog="Examples: console.py socket://127.0.0.1:34887 ; console.py /dev/pts/5 --eol "
               "CRLF ; console.py socket://127.0.0.1:34887 --expect 'hello from "
               "stm324xg-eval' --send 'print(6*7)' --expect '42' --timeout 10. Network URLs "
               "must use a loopback host (127.0.0.0/8, ::1, localhost). Start the board with "
               "python host_tools/board.py; it prints the console URL.")
    p.set_defaults(steps=[])
    p.add_argument("url", metavar="URL",
                   help="the console: socket://127.0.0.1:PORT, rfc2217://127.0.0.1:PORT, a "
                        "pty or device path, or another pyserial URL")
    p.add_argument("baudrate", metavar="BAUD", nargs="?", type=int, default=DEFAULT_BAUDRATE,
                   help="baud rate for a real serial device (default %(default)s)")

    g = p.add_argument_group("connection")
    g.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="keep trying to connect for up to SECONDS while nothing listens "
                        "(the board may still be starting; default 0: fail at once)")
    g.add_argument("--eol", choices=sorted(EOLS), default="CR", type=str.upper,
                   help="line ending that Enter and --send send (default CR, like "
                        "HyperTerminal; the MicroPython REPL takes CR)")

    g = p.add_argument_group("interactive (when no --send/--expect is given)")
    g.add_argument("--echo", action="store_true",
                   help="show typed characters locally (for firmware that does not echo)")

    g = p.add_argument_group(
        "scripted (steps run in the order given; exit 0 when every --expect matched)")
    g.add_argument("--send", dest="send", action=_Step, metavar="TEXT",
                   help="send TEXT and the --eol line ending")
    g.add_argument("--send-bytes", dest="send_bytes", action=_Step, metavar="TEXT",
                   help=r"send TEXT as is, with \r \n \t \e \xNN escapes (e.g. '\x03' "
                        r"for Ctrl-C), no line ending")
    g.add_argument("--expect", dest="expect", action=_Step, metavar="REGEX",
                   help="wait for a Python regular expression in what the board sends")
    g.add_argument("--expect-exact", dest="expect_exact", action=_Step, metavar="TEXT",
                   help="wait for literal TEXT (no regular-expression characters)")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help="how long each --expect may wait (default %(default)g)")

    g = p.add_argument_group("display and recording")
    m = g.add_mutually_exclusive_group()
    m.add_argument("--raw", action="store_true",
                   help="show received bytes unchanged (default: CRLF, CR and LF from the "
                        "board each end a line)")
    m.add_argument("--timestamps", action="store_true",
                   help="start each received line with [HH:MM:SS.mmm], on screen and in "
                        "the log")
    g.add_argument("--log", metavar="FILE", type=Path,
                   help="record everything received in FILE (byte for byte; with "
                        "--timestamps, as text with a time per line); overwritten")

    cli.add_output_options(p, quiet_help="errors only: no transcript, no banner",
                           verbose_help="more messages (each step, connection details)")
    return p


def _run_steps(console: Console, steps: list, timeout: float) -> None:
    for kind, value in steps:
        if kind == "send":
            log.info("sending %r", value)
            console.write_line(value)
        elif kind == "send_bytes":
            log.info("sending bytes %r", value)
            console.write(_unescape(value))
        elif kind == "expect":
            match = console.expect(value, timeout)
            log.info("matched %r: %r", value, match.group(0))
        elif kind == "expect_exact":
            console.expect_exact(value, timeout)
            log.info("matched %r", value)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cli.setup_logging("console", args)
    scripted = bool(args.steps)

    for kind, value in args.steps:
        if kind == "expect":
            try:
                re.compile(value)
            except re.error as e:
                print(f"console: --expect {value!r} is not a valid regular expression "
                      f"({e}); use --expect-exact for literal text", file=sys.stderr)
                return 1
    if args.timeout <= 0:
        print("console: --timeout must be more than 0 seconds", file=sys.stderr)
        return 1

    out = sys.stdout.buffer
    out_lock = threading.Lock()
    display = _Display(raw=args.raw, timestamps=args.timestamps)

    def show(data: bytes) -> None:
        text = display.feed(data)
        if text:
            with out_lock:
                try:
                    out.write(text)
                    out.flush()
                except (OSError, ValueError):
                    pass                 # stdout closed: keep logging, keep going

    def show_typed(data: bytes) -> bytes:
        return data if args.raw else _NEWLINE.sub("\n", data.decode(errors="replace")).encode()

    state = {}

    # The board may print the moment the connection is up, before the header below is
    # out: what arrives until then is held and shown right after it, in order.
    header = not args.quiet and not scripted
    held: list[bytes] = []
    header_lock = threading.Lock()

    def show_after_header(data: bytes) -> None:
        with header_lock:
            if "shown" not in state:
                held.append(data)
                return
        show(data)

    def run() -> int:
        console = state["console"] = Console(
            args.url, args.baudrate, timeout=args.timeout, eol=args.eol, log=args.log,
            timestamps=args.timestamps, wait=args.wait,
            on_receive=(show_after_header if header else
                        None if args.quiet and scripted else show))
        if scripted:
            _run_steps(console, args.steps, args.timeout)
            return 0
        if header:
            print(f"--- console on {args.url} | quit: Ctrl-] | Enter sends {args.eol}"
                  f"{' | local echo' if args.echo else ''} ---", file=sys.stderr, flush=True)
            with header_lock:
                for data in held:
                    show(data)
                state["shown"] = True
        rc = interact(console, out, echo=args.echo, show=show_typed)
        if not args.quiet:
            print("\r\n--- exit ---", file=sys.stderr, flush=True)
        return rc

    def interrupted() -> int:
        if scripted:
            print("console: interrupted before the script finished", file=sys.stderr)
            return 1
        return 0

    def close() -> None:
        if "console" in state:
            state["console"].close()

    return cli.run("console", run, errors=(ConsoleError,), debug=args.debug,
                   interrupted=interrupted, cleanup=close)


if __name__ == "__main__":
    sys.exit(main())
