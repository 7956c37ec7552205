"""Robot Framework keywords for the STM32F4 SSL/TLS emulation lab (see the class docstring)."""

import fnmatch
import functools
import html
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
from robot.utils import DotDict, secs_to_timestr

_TREE = Path(__file__).resolve().parents[2]
# The host tools of this checkout, even when another checkout is pip-installed (-e): the
# library and the firmware it boots must come from the same tree. (Installed, this file is
# the package stm32lab_robot and the host tools are the installed ones.)
if (_TREE / "host_tools" / "__init__.py").exists() and str(_TREE) not in sys.path:
    sys.path.insert(0, str(_TREE))

from host_tools import certs, lab, paths  # noqa: E402
from host_tools.board import Board, BoardError  # noqa: E402
from host_tools.lab_dns import DnsError, LabDns, parse_names  # noqa: E402
from host_tools.certs import CertsError  # noqa: E402
from host_tools.console import Console, ConsoleError, ConsoleTimeout  # noqa: E402
from host_tools.ssl_client import FetchError, fetch  # noqa: E402
from host_tools.ssl_server import SslServer, SslServerError  # noqa: E402

__version__ = "0.1.0"

# Relative paths in keyword arguments are tried from here too: the checkout's root, or the
# current directory when the library is installed without one.
TOP = paths.checkout() or Path.cwd()

# ${BOARD} values -> QEMU machines (the firmware's BOARD= names).
BOARDS = {m.short: m.name for m in lab.MACHINES.values()}
# ${FIRMWARE_VARIANT} values -> the firmware build's HW_CRYPTO= switch.
VARIANTS = {"HW": 1, "HARDWARE": 1, "SW": 0, "SOFTWARE": 0}
# ${CERT_KIND} values -> the key type in the lab PKI's file names (server-rsa, board-ec).
CERT_KINDS = {"RSA": "rsa", "ECDSA": "ec", "EC": "ec"}

PROMPT = ">>> "
_NEXT_PROMPT = re.compile(r"\A>>> |\r\n>>> ")
TRACEBACK = "Traceback (most recent call last):"
FAILURE_LINES = 8        # console lines attached to a failure message
LOG_TAIL_LINES = 200     # console / server lines embedded in the log by Collect Board Logs
LED_POLL = 0.01          # seconds between LED reads (QMP round trip is well under that)

_FAILURES = (AssertionError, BoardError, ConsoleError, SslServerError, FetchError, CertsError,
             TimeoutError)
_LINES_MARK = "Last console lines"


class _NoBoard(AssertionError):
    """A keyword needs a board and none is running."""


def _reports_failures(method):
    """Turn the host tools' errors into AssertionErrors with the last UART lines attached,
    so every failing keyword says what it expected, what it saw and what the board printed."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _FAILURES as error:
            message = str(error) or type(error).__name__
            if _LINES_MARK not in message and not isinstance(error, _NoBoard):
                message += self._failure_context()
            raise AssertionError(message) from None

    return wrapper


def _secs(value: "timedelta | None", default: float) -> float:
    return default if value is None else value.total_seconds()


def _timestr(seconds: float) -> str:
    return secs_to_timestr(seconds)


def _line_pattern(content: str, regex: bool, unfinished: bool = False,
                  next_line: bool = False) -> "re.Pattern":
    """A complete line containing content (or matching the regex), as group "line"; the
    regex's own groups follow. In a regex, a leading ^ anchors to the start of the line
    and a trailing $ to its end. ``unfinished``: the line's end need not have arrived;
    ``next_line``: only the next line with text (blank lines are skipped)."""
    body, start, end = (content if regex else re.escape(content)), r"[^\r\n]*", r"[^\r\n]*"
    if regex and body.startswith("^"):
        body, start = body[1:], r"(?:(?<=[\r\n])|\A)"
    if regex and body.endswith("$") and not body.endswith("\\$"):
        body, end = body[:-1], ""
    if next_line:
        start = ""
    stop = r"(?=\r\n|\r|\n|\Z)" if unfinished else r"(?=\r\n|\r|\n)"
    lead = r"\A[\r\n]*" if next_line else ""
    return re.compile(rf"{lead}(?P<line>{start}(?:{body}){end}){stop}")


# The next line with text: what a previous match left (its line end, blank lines) skipped
_NEXT_LINE = re.compile(r"\A[\r\n]*(?P<line>[^\r\n]+)(?=\r\n|\r|\n)")


class UartResult(str):
    """What the UART waits return: the line (a string, so ``Should Contain`` and friends
    work on it) with Renode's TerminalTesterResult attributes ``Line``, ``Groups`` and
    ``Timestamp``."""

    def __new__(cls, value: str, groups=(), timestamp: float = 0.0, line: str | None = None):
        obj = super().__new__(cls, value)
        obj.Line = value if line is None else line
        obj.Groups = [g if g is not None else "" for g in groups]
        obj.Timestamp = timestamp
        return obj


def _cpu_running(board: Board) -> bool:
    status = getattr(board.engine, "status", None)     # QEMU engine: QMP query-status
    return status() == "running" if status else True


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "x"


def _free_loopback_port(taken) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            return port


@library(scope="SUITE", version=__version__, doc_format="ROBOT", auto_keywords=False)
class Stm32Lab:
    """Keywords that boot the emulated STM324xG-EVAL board, talk to its UART, watch its
    LEDs and Ethernet link, and run the PC side of the SSL/TLS demo.

    The library sits on the lab's host tools (``host_tools/``): the board launcher
    (``board.py``, QEMU with the lab's STM32F4 models), the UART console (``console.py``),
    the PC SSL server (``ssl_server.py``), the HTTPS client standing in for the web browser
    (``ssl_client.py``) and the test PKI maker (``certs.py``). Keyword names follow
    Renode's where the meaning is the same (`Create Terminal Tester`, `Wait For Line On
    Uart`, `Write Line To Uart`, `Start Emulation`), so suites read the same for people
    who know Renode.

    == Table of contents ==

    %TOC%

    = Boards and firmware =

    `Create Board` starts QEMU with the CPU held, `Create Terminal Tester` attaches to a
    UART, and `Start Emulation` lets the CPU run: the tester sees the firmware's output
    from the first byte. `Start Emulation` alone does all three with the defaults.

    | *board* | *machine*        | *chip*       |
    | F417    | ``stm324xg-eval``  | STM32F417IG (CRYP v1, HASH without SHA-224/256) |
    | F439    | ``stm324x9i-eval`` | STM32F439NI (CRYP v2 with GCM/CCM, HASH with SHA-224/256) |

    The firmware defaults to the lab's MicroPython build for the board,
    ``make -s -C firmware print-elf BOARD=<machine> HW_CRYPTO=<1|0>``:
    variant ``HW`` is the hardware-crypto build (``firmware/build-<machine>/firmware.elf``),
    ``SW`` the software-crypto build of the same firmware (``HW_CRYPTO=0``). Any other ELF
    can be given with ``firmware=``. The defaults come from the library import
    (``board``, ``firmware_variant``, ``cert_kind``, ``timeout``); `board.resource`
    passes ``${BOARD}``, ``${FIRMWARE_VARIANT}``, ``${CERT_KIND}`` and ``${UART_TIMEOUT}``,
    so ``robot -v BOARD:F439 -v FIRMWARE_VARIANT:SW ...`` switches a whole run.

    = Network =

    The board sits on QEMU's restricted user-mode network (192.168.0.0/24, board
    192.168.0.10, PC 192.168.0.1); every forward is on 127.0.0.1.

    - Board to PC: the board's connections to 192.168.0.1:443 reach the PC SSL server.
      The library picks the PC-side port (a free 127.0.0.1 port) the first time either
      `Create Board` or `Start PC SSL Server` needs it and uses it for both, so the server
      may be started before or after the board. Other guest ports must be given to
      `Start PC SSL Server` before `Create Board`.
    - PC to board: the board's port 443 (its HTTPS server) is forwarded from a free
      127.0.0.1 port; `Fetch Board Page` uses it, `Get Forwarded Port` returns it.

    Nothing here talks to any address but loopback.

    = Board applications =

    At power-on the firmware runs the application its *config flash sector*
    (0x080E0000) asks for: ST's SSL client demo, the HTTPS server demo, or the REPL
    (``firmware/README.md``, "The board applications"). `Create Board` fills the sector
    from its ``role`` and ``config`` arguments and any other named argument, which is a
    config key (``dhcp``, ``ip``, ``server_ip``, ``server_port``, ``server_name``,
    ``path``, ``period``, ``port``, ``client_auth``, ``blink_ms``, ``dhcp_timeout``,
    ``time``, ``ca``, ``cert``, ``key``, ``mac``, ``netmask``, ``gateway``):

    | *argument* | *meaning* |
    | ``role``   | ``client``, ``server`` or ``repl``; with a role, ``ca`` defaults to the lab CA and, for ``server``, ``cert``/``key`` to the board's certificate of the library's ``cert_kind`` |
    | ``config`` | a file of ``key=value`` lines and PEM blocks, loaded first (the launcher's ``--config``) |
    | ``ca``, ``cert``, ``key`` | ``RSA`` or ``ECDSA`` (the lab's ``board-rsa``/``board-ec``), a lab PKI name (``ca``, ``untrusted-ca``, ``client-ec``, ...), a PEM file, or ``none`` |
    | others | written as ``key=value``; True/False become on/off |

    Without any of them nothing is loaded into the sector and the firmware starts the
    REPL at once, as `Start Emulation` and the smoke suite expect. For ``role=server`` the
    board's ``port`` (443 unless set) is forwarded from 127.0.0.1 (`Get Forwarded Port`).

    | Create Board    role=client    period=3
    | Create Board    role=server    cert=ECDSA    client_auth=required

    = Failures and logs =

    A failing keyword raises an AssertionError whose message says what was expected and
    what was seen, followed by the last lines the board printed on its console.

    Every board keeps its console log, the emulator's stderr and a pcap of its Ethernet
    traffic in ``<output dir>/stm32lab-logs/<suite>/<test>/``; a PC SSL server writes its
    log there too. `Collect Board Logs` embeds the console and server logs in the Robot
    log and links the files (``board.resource`` has `Collect Logs On Failure` for test
    teardowns). `Clean Up Lab` stops everything the library started; the library also
    does it by itself when its suite ends, so a forgotten teardown leaks no process.

    = Renode compatibility =

    Keywords that Renode's ``renode-keywords.robot`` also has take Renode's arguments:
    the same names (camelCase: ``testerId``, ``treatAsRegex``, ``waitForEcho``,
    ``pauseEmulation``, ...), in the same order, with Renode's defaults
    (``waitForEcho`` is true), and return what Renode returns: `Create Terminal Tester`
    and `Create LED Tester` a tester id, the UART waits a result with ``${r.Line}``,
    ``${r.Groups}`` and ``${r.Timestamp}`` (which is also the line as a string, so older
    suites that compare it keep working). UARTs go by Renode's names too
    (``sysbus.usart3``), LEDs by the names of ``platforms/*.repl``
    (``sysbus.gpioPortC.led4``). This library's older argument names (``uart``,
    ``treat_as_regex``, ``wait_for_echo``) are still accepted, named only.

    | *Renode keyword*             | *here* |
    | Create Terminal Tester       | yes; ``endLineOption`` accepted (lines end at CR, LF or CRLF), no ``binaryMode`` |
    | Wait For Line On Uart        | yes, with ``includeUnfinishedLine``, ``matchNextLine``, ``pauseEmulation`` |
    | Wait For Next Line On Uart, Wait For Prompt On Uart, Write Line To Uart, Write To Uart, Write Char On Uart, Should Not Be On Uart, Test If Uart Is Idle, Set Default Uart Timeout, Set Default Tester | yes |
    | Create LED Tester, Assert LED State, Assert LED Is Blinking | yes; times are host time (Renode: virtual time), so blink periods need a tolerance for a loaded host |
    | Provides, Requires           | yes, type Serialization: a QEMU snapshot (migration stream to a file) restored into a new QEMU |
    | Start Emulation, Reset Emulation | yes (Reset stops the board) |
    | Execute Command, Execute Script, network and log testers | no: the board is made with `Create Board`; a Renode suite makes it with ``Execute Script  renode/stm324xg_eval.resc`` |

    ``pauseEmulation`` pauses QEMU once the wait matched, not at the exact instruction;
    the next UART or LED keyword lets it run again. Nothing here was run on Renode itself
    (it cannot be installed on the lab's machines): the compatibility is checked against
    Renode 1.16's keyword signatures (``tests/test_robot_library.py``).

    = Time format =

    Timeouts use Robot Framework's time format: ``10``, ``1.5 s``, ``2 minutes``,
    ``500 ms``. An empty timeout means the library default (``timeout`` import argument,
    10 seconds unless given).

    = Example =

    A suite that runs as is from the repository root (``make baremetal`` builds the ELF):

    | *** Settings ***
    | Library           robot/libraries/Stm32Lab.py
    | Suite Teardown    Clean Up Lab
    |
    | *** Test Cases ***
    | Board Prints Its Clock, Echoes Input And Blinks LED4
    |     Create Board              firmware=tests/baremetal/build/hello.elf
    |     ${id}=                    Create Terminal Tester    sysbus.usart3    timeout=10
    |     Start Emulation
    |     ${r}=                     Wait For Line On Uart    SYSCLK (\\\\d+) Hz    treatAsRegex=true
    |     Should Be Equal           ${r.Groups[0]}    168000000
    |     Write Line To Uart        ping    testerId=${id}
    |     ${led}=                   Create LED Tester    sysbus.gpioPortC.led4    defaultTimeout=2
    |     Assert LED State          true
    |     Assert LED State          false
    |     [Teardown]                Reset Emulation

    Save it as ``example.robot`` and run ``robot example.robot``. Apart from how the
    board is made, the test reads the same as a Renode suite: see `Renode compatibility`.
    With the MicroPython firmware (the default):

    | Start Emulation
    | Wait For Prompt On Uart
    | ${out}=    Execute Python Command    print(6*7)
    | Should Be Equal    ${out}    42
    """

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, board: str = "F417", firmware_variant: str = "HW",
                 cert_kind: str = "RSA", timeout: timedelta = timedelta(seconds=10),
                 log_dir: str | None = None):
        """``board`` is F417 or F439, ``firmware_variant`` HW or SW, ``cert_kind`` RSA or
        ECDSA: the defaults of `Create Board` and `Start PC SSL Server`. ``timeout`` is
        the default for UART and LED waits. ``log_dir`` is where board and server logs go
        (default ``<output dir>/stm32lab-logs``)."""
        self.ROBOT_LIBRARY_LISTENER = self
        self._default_board = self._machine(board)
        self._default_variant = self._variant(firmware_variant)
        self._default_cert_kind = self._cert_kind(cert_kind)
        self._timeout = timeout.total_seconds()
        self._log_root = Path(log_dir) if log_dir else None
        self._board: Board | None = None
        self._board_dir: Path | None = None
        self._board_logs: dict = {}         # the last board's log files, kept after it stops
        self._testers: dict = {}            # UART name -> Console
        self._tester_timeouts: dict = {}    # UART name -> default timeout (seconds)
        self._tester_ids: list = []         # Renode tester id -> UART name
        self._tester_options: dict = {}     # UART name -> Renode's default... options
        self._tester_started: dict = {}     # UART name -> time of creation (Timestamp)
        self._paused_by_wait = False        # a pauseEmulation match holds the CPU
        self._led_testers: list = []        # Renode LED tester id -> (LED, timeout s)
        self._states: dict = {}             # Provides name -> (snapshot file, board args)
        self._state_dir: Path | None = None
        self._board_args: dict | None = None
        self._default_uart = "console"
        self._pc_ports: dict = {}           # board guest port -> 127.0.0.1 port of the PC side
        self._servers: dict = {}            # board guest port -> SslServer
        self._dns = None                    # the lab DNS resolver (Start Lab DNS)
        self._server_logs: dict = {}        # board guest port -> log file (kept after stop)
        self._server_lines: dict = {}       # board guest port -> console lines (kept)
        self._pki: Path | None = None
        self._firmware_cache: dict = {}
        self._board_dirs: set = set()

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def _machine(board: str) -> str:
        key = str(board).strip()
        if key.upper() in BOARDS:
            return BOARDS[key.upper()]
        if key.upper().startswith("STM32") and key.upper()[5:] in BOARDS:
            return BOARDS[key.upper()[5:]]
        if key.lower() in BOARDS.values():
            return key.lower()
        raise AssertionError(f"Unknown board '{board}'; expected one of "
                             f"{', '.join(BOARDS)} (or {', '.join(BOARDS.values())}).")

    @staticmethod
    def _variant(variant: str) -> int:
        key = str(variant).strip().upper()
        if key not in VARIANTS:
            raise AssertionError(f"Unknown firmware variant '{variant}'; expected HW "
                                 f"(hardware crypto) or SW (software crypto).")
        return VARIANTS[key]

    @staticmethod
    def _cert_kind(kind: str) -> str:
        key = str(kind).strip().upper()
        if key not in CERT_KINDS:
            raise AssertionError(f"Unknown certificate kind '{kind}'; expected RSA or ECDSA.")
        return CERT_KINDS[key]

    @staticmethod
    def _robot_var(name: str, default=None):
        try:
            return BuiltIn().get_variable_value(name, default)
        except RobotNotRunningError:
            return default

    def _new_log_dir(self, what: str) -> Path:
        """<root>/<suite>/<test>/ (or <suite>/suite-setup/): one directory per test for
        its board and PC server logs; a second board in the same test gets <test>-2/."""
        root = self._log_root
        if root is None:
            out = self._robot_var("${OUTPUT DIR}")
            root = Path(out) / "stm32lab-logs" if out else Path.cwd() / "stm32lab-logs"
        suite = _safe_name(self._robot_var("${SUITE NAME}", "suite"))
        test = _safe_name(self._robot_var("${TEST NAME}", "suite-setup"))
        path = root / suite / test
        if what == "board":
            for n in itertools.count(2):
                if path not in self._board_dirs:
                    break
                path = root / suite / f"{test}-{n}"
            self._board_dirs.add(path)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _require_board(self) -> Board:
        if self._board is None or not self._board.is_running():
            if self._board is not None:
                raise AssertionError("The board is not running any more (the emulator "
                                     "exited); see the console and stderr logs.")
            raise _NoBoard("No board is running; start one with Create Board or "
                           "Start Emulation first.")
        return self._board

    def _tester(self, uart: str | None) -> Console:
        name = self._uart_name(uart) if uart else self._default_uart
        if name not in self._testers:
            self._require_board()
            raise _NoBoard(f"No terminal tester on UART '{name}'; use Create Terminal "
                           f"Tester {name} (Start Emulation makes one on the console).")
        return self._testers[name]

    def _wait_secs(self, timeout, uart: str | None) -> float:
        name = self._uart_name(uart) if uart else self._default_uart
        return _secs(timeout, self._tester_timeouts.get(name, self._timeout))

    def _last_console_lines(self, n: int = FAILURE_LINES) -> list:
        tester = self._testers.get("console")
        if tester is not None:
            return tester.last_lines(n)
        path = self._board_logs.get("console")
        try:
            text = Path(path).read_text(errors="replace") if path else ""
        except OSError:
            return []
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[-n:]

    def _failure_context(self) -> str:
        if self._board is None and not self._board_logs:
            return ""
        lines = [line for line in self._last_console_lines() if line.strip()]
        if not lines:
            return f"\n{_LINES_MARK}: (nothing printed)"
        return f"\n{_LINES_MARK}:\n" + "\n".join(f"    {line}" for line in lines)

    def _pc_port(self, guest_port: int) -> int:
        if guest_port not in self._pc_ports:
            self._pc_ports[guest_port] = _free_loopback_port(set(self._pc_ports.values()))
        return self._pc_ports[guest_port]

    def _pki_dir(self) -> Path:
        if self._pki is None:
            self.ensure_test_pki()
        return self._pki

    def _link(self, path: Path) -> str:
        """An HTML link to path, relative to the log file when there is one."""
        target = Path(path).resolve()
        log_file = self._robot_var("${LOG FILE}")
        href = target.as_uri()
        if log_file and log_file != "NONE":
            href = os.path.relpath(target, Path(log_file).resolve().parent)
        return f'<a href="{html.escape(href)}">{html.escape(target.name)}</a>'

    @staticmethod
    def _pre(title: str, text: str) -> str:
        return (f"<b>{html.escape(title)}</b><pre style=\"max-height:30em;overflow:auto\">"
                f"{html.escape(text)}</pre>")

    def firmware_for(self, machine: str, hw_crypto: int) -> Path:
        """The firmware ELF path the firmware's Makefile reports (not a keyword)."""
        key = (machine, hw_crypto)
        if key not in self._firmware_cache:
            if paths.checkout() is None:
                raise AssertionError("The lab's firmware is built in a checkout ('make "
                                     "firmware'); pass firmware=PATH.")
            cmd = ["make", "-s", "--no-print-directory", "-C", str(TOP / "firmware"), "print-elf",
                   f"BOARD={machine}", f"HW_CRYPTO={hw_crypto}"]
            try:
                result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.SubprocessError) as e:
                raise AssertionError(f"Cannot ask the firmware Makefile for the ELF path "
                                     f"({e}); pass firmware=PATH.") from None
            lines = result.stdout.strip().splitlines()
            if result.returncode != 0 or not lines:
                raise AssertionError(f"'{' '.join(cmd[1:])}' failed: "
                                     f"{result.stderr.strip()[-300:]}; pass firmware=PATH.")
            self._firmware_cache[key] = Path(lines[-1])
        path = self._firmware_cache[key]
        if not path.exists():
            raise AssertionError(f"Firmware {path} is not built; run 'make -C firmware "
                                 f"BOARD={machine} HW_CRYPTO={hw_crypto}' (or 'make "
                                 f"firmware'), or pass firmware=PATH.")
        return path

    def _pem_setting(self, key: str, value) -> "Path | None":
        """A ca/cert/key value: RSA/ECDSA (the board's lab certificate and key), a lab PKI
        stem (ca, untrusted-ca, client-rsa, ...), a file path, or none."""
        text = str(value).strip()
        if text.lower() in ("", "none", "no"):
            return None
        pki = self._pki_dir()
        if text.upper() in CERT_KINDS:
            stem = f"board-{self._cert_kind(text)}"
            return certs.key_path(stem, pki) if key == "key" else certs.path(stem, pki)
        candidate = Path(text)
        if candidate.exists():
            return candidate
        if (TOP / candidate).exists():
            return TOP / candidate
        try:
            return certs.key_path(text, pki) if key == "key" else certs.path(text, pki)
        except CertsError:
            raise AssertionError(f"Config {key}={text}: expected RSA, ECDSA, a lab PKI name "
                                 f"(ca, untrusted-ca, client-rsa, ...) or a PEM file, but "
                                 f"found none of these.") from None

    def _board_config(self, role, config, settings) -> tuple:
        """(config_blob, config dict) for Board, or (None, None): nothing in the sector."""
        if role is None and config is None and not settings:
            return None, None
        blob = None
        if config:
            file = Path(config)
            if not file.exists() and (TOP / file).exists():
                file = TOP / file
            try:
                blob = file.read_bytes()
            except OSError as e:
                raise AssertionError(f"Expected a config file (key=value lines) at "
                                     f"'{config}', but it cannot be read: {e.strerror}.") from None
        items: dict = {}
        if role is not None:
            items["role"] = str(role).lower()
            if items["role"] not in ("client", "server", "repl"):
                raise AssertionError(f"role '{role}' is not client, server or repl.")
            # the lab's PKI unless the settings say otherwise: the CA the board trusts, and
            # for the server its certificate and key of the library's certificate kind
            settings = {"ca": "ca", **settings}
            if items["role"] == "server":
                kind = settings.get("cert", self._default_cert_kind)
                settings = {"cert": kind, "key": settings.get("cert", kind), **settings}
        for key, value in settings.items():
            if key in ("ca", "cert", "key"):
                value = self._pem_setting(key, value)
            elif isinstance(value, bool):
                value = "on" if value else "off"
            items[key] = value
        return blob, items

    # --- board life cycle -------------------------------------------------------------

    @keyword("Create Board")
    @_reports_failures
    def create_board(self, firmware: str | None = None, board: str | None = None,
                     firmware_variant: str | None = None, deterministic: bool = False,
                     seed: int = 1, pcap: bool = True, hostfwd: list | None = None,
                     extra_uarts: list | None = None, role: str | None = None,
                     config: str | None = None, **settings) -> str:
        """Starts the emulated board with the CPU held until `Start Emulation`.

        ``firmware`` is an ELF path (relative paths are taken from the current directory,
        then from the repository root); empty means the lab's MicroPython build for
        ``board`` (F417, F439 or F411, the Nucleo) and ``firmware_variant`` (HW or SW;
        the Nucleo has SW only), see `Boards and firmware`. ``deterministic`` counts
        instructions instead of real time and seeds the RNG with ``seed``. ``pcap``
        records the Ethernet traffic (default: on, except on the Nucleo, whose W5100
        carries sockets, not frames). ``hostfwd`` lists
        the board ports to forward from 127.0.0.1 (default: 443). ``extra_uarts`` exposes
        more UARTs by name (usart1, usart2, usart3, usart6: the ones that are not the
        board's console) for `Create Terminal Tester`.

        Board-to-PC forwards are set up for 443 and for every guest port a PC server was
        started for, see `Network`. Returns the firmware path. Fails if a board is
        already running (use `Reset Emulation` first).

        ``role``, ``config`` and any other named argument fill the *config flash sector*
        the firmware's applications read at power-on (see `Board applications`); without
        them nothing is loaded there and the firmware goes straight to the REPL.

        | Create Board
        | Create Board    firmware=tests/baremetal/build/hello.elf
        | Create Board    board=F439    firmware_variant=SW    deterministic=True
        | Create Board    role=client    period=5
        | Create Board    role=server    cert=ECDSA    client_auth=required
        | Create Board    role=client    ca=untrusted-ca    dhcp=on
        """
        if self._board is not None:
            raise AssertionError("A board is already running; use Reset Emulation before "
                                 "creating another.")
        machine = self._machine(board) if board else self._default_board
        spec = lab.machine(machine)
        if firmware:
            path = Path(firmware)
            if not path.is_absolute() and not path.exists() and (TOP / path).exists():
                path = TOP / path
        else:
            variant = (self._variant(firmware_variant) if firmware_variant
                       else self._default_variant)
            if not spec.crypto:
                if firmware_variant and variant:
                    raise AssertionError(f"{spec.board} has no CRYP/HASH: use "
                                         f"firmware_variant=SW (its only firmware).")
                variant = 0
            path = self.firmware_for(machine, variant)
        config_blob, config_items = self._board_config(role, config, settings)
        guest_ports = sorted({443, *self._pc_ports})
        guestfwd = [f"{g}:{self._pc_port(g)}" for g in guest_ports]
        if hostfwd is None:
            hostfwd = [int((config_items or {}).get("port") or 443)]
        hostfwd = [f"0:{int(p)}" for p in hostfwd]
        self._board_args = dict(machine=machine, guestfwd=guestfwd, hostfwd=hostfwd,
                                deterministic=deterministic, seed=seed,
                                extra_uarts=tuple(extra_uarts or ()),
                                config_blob=config_blob, config=config_items)
        board_obj = self._start_board(path, pcap)
        log_dir = self._board_dir
        self._board_logs = {**board_obj.logs()}
        if pcap:
            self._board_logs["pcap"] = log_dir / "net.pcap"
        forwards = ", ".join(
            [f"board {f.guest_port} <- 127.0.0.1:{f.host_port}" for f in board_obj.hostfwds()]
            + [f"board -> 192.168.0.1:{g} -> 127.0.0.1:{self._pc_ports[g]}"
               for g in guest_ports])
        logger.info(f"Board {machine} with {path} (QEMU pid {board_obj.pid}), CPU held; "
                    f"forwards: {forwards}; logs in {log_dir}")
        if config_items is not None or config_blob is not None:
            shown = {k: (Path(v).name if isinstance(v, Path) else v)
                     for k, v in (config_items or {}).items()}
            logger.info(f"Config sector: {shown}"
                        + (f" after the {len(config_blob)} bytes of {config}" if config else ""))
        return str(path)

    def _start_board(self, path: Path, pcap: bool, extra_args=()) -> Board:
        """Start a board from self._board_args with the CPU held; it becomes the board."""
        log_dir = self._new_log_dir("board")
        board_obj = Board(path, pcap=log_dir / "net.pcap" if pcap else None, log_dir=log_dir,
                          extra_args=tuple(extra_args), **self._board_args)
        board_obj.start(paused=True)
        self._board, self._board_dir, self._board_pcap = board_obj, log_dir, pcap
        self._board_path = path
        return board_obj

    @keyword("Start Emulation")
    @_reports_failures
    def start_emulation(self):
        """Lets the board's CPU run.

        Creates the board with the defaults first if `Create Board` was not called, and a
        terminal tester on the console if `Create Terminal Tester` was not, so the console
        is read from the first byte either way. Does nothing to a board already running.
        """
        if self._board is None:
            self.create_board()
        if "console" not in self._testers:
            self.create_terminal_tester("console")
        board = self._require_board()
        if not _cpu_running(board):
            board.resume()
            logger.info("Emulation started.")

    @keyword("Reset Emulation")
    def reset_emulation(self):
        """Stops the board and closes its terminal testers (Renode's keyword of the same
        name also removes the machine). PC SSL servers keep running; `Clean Up Lab` stops
        everything. Safe to call when nothing runs: use it in test teardowns."""
        for name, tester in list(self._testers.items()):
            tester.close()
        self._testers.clear()
        self._tester_timeouts.clear()
        self._tester_ids.clear()
        self._tester_options.clear()
        self._tester_started.clear()
        self._led_testers.clear()
        self._paused_by_wait = False
        self._default_uart = "console"
        board, self._board = self._board, None
        if board is not None:
            pid = board.pid
            rc = board.stop()
            logger.info(f"Board stopped (QEMU pid {pid}, exit status {rc}).")

    @keyword("Provides")
    @_reports_failures
    def provides(self, state: str, type: str = "Serialization"):
        """Saves the board's whole state as ``state`` for `Requires` in later tests of the
        suite (Renode's snapshot chaining). The CPU is paused while QEMU writes the snapshot
        (its migration stream to a file: the board has no disk for ``savevm``) and runs on
        afterwards if it was running. Only Renode's default ``type`` (Serialization) is
        supported.

        | Provides    booted-repl
        """
        if str(type).lower() != "serialization":
            raise AssertionError(f"Provides type '{type}' is not supported; only "
                                 f"Serialization (a QEMU snapshot).")
        board = self._require_board()
        qmp = getattr(board.engine, "qmp", None)
        if qmp is None:
            raise AssertionError("Provides needs the QEMU engine (snapshots through QMP).")
        if self._state_dir is None:
            self._state_dir = Path(tempfile.mkdtemp(prefix="stm32lab-states-"))
        path = self._state_dir / f"{_safe_name(state)}.migration"
        path.unlink(missing_ok=True)
        running = _cpu_running(board)
        if running:
            board.pause()
        try:
            qmp("migrate", uri=f"file:{path}")
            status = self._migration_done(qmp, "saving")
        finally:
            if running:
                board.resume()
        testers = [(name, self._tester_timeouts.get(name), self._tester_options.get(name))
                   for name in self._tester_ids]
        self._states[state] = (path, dict(self._board_args), self._board_path,
                               self._board_pcap, testers)
        logger.info(f"State '{state}' saved ({path.stat().st_size} bytes, {status}).")

    @staticmethod
    def _migration_done(qmp, what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            info = qmp("query-migrate")
            status = info.get("status", "")
            if status == "completed":
                return status
            if status in ("failed", "cancelled"):
                raise AssertionError(f"QEMU failed {what} the snapshot: "
                                     f"{info.get('error-desc', status)}.")
            if time.monotonic() > deadline:
                raise AssertionError(f"QEMU did not finish {what} the snapshot within "
                                     f"{_timestr(timeout)} (status {status or 'none'}).")
            time.sleep(0.05)

    @keyword("Requires")
    @_reports_failures
    def requires(self, state: str):
        """Replaces the board with the state a previous test saved with `Provides`: a new
        QEMU with the same firmware and options takes the snapshot, paused (`Start
        Emulation` lets it run), with the terminal testers of the providing test (same
        ids) attached. Fails if no test provided ``state`` (did it pass?).

        | Requires    booted-repl
        | Start Emulation
        | Write Line To Uart    print(6*7)
        """
        if state not in self._states:
            raise AssertionError(f"No state '{state}' was provided in this suite (a test "
                                 f"must run Provides {state} and pass first); provided: "
                                 f"{', '.join(self._states) or 'none'}.")
        path, args, firmware, pcap, testers = self._states[state]
        self.reset_emulation()
        self._board_args = dict(args)
        board = self._start_board(firmware, pcap, extra_args=("-incoming", "defer"))
        self._board_logs = {**board.logs()}
        for name, timeout, options in testers:
            options = options or {}
            self.create_terminal_tester(name, timedelta(seconds=timeout or self._timeout),
                                        defaultPauseEmulation=options.get("pause", False),
                                        defaultWaitForEcho=options.get("echo", True),
                                        defaultMatchNextLine=options.get("next", False),
                                        eol=options.get("eol", "CR"))
        board.engine.qmp("migrate-incoming", uri=f"file:{path}")
        self._migration_done(board.engine.qmp, "loading")
        logger.info(f"State '{state}' loaded into a new board (QEMU pid {board.pid}), "
                    f"CPU held.")

    @keyword("Clean Up Lab")
    def clean_up_lab(self):
        """Stops everything the library started: the board, its terminal testers and every
        PC SSL server. Safe to call twice; use it as the suite teardown. The library also
        calls it when its suite ends."""
        errors = []
        try:
            self.reset_emulation()
        except Exception as e:  # noqa: BLE001 - keep stopping the rest
            errors.append(f"board: {e}")
        for guest_port in list(self._servers):
            try:
                self._stop_server(guest_port)
            except Exception as e:  # noqa: BLE001
                errors.append(f"PC SSL server for {guest_port}: {e}")
        if self._dns is not None:
            self._dns.stop()
            self._dns = None
            self._pc_ports.pop(53, None)
        if errors:
            raise AssertionError("Clean-up was incomplete: " + "; ".join(errors))

    # library listener: clean up when the suite that owns this instance ends
    def _end_suite(self, data, result):
        self._quiet_cleanup()

    def _close(self):
        self._quiet_cleanup()

    def _quiet_cleanup(self):
        try:
            self.clean_up_lab()
        except Exception as e:  # noqa: BLE001 - a listener must not raise
            logger.warn(f"Stm32Lab clean-up: {e}")
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None
            self._states.clear()

    # --- UARTs ------------------------------------------------------------------------

    @keyword("Create Terminal Tester")
    @_reports_failures
    def create_terminal_tester(self, uart: str = "console", timeout: timedelta | None = None,
                               machine: str | None = None, endLineOption: str | None = None,
                               defaultPauseEmulation: bool = False,
                               defaultWaitForEcho: bool = True,
                               defaultMatchNextLine: bool = False, binaryMode: bool = False,
                               *, eol: str = "CR") -> int:
        """Attaches a terminal tester to ``uart`` and makes it the default for the UART
        keywords; returns its tester id (0, 1, ...) for their ``testerId`` argument.

        Renode's arguments, names and order: ``uart`` is ``console`` (the board's RS232
        console: USART3 on the STM324xG-EVAL, USART1 on the STM324x9I-EVAL) or a USART by
        Renode's name (``sysbus.usart3``) or ours (``usart3``). ``timeout`` is the default
        wait of the UART keywords on this tester. ``machine`` must be the board's machine
        name if given. ``endLineOption`` (``TreatLineFeedAsEndLine``,
        ``TreatCarriageReturnAsEndLine``) is accepted; a line ends at CR, LF or CRLF here
        either way. ``defaultPauseEmulation`` pauses the CPU when a wait matches (the next
        UART or LED keyword lets it run again), ``defaultWaitForEcho`` is the default of
        `Write Line To Uart` (true, as in Renode), ``defaultMatchNextLine`` that of `Wait
        For Line On Uart`. ``binaryMode`` is not supported. ``eol`` (ours, named only) is
        what `Write Line To Uart` ends lines with: CR (Enter, what the MicroPython REPL
        takes), LF or CRLF.

        Attach before `Start Emulation` to see the output from the first byte; attached to a
        running board, the tester sees output from now on (the console log still has all of
        it). Calling it again for the same UART keeps its id and updates its options.

        | ${id}=    Create Terminal Tester    sysbus.usart3    timeout=30
        | Create Terminal Tester    console    defaultWaitForEcho=false
        """
        board = self._require_board()
        if machine and machine != board.config.machine:
            raise AssertionError(f"No machine '{machine}' here; the board is "
                                 f"'{board.config.machine}'.")
        if binaryMode:
            raise AssertionError("binaryMode is not supported: the testers read text lines.")
        if endLineOption not in (None, "", "TreatLineFeedAsEndLine",
                                 "TreatCarriageReturnAsEndLine"):
            raise AssertionError(f"Unknown endLineOption '{endLineOption}'.")
        name = self._uart_name(uart)
        seconds = _secs(timeout, self._timeout)
        if name in self._testers:
            self._testers[name].eol = {"CR": "\r", "LF": "\n", "CRLF": "\r\n"}.get(
                eol.upper(), eol)
        else:
            self._testers[name] = Console(board.uart(name), timeout=seconds, eol=eol.upper())
            if _cpu_running(board):
                logger.info(f"Tester attached to {name} of a running board: it sees output "
                            f"from now on.")
        if name not in self._tester_ids:
            self._tester_ids.append(name)
        self._tester_timeouts[name] = seconds
        self._tester_options[name] = {"pause": bool(defaultPauseEmulation),
                                      "echo": bool(defaultWaitForEcho),
                                      "next": bool(defaultMatchNextLine), "eol": eol}
        self._default_uart = name
        tester_id = self._tester_ids.index(name)
        logger.info(f"Terminal tester {tester_id} on {name} ({board.uart(name)}), timeout "
                    f"{_timestr(seconds)}.")
        return tester_id

    def _uart_name(self, uart) -> str:
        """Renode's ``sysbus.usartN`` or ours (``console``, ``usartN``) -> tester name."""
        name = str(uart).strip().lower()
        if name.startswith("sysbus."):
            name = name[len("sysbus."):]
        spec = self._board.machine if self._board is not None \
            else lab.machine(self._default_board)
        return spec.uart_label(name) if name in spec.uarts else name

    def _resolve(self, testerId=None, uart: str | None = None) -> str:
        """The tester name for a Renode tester id (or our UART name, or the default)."""
        if testerId not in (None, ""):
            try:
                return self._tester_ids[int(testerId)]
            except (ValueError, IndexError):
                self._require_board()
                raise _NoBoard(f"No terminal tester with id {testerId}; Create Terminal "
                               f"Tester returns the ids ({len(self._tester_ids)} so far).")
        return self._uart_name(uart) if uart else self._default_uart

    def _resume_if_paused_by_wait(self):
        if self._paused_by_wait and self._board is not None:
            self._paused_by_wait = False
            self._board.resume()

    def _pause_after_match(self, name: str, pauseEmulation) -> None:
        pause = self._tester_options.get(name, {}).get("pause", False) \
            if pauseEmulation is None else bool(pauseEmulation)
        if pause:
            self._require_board().pause()
            self._paused_by_wait = True

    @keyword("Wait For Line On Uart")
    @_reports_failures
    def wait_for_line_on_uart(self, content: str, timeout: timedelta | None = None,
                              testerId: str | None = None, treatAsRegex: bool = False,
                              includeUnfinishedLine: bool = False,
                              pauseEmulation: bool | None = None,
                              matchNextLine: bool | None = None, *,
                              uart: str | None = None,
                              treat_as_regex: bool | None = None) -> UartResult:
        """Waits for a complete line that contains ``content`` and returns a result: the
        line itself (a string), with Renode's attributes ``${r.Line}``, ``${r.Groups}``
        (the regex groups) and ``${r.Timestamp}`` (seconds since the tester was created,
        host time).

        Renode's arguments, names and order: ``timeout`` defaults to the tester's;
        ``testerId`` picks a tester (default: the last one created); with ``treatAsRegex``
        the content is a Python regular expression searched in the line (a leading ``^``
        anchors it to the start of the line, a trailing ``$`` to the end; double
        backslashes in Robot data); ``includeUnfinishedLine`` also matches a line whose end
        has not arrived yet; ``pauseEmulation`` pauses the CPU at the match (until the next
        UART or LED keyword); ``matchNextLine`` requires the match to be the very next line.
        ``uart`` and ``treat_as_regex`` are this library's older names (named only).

        Lines before the match are consumed: the next wait starts after this line.

        | Wait For Line On Uart    hello from stm324xg-eval
        | ${r}=    Wait For Line On Uart    SYSCLK (\\d+) Hz    timeout=5    treatAsRegex=true
        | Should Be Equal    ${r.Groups[0]}    168000000
        """
        regex = treatAsRegex if treat_as_regex is None else treat_as_regex
        name = self._resolve(testerId, uart)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        seconds = self._wait_secs(timeout, name)
        next_only = self._tester_options.get(name, {}).get("next", False) \
            if matchNextLine is None else bool(matchNextLine)
        try:
            pattern = _line_pattern(content, regex, includeUnfinishedLine, next_only)
        except re.error as e:
            raise AssertionError(f"'{content}' is not a valid regular expression "
                                 f"({e}).") from None
        try:
            match = tester.expect(pattern, timeout=seconds)
        except ConsoleTimeout:
            what = "matching" if regex else "containing"
            where = "as the next line " if next_only else ""
            raise AssertionError(f"Expected a line {what} '{content}' {where}on {name} "
                                 f"within {_timestr(seconds)}, but none came.") from None
        result = self._result(name, match.group("line"), match.groups()[1:])
        self._pause_after_match(name, pauseEmulation)
        logger.info(f"Line: {result.Line}")
        return result

    def _result(self, name: str, line: str, groups=()) -> "UartResult":
        started = self._tester_started.setdefault(name, time.monotonic())
        return UartResult(line, groups, round(time.monotonic() - started, 6))

    @keyword("Wait For Next Line On Uart")
    @_reports_failures
    def wait_for_next_line_on_uart(self, timeout: timedelta | None = None,
                                   testerId: str | None = None,
                                   pauseEmulation: bool | None = None) -> UartResult:
        """Waits for the next complete line, whatever it says, and returns it as a result
        (see `Wait For Line On Uart`). After a `Wait For Line On Uart` it is the line that
        follows the matched one.

        | Write Line To Uart    print(6*7)
        | ${r}=    Wait For Next Line On Uart
        | Should Be Equal    ${r.Line}    42
        """
        name = self._resolve(testerId)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        seconds = self._wait_secs(timeout, name)
        try:
            match = tester.expect(_NEXT_LINE, timeout=seconds)
        except ConsoleTimeout:
            raise AssertionError(f"Expected a line on {name} within {_timestr(seconds)}, "
                                 f"but none came.") from None
        result = self._result(name, match.group("line"))
        self._pause_after_match(name, pauseEmulation)
        logger.info(f"Line: {result.Line}")
        return result

    @keyword("Should Not Be On Uart")
    @_reports_failures
    def should_not_be_on_uart(self, content: str, timeout: timedelta | None = None,
                              testerId: str | None = None, treatAsRegex: bool = False,
                              includeUnfinishedLine: bool = False,
                              pauseEmulation: bool | None = None):
        """Fails if a line containing ``content`` (or matching it, with ``treatAsRegex``)
        arrives within ``timeout`` (the tester's default if empty). Lines received while
        waiting are consumed.

        | Should Not Be On Uart    Traceback    timeout=2
        """
        name = self._resolve(testerId)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        seconds = self._wait_secs(timeout, name)
        pattern = _line_pattern(content, treatAsRegex, includeUnfinishedLine)
        try:
            match = tester.expect(pattern, timeout=seconds)
        except ConsoleTimeout:
            self._pause_after_match(name, pauseEmulation)
            return
        raise AssertionError(f"Expected no line {'matching' if treatAsRegex else 'containing'} "
                             f"'{content}' on {name} for {_timestr(seconds)}, but got "
                             f"'{match.group('line')}'.")

    @keyword("Test If Uart Is Idle")
    @_reports_failures
    def test_if_uart_is_idle(self, timeout: timedelta, testerId: str | None = None,
                             pauseEmulation: bool | None = None):
        """Fails if anything arrives on the UART within ``timeout`` (what came before the
        call and was not consumed yet does not count, and stays there for later waits).

        | Test If Uart Is Idle    1
        """
        name = self._resolve(testerId)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        seconds = _secs(timeout, self._timeout)
        pending = len(tester.spawn.buffer)
        try:
            match = tester.expect(re.compile(r"\A[\s\S]{%d}" % (pending + 1)),
                                  timeout=seconds)
        except ConsoleTimeout:
            self._pause_after_match(name, pauseEmulation)
            return
        raise AssertionError(f"Expected {name} to stay idle for {_timestr(seconds)}, but it "
                             f"sent {match.group(0)[pending:]!r}.")

    @keyword("Set Default Uart Timeout")
    def set_default_uart_timeout(self, timeout: timedelta, testerId: str | None = None):
        """Sets the default wait of the UART keywords: of one tester, or of every tester and
        of those created later when ``testerId`` is empty."""
        seconds = timeout.total_seconds()
        if testerId in (None, ""):
            self._timeout = seconds
            for name in self._tester_timeouts:
                self._tester_timeouts[name] = seconds
        else:
            self._tester_timeouts[self._resolve(testerId)] = seconds

    @keyword("Set Default Tester")
    @_reports_failures
    def set_default_tester(self, testerId: str):
        """Makes the tester ``testerId`` the default of the UART keywords."""
        self._default_uart = self._resolve(testerId)

    @keyword("Wait For Prompt On Uart")
    @_reports_failures
    def wait_for_prompt_on_uart(self, prompt: str = PROMPT, testerId: str | None = None,
                                timeout: timedelta | None = None, treatAsRegex: bool = False,
                                pauseEmulation: bool | None = None, *,
                                uart: str | None = None) -> UartResult:
        """Waits for ``prompt`` (default the MicroPython REPL's ``>>>`` and a space), which
        need not end a line. Returns a result whose string value is the text received
        before the prompt (this library's older return value) and whose ``${r.Line}`` is
        the prompt's line up to and including the prompt, as in Renode.

        Renode's arguments, names and order: ``prompt``, ``testerId``, ``timeout``,
        ``treatAsRegex``, ``pauseEmulation``; ``uart`` is ours (named only).

        | Wait For Prompt On Uart
        | Wait For Prompt On Uart    login:    timeout=30
        """
        name = self._resolve(testerId, uart)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        seconds = self._wait_secs(timeout, name)
        try:
            if treatAsRegex:
                match = tester.expect(re.compile(prompt), timeout=seconds)
                before, found = tester.spawn.before, match.group(0)
            else:
                text = tester.read_until(prompt, timeout=seconds)
                before, found = text[:-len(prompt)], prompt
        except ConsoleTimeout:
            raise AssertionError(f"Expected the prompt '{prompt}' on {name} within "
                                 f"{_timestr(seconds)}, but it did not come.") from None
        line = re.split(r"\r\n|\r|\n", before)[-1] + found
        result = self._result(name, line)
        self._pause_after_match(name, pauseEmulation)
        return UartResult(before, (), result.Timestamp, line=line)

    @keyword("Write Line To Uart")
    @_reports_failures
    def write_line_to_uart(self, content: str = "", testerId: str | None = None,
                           waitForEcho: bool | None = None,
                           pauseEmulation: bool | None = None, *,
                           uart: str | None = None, timeout: timedelta | None = None,
                           wait_for_echo: bool | None = None) -> UartResult:
        """Sends ``content`` and the tester's line ending (CR unless set otherwise in
        `Create Terminal Tester`). With ``waitForEcho`` (default: the tester's, true as in
        Renode) it then waits for the board to echo the line back, consuming the echo.
        Returns a result whose ``${r.Line}`` is the line sent, as Renode's does.

        Renode's arguments, names and order; ``uart``, ``timeout`` and ``wait_for_echo``
        are this library's (named only).

        | Write Line To Uart    print(6*7)
        | Write Line To Uart    ping    waitForEcho=false
        """
        name = self._resolve(testerId, uart)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        echo = waitForEcho if wait_for_echo is None else wait_for_echo
        if echo is None:
            echo = self._tester_options.get(name, {}).get("echo", True)
        tester.write_line(content)
        logger.info(f"Sent: {content}")
        if echo:
            seconds = self._wait_secs(timeout, name)
            try:
                tester.expect_exact(content, timeout=seconds)
            except ConsoleTimeout:
                raise AssertionError(f"Expected the board to echo '{content}' within "
                                     f"{_timestr(seconds)}, but it did not.") from None
        self._pause_after_match(name, pauseEmulation if echo else False)
        return self._result(name, content)

    @keyword("Write To Uart")
    @_reports_failures
    def write_to_uart(self, content: str, testerId: str | None = None,
                      waitForEcho: bool = False, pauseEmulation: bool | None = None):
        """Sends ``content`` without a line ending; with ``waitForEcho`` waits for its echo."""
        name = self._resolve(testerId)
        tester = self._tester(name)
        self._resume_if_paused_by_wait()
        tester.write(content)
        logger.info(f"Sent: {content!r}")
        if waitForEcho:
            seconds = self._wait_secs(None, name)
            try:
                tester.expect_exact(content, timeout=seconds)
            except ConsoleTimeout:
                raise AssertionError(f"Expected the board to echo {content!r} within "
                                     f"{_timestr(seconds)}, but it did not.") from None

    @keyword("Write Char On Uart")
    @_reports_failures
    def write_char_on_uart(self, char: str, testerId: str | None = None, *,
                           uart: str | None = None):
        """Sends characters as they are, without a line ending, e.g. ``\\x03`` (Ctrl-C)
        to interrupt a MicroPython program or ``\\x04`` (Ctrl-D) for a soft reset."""
        self._resume_if_paused_by_wait()
        self._tester(self._resolve(testerId, uart)).write(char)
        logger.info(f"Sent: {char!r}")

    @keyword("Execute Python Command")
    @_reports_failures
    def execute_python_command(self, command: str, timeout: timedelta | None = None,
                               allow_error: bool = False, uart: str | None = None) -> str:
        """Runs one line of Python at the MicroPython REPL and returns what it printed
        (without the echo and the next prompt; lines joined with a newline).

        Fails if the command raised an exception, unless ``allow_error`` is true (the
        traceback is then returned). The REPL must be at its prompt, or reach it within
        ``timeout`` after the command.

        | ${out}=    Execute Python Command    print(6*7)
        | Should Be Equal    ${out}    42
        | Execute Python Command    import machine; machine.LED('LED1').on()
        """
        if "\n" in command or "\r" in command:
            raise AssertionError("Execute Python Command takes one line; join statements "
                                 "with ';' or use exec(\"...\").")
        tester = self._tester(uart)
        seconds = self._wait_secs(timeout, uart)
        tester.write_line(command)
        try:
            tester.expect_exact(command + "\r\n", timeout=seconds)
            # The prompt follows the output's last line end, or directly the echo's.
            tester.expect(_NEXT_PROMPT, timeout=seconds)
            output = tester.spawn.before
        except ConsoleTimeout:
            raise AssertionError(f"Expected the REPL to run '{command}' and show its prompt "
                                 f"within {_timestr(seconds)}, but it did not.") from None
        text = "\n".join(output.replace("\r\n", "\n").rstrip("\n").split("\n"))
        logger.info(f">>> {command}\n{text}")
        if TRACEBACK in text and not allow_error:
            last = text.strip().split("\n")[-1]
            raise AssertionError(f"Python command '{command}' raised {last}")
        return text

    @keyword("Execute Python Code")
    @_reports_failures
    def execute_python_code(self, code: str, timeout: timedelta | None = None,
                            allow_error: bool = False, uart: str | None = None) -> str:
        """Runs a multi-line Python program through the REPL's paste mode (Ctrl-E ...
        Ctrl-D) and returns what it printed. Fails on an exception unless
        ``allow_error``; ``timeout`` applies to each line's echo and to the run.

        Separate lines with ``\\n`` and indent with ``${SPACE*4}`` (four spaces in a row
        separate arguments in Robot data).

        | ${out}=    Execute Python Code    for i in range(3):\\n${SPACE*4}print(i)
        | Should Be Equal    ${out}    0\\n1\\n2
        """
        tester = self._tester(uart)
        seconds = self._wait_secs(timeout, uart)
        lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        step = "enter paste mode"
        try:
            tester.write("\x05")
            tester.expect_exact("Ctrl-D to finish\r\n=== ", timeout=seconds)
            for number, line in enumerate(lines, 1):
                step = f"echo line {number} ('{line}')"
                tester.write(line + "\r")   # one line at a time: no UART overrun
                tester.expect_exact(line + "\r\n=== ", timeout=seconds)
            step = "run the program and show the prompt"
            tester.write("\x04")
            tester.expect_exact("\r\n", timeout=seconds)
            tester.expect(_NEXT_PROMPT, timeout=seconds)
            output = tester.spawn.before
        except ConsoleTimeout:
            raise AssertionError(f"Expected the REPL to {step} within {_timestr(seconds)}, "
                                 f"but it did not.") from None
        text = "\n".join(output.replace("\r\n", "\n").rstrip("\n").split("\n"))
        logger.info(f"paste mode:\n{code}\n---\n{text}")
        if TRACEBACK in text and not allow_error:
            raise AssertionError(f"Python code raised {text.strip().split(chr(10))[-1]}")
        return text

    @keyword("Get Uart Lines")
    @_reports_failures
    def get_uart_lines(self, count: int = 0, uart: str | None = None) -> list:
        """Returns the complete lines the tester has received (the last ``count``; 0 means
        all, up to 10000), whether or not a wait consumed them."""
        lines = self._tester(uart).lines()
        return lines[-count:] if count else lines

    # --- LEDs -------------------------------------------------------------------------

    def _led(self, name: str) -> bool:
        return self._require_board().led(name)

    def _led_label(self, name: str) -> str:
        spec = self._board.machine if self._board is not None \
            else lab.machine(self._default_board)
        try:
            led = spec.led(name)
        except BoardError:
            return str(name)
        return f"{led.name.upper()} ({led.colour})"

    @keyword("Get LED State")
    @_reports_failures
    def get_led_state(self, led: str) -> bool:
        """Returns True when the LED is lit. ``led`` is LED1..LED4 or its colour
        (green, orange, red, blue)."""
        return self._led(led)

    @keyword("LED Should Be On")
    @_reports_failures
    def led_should_be_on(self, led: str):
        """Fails unless the LED is lit now. See also `Wait For LED State`."""
        if not self._led(led):
            raise AssertionError(f"Expected {self._led_label(led)} to be on, but it is off.")

    @keyword("LED Should Be Off")
    @_reports_failures
    def led_should_be_off(self, led: str):
        """Fails unless the LED is dark now. See also `Wait For LED State`."""
        if self._led(led):
            raise AssertionError(f"Expected {self._led_label(led)} to be off, but it is on.")

    @keyword("Wait For LED State")
    @_reports_failures
    def wait_for_led_state(self, led: str, state: str, timeout: timedelta | None = None):
        """Waits until the LED is ``on`` or ``off`` (also True/False, 1/0)."""
        want = self._on_off(state)
        seconds = _secs(timeout, self._timeout)
        deadline = time.monotonic() + seconds
        while self._led(led) != want:
            if time.monotonic() > deadline:
                raise AssertionError(f"Expected {self._led_label(led)} to turn "
                                     f"{'on' if want else 'off'} within {_timestr(seconds)}, "
                                     f"but it stayed {'off' if want else 'on'}.")
            time.sleep(LED_POLL)

    @keyword("LED Should Be Blinking")
    @_reports_failures
    def led_should_be_blinking(self, led: str, within: timedelta = timedelta(seconds=2),
                               changes: int = 2) -> int:
        """Fails unless the LED changes state at least ``changes`` times within
        ``within``; returns the number of changes seen (the LED is sampled every 10 ms,
        so faster blinking is undersampled)."""
        seconds = within.total_seconds()
        deadline = time.monotonic() + seconds
        last, seen = self._led(led), 0
        while seen < changes and time.monotonic() < deadline:
            time.sleep(LED_POLL)
            now = self._led(led)
            if now != last:
                seen, last = seen + 1, now
        if seen < changes:
            state = "on" if last else "off"
            how = f"stayed {state}" if not seen else f"changed only {seen} time(s)"
            raise AssertionError(f"Expected {self._led_label(led)} to blink (change "
                                 f"{changes} times) within {_timestr(seconds)}, but it {how}.")
        return seen

    @staticmethod
    def _on_off(state) -> bool:
        key = str(state).strip().lower()
        if key in ("on", "true", "1", "up", "yes"):
            return True
        if key in ("off", "false", "0", "down", "no"):
            return False
        raise AssertionError(f"State '{state}' is not on or off.")

    # Renode's LED tester

    @keyword("Create LED Tester")
    @_reports_failures
    def create_led_tester(self, led: str, defaultTimeout: timedelta | None = None,
                          machine: str | None = None) -> int:
        """Creates a tester on ``led`` and returns its id for `Assert LED State` and `Assert
        LED Is Blinking`. ``led`` is Renode's peripheral name
        (``sysbus.gpioPortC.led4``, as in ``platforms/*.repl``) or ours (LED1..LED4, a
        colour). ``defaultTimeout`` is how long `Assert LED State` waits (0, the default:
        the state must hold now).

        | ${led}=    Create LED Tester    sysbus.gpioPortC.led4    defaultTimeout=2
        """
        board = self._require_board()
        if machine and machine != board.config.machine:
            raise AssertionError(f"No machine '{machine}' here; the board is "
                                 f"'{board.config.machine}'.")
        name = str(led).split(".")[-1]
        board.led(name)                     # fails now for an unknown LED
        self._led_testers.append((name, _secs(defaultTimeout, 0.0)))
        return len(self._led_testers) - 1

    def _led_tester(self, testerId) -> tuple:
        self._require_board()
        if not self._led_testers:
            raise _NoBoard("No LED tester; create one with Create LED Tester.")
        try:
            return self._led_testers[-1 if testerId in (None, "") else int(testerId)]
        except (ValueError, IndexError):
            raise _NoBoard(f"No LED tester with id {testerId} "
                           f"({len(self._led_testers)} created).") from None

    @keyword("Assert LED State")
    @_reports_failures
    def assert_led_state(self, state: bool, timeout: timedelta | None = None,
                         testerId: str | None = None, pauseEmulation: bool = False):
        """Fails unless the LED is lit (``state`` true) or dark (false) within ``timeout``
        (default: the tester's ``defaultTimeout``, 0 = now).

        | Assert LED State    true    timeout=1
        """
        name, default = self._led_tester(testerId)
        self._resume_if_paused_by_wait()
        want = self._on_off(state)
        seconds = _secs(timeout, default)
        deadline = time.monotonic() + seconds
        while self._led(name) != want:
            if time.monotonic() >= deadline:
                raise AssertionError(f"Expected {self._led_label(name)} to be "
                                     f"{'on' if want else 'off'}"
                                     + (f" within {_timestr(seconds)}" if seconds else "")
                                     + f", but it is {'off' if want else 'on'}.")
            time.sleep(LED_POLL)
        if pauseEmulation:
            self._require_board().pause()
            self._paused_by_wait = True

    @keyword("Assert LED Is Blinking")
    @_reports_failures
    def assert_led_is_blinking(self, testDuration: timedelta, onDuration: timedelta,
                               offDuration: timedelta, tolerance: float = 0.05,
                               testerId: str | None = None, pauseEmulation: bool = False):
        """Watches the LED for ``testDuration`` and fails unless it blinks: every complete
        on period lasts ``onDuration`` and every off period ``offDuration``, within
        ``tolerance`` (a fraction: 0.05 is 5 %). The first and last, partial, periods are
        not judged; at least one whole on and one whole off period must be seen.

        The LED is sampled every 10 ms in host time. QEMU's clock follows the host's, but
        on a loaded machine the guest's timer ticks come late and its periods stretch (a
        200 ms blink measured 300 to 550 ms with six builds sharing two cores), so give a
        tolerance that allows for the load; Renode measures in virtual time, where the
        default 0.05 holds.

        | Assert LED Is Blinking    testDuration=2    onDuration=0.2    offDuration=0.2    tolerance=3
        """
        name, _ = self._led_tester(testerId)
        self._resume_if_paused_by_wait()
        total = testDuration.total_seconds()
        want = {True: onDuration.total_seconds(), False: offDuration.total_seconds()}
        start = time.monotonic()
        last, since, periods = self._led(name), start, []
        while True:
            now = time.monotonic()
            if now - start >= total:
                break
            state = self._led(name)
            if state != last:
                periods.append((last, since, now))
                last, since = state, now
            time.sleep(LED_POLL)
        whole = [(state, t1 - t0) for state, t0, t1 in periods[1:]]
        seen = {st for st, _ in whole}
        if seen != {True, False}:
            raise AssertionError(f"Expected {self._led_label(name)} to blink within "
                                 f"{_timestr(total)}, but it changed {len(periods)} time(s) "
                                 f"(ending {'on' if last else 'off'}).")
        bad = [f"{'on' if st else 'off'} {d * 1000:.0f} ms" for st, d in whole
               if abs(d - want[st]) > tolerance * want[st]]
        if bad:
            raise AssertionError(f"Expected {self._led_label(name)} on for "
                                 f"{want[True] * 1000:.0f} ms and off for "
                                 f"{want[False] * 1000:.0f} ms (tolerance {tolerance:g}), but "
                                 f"saw {', '.join(bad[:6])}.")
        logger.info(f"{self._led_label(name)} blinked: "
                    + ", ".join(f"{'on' if st else 'off'} {d * 1000:.0f} ms" for st, d in whole))
        if pauseEmulation:
            self._require_board().pause()
            self._paused_by_wait = True

    # --- the LCD ----------------------------------------------------------------------

    @keyword("Capture LCD")
    @_reports_failures
    def capture_lcd(self, name: str = "lcd") -> str:
        """Saves what the board's LCD shows as ``NAME-N.png`` in Robot's output directory,
        embeds it in the log and returns its path.

        | ${png}=    Capture LCD    after-boot
        """
        board = self._require_board()
        outdir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        self._captures = getattr(self, "_captures", 0) + 1
        path = board.screenshot(outdir / f"{name}-{self._captures}.png")
        logger.info(f'<img src="{path.name}" alt="LCD" width="240">', html=True)
        return str(path)

    # --- push-buttons -----------------------------------------------------------------

    @keyword("Press Button")
    @_reports_failures
    def press_button(self, button: str):
        """Presses and holds a push-button of the board: ``wakeup`` (PA0), ``tamper`` (PC13)
        or ``user`` (PG15, STM324xG-EVAL), by name or pin, until `Release Button`.

        | Press Button    user
        """
        self._require_board().press_button(button)
        logger.info(f"Button {button} pressed.")

    @keyword("Release Button")
    @_reports_failures
    def release_button(self, button: str):
        """Releases a push-button pressed with `Press Button`."""
        self._require_board().release_button(button)
        logger.info(f"Button {button} released.")

    @keyword("Click Button")
    @_reports_failures
    def click_button(self, button: str, hold: timedelta = timedelta(milliseconds=100)):
        """Presses a push-button, holds it for ``hold`` (host time) and releases it."""
        self._require_board().click_button(button, _secs(hold, 0.1))
        logger.info(f"Button {button} clicked.")

    # --- network ----------------------------------------------------------------------

    @keyword("Set Ethernet Link")
    @_reports_failures
    def set_ethernet_link(self, state: str):
        """Plugs the Ethernet cable in (``up``) or pulls it out (``down``).

        | Set Ethernet Link    down
        | Wait For LED State    LED3    on
        | Set Ethernet Link    up
        """
        up = self._on_off(state)
        self._require_board().set_link(up)
        logger.info(f"Ethernet link {'up' if up else 'down'}.")

    @keyword("Get Forwarded Port")
    @_reports_failures
    def get_forwarded_port(self, guest_port: int = 443) -> int:
        """Returns the 127.0.0.1 port that reaches the board's ``guest_port``."""
        return self._require_board().forwarded_port(guest_port)

    def _fetch(self, target: str, server_name, client_cert, ca, insecure, timeout,
               tls_max, ciphers) -> DotDict:
        pki = self._pki_dir()
        cert = key = None
        if client_cert:
            stem = f"client-{self._cert_kind(client_cert)}"
            cert, key = certs.path(stem, pki), certs.key_path(stem, pki)
        seconds = _secs(timeout, self._timeout)
        try:
            result = fetch(target, ca=ca or certs.path("ca", pki),
                           server_name=server_name or None, insecure=insecure, cert=cert,
                           key=key, tls_max=tls_max or None, ciphers=ciphers or None,
                           timeout=seconds)
        except FetchError as e:
            raise AssertionError(f"Expected a page from {target}, but the fetch failed "
                                 f"({e.kind}): {e}") from None
        page = DotDict(status=result.status, reason=result.reason, text=result.text,
                       protocol=result.protocol, cipher=result.cipher,
                       cipher_openssl=result.cipher_openssl,
                       server_subject=result.server_subject,
                       server_issuer=result.server_issuer, verified=result.verified,
                       elapsed=round(result.elapsed, 3), url=result.url)
        logger.info(f"{result.url}: {result.http_version} {result.status} {result.reason}, "
                    f"{result.protocol}, {result.cipher}, server {result.server_subject}, "
                    f"{len(result.body)} bytes in {result.elapsed:.3f} s")
        return page

    @keyword("Fetch Board Page")
    @_reports_failures
    def fetch_board_page(self, path: str = "/", server_name: str = certs.BOARD_NAME,
                         client_cert: str | None = None, ca: str | None = None,
                         insecure: bool = False, timeout: timedelta | None = None,
                         tls_max: str | None = None, ciphers: str | None = None) -> DotDict:
        """Fetches ``path`` over HTTPS from the board's web server (its port 443, through
        the loopback forward) like the demo's web browser, and returns the result.

        The server certificate is verified against the lab CA for ``server_name``
        (``stm32-board.lab``) unless ``insecure``. ``client_cert`` (RSA or ECDSA) sends the
        lab's client certificate. Fails with the failure kind (refused, timeout, closed,
        verify, tls) when no page comes; HTTP error statuses are returned, not failures.

        The result has ``status``, ``reason``, ``text`` (the body), ``protocol``,
        ``cipher`` (IANA name), ``cipher_openssl``, ``server_subject``, ``server_issuer``,
        ``elapsed`` (seconds) and ``url``.

        | ${page}=    Fetch Board Page
        | Should Be Equal As Integers    ${page.status}    200
        | Should Contain    ${page.text}    Successful connection
        """
        port = self.get_forwarded_port(443)
        return self._fetch(f"https://127.0.0.1:{port}/{path.lstrip('/')}", server_name,
                           client_cert, ca, insecure, timeout, tls_max, ciphers)

    @keyword("Fetch Page")
    @_reports_failures
    def fetch_page(self, url: str, server_name: str = certs.PC_NAME,
                   client_cert: str | None = None, ca: str | None = None,
                   insecure: bool = False, timeout: timedelta | None = None,
                   tls_max: str | None = None, ciphers: str | None = None) -> DotDict:
        """Fetches an HTTPS ``url`` on a loopback address (``https://127.0.0.1:PORT/``, or
        just a port) and returns the result like `Fetch Board Page` does. The server name
        defaults to the PC server's, ``ssl-server.lab``, so this checks a `Start PC SSL
        Server` from the host side.

        | ${port}=    Start PC SSL Server
        | ${page}=    Fetch Page    https://127.0.0.1:${port}/
        """
        return self._fetch(url, server_name, client_cert, ca, insecure, timeout, tls_max,
                           ciphers)

    # --- PC side: PKI and SSL server ----------------------------------------------------

    @keyword("Ensure Test PKI")
    @_reports_failures
    def ensure_test_pki(self, directory: str | None = None) -> str:
        """Makes the lab's test PKI (CA; PC server, board and client certificates in RSA
        and ECDSA; expired, wrong-host and untrusted ones) in ``directory`` unless it is
        already complete, and uses it for the PC server and the fetch keywords. Default:
        ``$STM32LAB_CERTS`` or ``certs/out/``. Returns the directory."""
        out = Path(directory) if directory else certs.default_out()
        written = certs.make_pki(out, report=logger.info)
        logger.info(f"Test PKI in {out}: {len(written)} file(s) written"
                    f"{'' if written else ' (already complete)'}.")
        self._pki = out
        return str(out)

    @keyword("Start PC SSL Server")
    @_reports_failures
    def start_pc_ssl_server(self, cert_kind: str | None = None, guest_port: int = 443,
                            client_cert: str = "none", tls_min: str = "1.2",
                            tls_max: str | None = None, ciphers: str | None = None,
                            cert: str | None = None, key: str | None = None) -> int:
        """Starts the PC SSL server (``host_tools/ssl_server.py``) that the board reaches
        as 192.168.0.1:``guest_port``, and returns its 127.0.0.1 port.

        ``cert_kind`` RSA or ECDSA picks the lab's ``server-rsa`` or ``server-ec``
        certificate (default: the library's ``cert_kind``); ``cert``/``key`` give other
        files (e.g. the negative ``expired`` certificate:
        ``cert=${PKI}/expired.pem``). ``client_cert`` is ``none``, ``optional`` or
        ``required``. ``tls_min``/``tls_max`` are 1.2 or 1.3; ``ciphers`` an OpenSSL
        cipher list. The PKI is made first if needed (`Ensure Test PKI`).

        Started before `Create Board` or after it, the board's forward for
        ``guest_port`` 443 points at this server (see `Network`).

        | ${port}=    Start PC SSL Server
        | Start PC SSL Server    ECDSA    client_cert=required    tls_max=1.2
        """
        if guest_port in self._servers:
            raise AssertionError(f"A PC SSL server for port {guest_port} is already "
                                 f"running; stop it with Stop PC SSL Server first.")
        board_has_port = self._board is None or guest_port in self._pc_ports
        if not board_has_port:
            raise AssertionError(f"The board was started without a forward for "
                                 f"192.168.0.1:{guest_port}; start the PC SSL server for "
                                 f"that port before Create Board.")
        pki = self._pki_dir()
        kind = self._cert_kind(cert_kind) if cert_kind else self._default_cert_kind
        cert_path = Path(cert) if cert else certs.path(f"server-{kind}", pki)
        key_path = Path(key) if key else (None if cert else certs.key_path(f"server-{kind}",
                                                                           pki))
        mode = str(client_cert).lower()
        if mode not in ("none", "optional", "required"):
            raise AssertionError(f"client_cert '{client_cert}' is not none, optional or "
                                 f"required.")
        log_file = self._new_log_dir("pc-ssl-server") / f"pc-ssl-server-{guest_port}.log"
        for attempt in range(3):
            port = self._pc_port(guest_port)
            server = SslServer(cert_path, key_path, ca=certs.path("ca", pki),
                               require_client_cert=mode == "required",
                               request_client_cert=mode == "optional", tls_min=tls_min,
                               tls_max=tls_max or None, ciphers=ciphers or None,
                               port=port, log_file=log_file, echo=False)
            try:
                server.start()
                break
            except SslServerError:
                # Someone took the port we picked; re-pick unless a board already uses it.
                if self._board is not None or attempt == 2:
                    raise
                del self._pc_ports[guest_port]
        self._servers[guest_port] = server
        self._server_logs[guest_port] = log_file
        logger.info(f"PC SSL server on 127.0.0.1:{server.port} (board: "
                    f"192.168.0.1:{guest_port}), {server.identity.summary}, client "
                    f"certificates {mode}; log {log_file}")
        return server.port

    @keyword("Start Lab DNS")
    @_reports_failures
    def start_lab_dns(self, *names: str) -> int:
        """Starts the lab's DNS resolver (``host_tools/lab_dns.py``) on loopback, which the
        board reaches as 192.168.0.1:53 (the Nucleo's W5100 UDP socket), answering the
        given ``NAME=ADDRESS`` pairs (addresses in 192.168.0.0/24) and NXDOMAIN for every
        other name; returns its 127.0.0.1 port. Start it before `Create Board`.

        | Start Lab DNS    ssl-server.lab=192.168.0.1
        """
        if self._dns is not None:
            raise AssertionError("The lab DNS resolver is already running.")
        if self._board is not None and 53 not in self._pc_ports:
            raise AssertionError("The board was started without a forward for "
                                 "192.168.0.1:53; start the lab DNS before Create Board.")
        try:
            table = parse_names(names, what="Start Lab DNS")
            self._dns = LabDns(table, port=self._pc_port(53)).start()
        except DnsError as e:
            raise AssertionError(str(e)) from None
        logger.info(f"Lab DNS on 127.0.0.1:{self._dns.port} (board: 192.168.0.1:53): "
                    + ", ".join(f"{n} -> {a}" for n, a in table.items()))
        return self._dns.port

    @keyword("Stop Lab DNS")
    @_reports_failures
    def stop_lab_dns(self):
        """Stops the lab DNS resolver, if it runs (a board started meanwhile keeps its
        forward, to nothing). Returns nothing."""
        if self._dns is not None:
            logger.info(f"Lab DNS stopped after {len(self._dns.log)} queries: "
                        + "; ".join(self._dns.log[-5:]))
            self._dns.stop()
            self._dns = None
            if self._board is None:
                self._pc_ports.pop(53, None)

    def _server(self, guest_port: int) -> SslServer:
        if guest_port not in self._servers:
            raise _NoBoard(f"No PC SSL server runs for port {guest_port}; start one with "
                           f"Start PC SSL Server.")
        return self._servers[guest_port]

    def _stop_server(self, guest_port: int) -> None:
        server = self._servers.pop(guest_port)
        self._server_lines[guest_port] = server.lines
        server.stop()
        logger.info(f"PC SSL server for port {guest_port} stopped after "
                    f"{len(server.connections)} connection(s).")

    @keyword("Stop PC SSL Server")
    @_reports_failures
    def stop_pc_ssl_server(self, guest_port: int = 443):
        """Stops the PC SSL server for ``guest_port`` (giving running connections up to
        5 seconds). Does nothing if none runs."""
        if guest_port in self._servers:
            self._stop_server(guest_port)

    @staticmethod
    def _connection_dict(conn) -> DotDict:
        return DotDict(number=conn.number, peer=conn.peer, protocol=conn.protocol,
                       cipher=conn.cipher, cipher_openssl=conn.cipher_openssl,
                       server_name=conn.server_name, client_cert=conn.client_cert,
                       bytes_read=conn.bytes_read, bytes_written=conn.bytes_written,
                       request_line=conn.request_line, status=conn.status,
                       error=conn.error, handshake_ok=conn.handshake_ok, ok=conn.ok)

    @keyword("Get PC SSL Server Connections")
    @_reports_failures
    def get_pc_ssl_server_connections(self, guest_port: int = 443) -> list:
        """Returns what the PC SSL server saw, one dictionary per connection: ``number``,
        ``peer``, ``protocol``, ``cipher``, ``cipher_openssl``, ``server_name`` (SNI),
        ``client_cert``, ``bytes_read``, ``bytes_written``, ``request_line``, ``status``,
        ``error``, ``handshake_ok`` and ``ok``."""
        return [self._connection_dict(c) for c in self._server(guest_port).connections]

    @keyword("PC SSL Server Should Have Seen Request")
    @_reports_failures
    def pc_ssl_server_should_have_seen_request(self, request: str = "GET *",
                                               timeout: timedelta = timedelta(seconds=30),
                                               guest_port: int = 443) -> DotDict:
        """Waits until the PC SSL server has answered a request whose first line matches
        ``request`` (a glob pattern: ``*`` any text, ``?`` one character) and returns that
        connection (see `Get PC SSL Server Connections`).

        | PC SSL Server Should Have Seen Request    GET / HTTP/1.0
        | ${conn}=    PC SSL Server Should Have Seen Request    timeout=1 min
        | Should Be Equal    ${conn.protocol}    TLSv1.2
        """
        server = self._server(guest_port)
        seconds = timeout.total_seconds()
        deadline = time.monotonic() + seconds
        while True:
            for conn in server.connections:
                if conn.done and conn.request_line is not None \
                        and fnmatch.fnmatchcase(conn.request_line, request):
                    logger.info(f"Connection #{conn.number} from {conn.peer}: "
                                f"{conn.protocol}, {conn.cipher}, '{conn.request_line}', "
                                f"answered {conn.status}")
                    return self._connection_dict(conn)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                server.wait_for_connections(len([c for c in server.connections if c.done])
                                            + 1, timeout=min(left, 0.5))
            except TimeoutError:
                pass
        seen = [f"#{c.number} {c.request_line or '(no request)'}"
                + (f" error: {c.error}" if c.error else "") for c in server.connections]
        raise AssertionError(f"Expected the PC SSL server to answer a request '{request}' "
                             f"within {_timestr(seconds)}, but it saw "
                             + ("; ".join(seen) if seen else "no connection") + ".")

    # --- logs -------------------------------------------------------------------------

    @keyword("Collect Board Logs")
    def collect_board_logs(self):
        """Puts the board's console log (last 200 lines, and a link to the whole file),
        the emulator's stderr, the PC SSL servers' logs and a link to the pcap into the
        Robot log. Works after `Reset Emulation` too (for the last board). Never fails.
        `Collect Logs On Failure` in ``board.resource`` calls it when a test failed."""
        parts = []
        logs = self._board_logs
        for name in ("console", "stderr"):
            path = logs.get(name)
            if path and Path(path).exists():
                text = Path(path).read_text(errors="replace")
                text = text.replace("\r\n", "\n").replace("\r", "\n")
                tail = "\n".join(text.split("\n")[-LOG_TAIL_LINES:])
                if name == "stderr" and not tail.strip():
                    continue
                parts.append(self._pre(f"Board {name} log ({Path(path).name}):", tail)
                             + self._link(Path(path)))
        if logs.get("pcap") and Path(logs["pcap"]).exists():
            parts.append(f"<b>Board network capture:</b> {self._link(logs['pcap'])} "
                         f"({Path(logs['pcap']).stat().st_size} bytes, open with Wireshark)")
        for guest_port, log_file in self._server_logs.items():
            server = self._servers.get(guest_port)
            lines = server.lines if server else self._server_lines.get(guest_port, [])
            parts.append(self._pre(f"PC SSL server log (board port {guest_port}):",
                                   "\n".join(lines[-LOG_TAIL_LINES:]) or "(no connection)")
                         + (self._link(log_file) if Path(log_file).exists() else ""))
        if not parts:
            logger.info("No board or PC SSL server logs to collect.")
            return
        logger.info("<br>".join(parts), html=True)
