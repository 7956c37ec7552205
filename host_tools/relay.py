"""The guestfwd relay: one board connection to the PC, handed over by QEMU.

The launcher gives QEMU's user-mode network a ``guestfwd=tcp:192.168.0.1:G-cmd:...``
target that runs this module once per board connection (so the PC server sees each
connection open and close as a real client's; a ``tcp:`` chardev target would be a single
connection opened when QEMU starts, shared by every board connection)::

    python host_tools/relay.py 127.0.0.1:4433 [--log FILE]
    python -m host_tools.relay 127.0.0.1:4433 [--log FILE]

slirp gives this process the board's connection as fds 0, 1 and 2, one socket: so its own
messages go to the log file (or nowhere), never into the board's TCP stream, and the end
of the PC's data is passed on by half-closing that socket (closing fd 1 alone would leave
it open through fds 0 and 2). The target must be a loopback address (network rule). A
target that cannot be reached resets the board's connection (slirp has already accepted
it; a reset is the nearest to a refused connect).

Starting a Python interpreter costs ~125 ms per board connection, so the launcher runs the
same relay as a small native program, ``native/relay.c``, built on first use with the
host's C compiler into the build cache (:func:`native_helper`). Even that costs QEMU a fork
of itself per connection (glib's spawn forks twice), during which the board stands still:
1-6 ms, growing with QEMU's memory. So by default (``relay="native"``) the launcher keeps
one native relay per forward running (:class:`Listener`), listening on a Unix socket that
QEMU's ``guestfwd=...-unix:PATH`` (our QEMU patch 0015) connects to for every board
connection, and the relay serves each connection in a child of its own.

``relay="native-cmd"`` is the native helper started by QEMU per connection, and
``relay="python"`` this module (bench/connect.py compares the three). This module is also
the fallback where there is no C compiler (one log line says so).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import selectors
import shlex
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    import _bootstrap  # noqa: F401  (python host_tools/relay.py)

from host_tools import paths  # noqa: E402
from host_tools.lab import BoardError, check_loopback, check_port  # noqa: E402

__all__ = ["IMPLEMENTATIONS", "Listener", "NATIVE_SOURCE", "command", "main", "native_helper",
           "relay"]

log = logging.getLogger("board")

#: the relay implementations a launcher can pick: the native helper listening (the
#: default), the native helper per connection, or this module per connection
IMPLEMENTATIONS = ("native", "native-cmd", "python")
LISTEN_TIMEOUT = 10.0           # seconds for a Listener's relay to take connections
NATIVE_SOURCE = Path(__file__).resolve().parent / "native" / "relay.c"
_warned = False


def command(target: str, log_path, implementation: str = "native") -> list[str]:
    """The command line that relays one board connection (fds 0/1) to target (HOST:PORT),
    logging to log_path: the native helper, or this module when implementation is
    "python" or no helper can be built."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"relay implementation '{implementation}' is not one of "
                         f"{', '.join(IMPLEMENTATIONS)}")
    if implementation != "python":
        helper = native_helper()
        if helper is not None:
            return [str(helper), target, "--log", str(log_path)]
    return [sys.executable, os.path.abspath(__file__), target, "--log", str(log_path)]


def _compiler() -> list[str] | None:
    cc = os.environ.get("CC")
    if cc:
        return shlex.split(cc) or None
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def native_helper() -> Path | None:
    """The native relay, built from NATIVE_SOURCE into the build cache the first time
    (named after the source's hash, so an edit builds a new one); None, with one warning
    per process, when there is no C compiler or the build fails."""
    global _warned
    source = NATIVE_SOURCE.read_bytes()
    out_dir = paths.cache_dir() / "relay"
    exe = out_dir / f"stm32lab-relay-{hashlib.sha256(source).hexdigest()[:16]}"
    if os.access(exe, os.X_OK):
        return exe
    cc = _compiler()
    why = "no C compiler (cc, gcc, clang or $CC)"
    if cc is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            # Build beside the final name, then rename: launchers running at once each
            # build their own copy and the last rename wins, never a half-written one.
            fd, tmp = tempfile.mkstemp(prefix=exe.name + ".", dir=out_dir)
            os.close(fd)
            try:
                r = subprocess.run([*cc, "-O2", "-o", tmp, str(NATIVE_SOURCE)],
                                   capture_output=True, text=True, timeout=120)
                if r.returncode == 0:
                    os.chmod(tmp, 0o755)
                    os.replace(tmp, exe)
                    return exe
                why = f"{cc[0]} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}"
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except FileNotFoundError:
            why = f"no C compiler at {cc[0]}"
        except (OSError, subprocess.SubprocessError) as e:
            why = f"cannot build it in {out_dir}: {e}"
    if not _warned:
        _warned = True
        log.warning("guestfwd relay: the Python one (~125 ms per board connection), not the "
                    "native helper: %s", why)
    return None


class Listener:
    """The native relay kept running for one forward: every connection to the Unix socket
    path is relayed to target (HOST:PORT), each in a child of its own, logging to
    log_path. It stops when :meth:`close` (or the death of this process) closes its stdin.
    BoardError, with the relay's message, if it does not take connections within
    LISTEN_TIMEOUT."""

    def __init__(self, helper: Path, path: Path, target: str, log_path):
        self.path = Path(path)
        self.proc = subprocess.Popen(
            [str(helper), "--listen", str(self.path), target, "--log", str(log_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(LISTEN_TIMEOUT) and self.proc.stdout.readline() == b"listening\n"
        sel.close()
        self.proc.stdout.close()
        if not ready:
            self.close()
            why = Path(log_path).read_text(errors="replace").strip().splitlines() \
                if Path(log_path).exists() else []
            raise BoardError(f"the guestfwd relay for {target} did not start: "
                             f"{why[-1] if why else 'no message'}")

    def close(self) -> None:
        """Stop taking connections (those in progress go on until they end)."""
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _is_socket(fd: int) -> bool:
    return stat.S_ISSOCK(os.fstat(fd).st_mode)


def relay(target: str, log_path: str | None = None) -> int:
    """Copy stdin/stdout (a board connection handed over by slirp) to a loopback TCP port;
    the exit status (1 if the target is refused or cannot be reached)."""
    if log_path or _is_socket(2):
        fd = os.open(log_path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    host, _, port = target.rpartition(":")
    try:
        addr = (check_loopback(host, "guestfwd host address", ipv6=False),
                check_port(port, "guestfwd host port"))
        peer = socket.create_connection(addr, timeout=10)
    except (ValueError, OSError) as e:
        print(f"board relay: cannot reach {target}: {e}", file=sys.stderr)
        _reset_board_on_exit()
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


def _reset_board_on_exit() -> None:
    """Make the exit reset the board's connection instead of closing it (slirp passes the
    reset on to the board: ECONNRESET, the nearest it has to a refused connect; a close
    the moment the connection is made would reach the board while its connect() is still
    returning)."""
    if _is_socket(0):
        with socket.socket(fileno=os.dup(0)) as board:
            board.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="relay", description="Relay one board connection (fds 0/1, as QEMU's guestfwd "
                                  "hands it over) to a loopback TCP port.")
    p.add_argument("target", metavar="HOST:PORT", help="loopback address and port")
    p.add_argument("--log", metavar="FILE", help="append the relay's messages to FILE")
    args = p.parse_args(argv)
    return relay(args.target, args.log)


if __name__ == "__main__":
    sys.exit(main())
