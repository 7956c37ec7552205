# demo_server: the SSL server thread of ST's SSL_Server application (UM1723 5.2): HTTPS on
# port 443 serving a page with the running tasks and their state, the page hits, the cipher
# suite and protocol of the connection, uptime and free memory. The console shows the
# connection status, the handshake result, the request size and the response size, as in
# UM1723's Figure 13. Optional client-certificate authentication (client_auth).
#
# Unlike ST's thread, which served one connection at a time, this server serves several at
# once as asyncio tasks on non-blocking sockets, so a slow or silent peer cannot hold up the
# others, the LED or the link task:
#
# - lwIP queues up to BACKLOG connections in the listen backlog; beyond that, new SYNs go
#   unanswered and the peer's TCP retries them (no resets).
# - A connection is accepted at once while fewer than `pending` wait without a TLS session;
#   it must send its first bytes (the ClientHello) within `deadline` seconds, or it is
#   closed. Waiting costs no TLS memory, so silent connections take nothing from others.
# - Then it waits (first come, first served) for one of the TLS sessions the heap holds
#   (`sessions` in the config, or as many as fit: SESSION_BYTES each, measured). From the
#   session's start, the handshake and the request must be done within `deadline` seconds.
# - A session's handshake starts only when the heap has room for it besides the record
#   buffers set aside (SESSION_HEAP free, after a collection) or no other handshake is
#   running; otherwise it waits for a running session to end. Pending connections and
#   Python's garbage share that heap, so a full session count alone does not promise it.
# - If mbedTLS still runs out of memory, the client gets a TLS alert (internal_error) and the
#   console says so: the server refuses politely instead of failing.
# - Every connection runs inside its own error boundary: whatever its peer sends, a failure
#   is one console line with mbedTLS's or Python's reason, and the connection is closed
#   gently (close_notify, then the peer's last bytes are read before the close, so lwIP
#   sends a FIN and not a reset).

import asyncio
import errno
import gc
import socket
import time

import ssl
import tlsio
from tls import heap as _heap
from tls import mem_info as _tls_mem
from tls import reserve as _tls_reserve

import tlsconf

import sysinfo

BACKLOG = 8                 # connections lwIP completes and queues before accept()
PENDING_EXTRA = 8           # accepted connections waiting without a session, besides those
MAX_REQUEST = 4096          # request line and headers
# What one TLS session can take from the heap at its peak (mbedTLS's 16 KiB input and 4 KiB
# output record buffers, the handshake's key exchange, the socket objects), measured with
# tls.mem_info()'s peak over RSA-2048/ECDSA certificates, TLS 1.2 and 1.3, by hand at the
# REPL (no test checks this figure; test_app_robustness checks the refusal when it is wrong).
SESSION_BYTES = 34 * 1024
# What a session's handshake takes from the heap besides its record buffers, with room for
# its request and page (tls.mem_info() over two concurrent RSA-2048 handshakes: ~11 KiB a
# session beyond the buffers, the page and its formatting ~4 KiB).
SESSION_HEAP = 16 * 1024
# Heap the server needs besides its sessions, counted when the sessions are set aside at
# start-up (prepare()): the SSL context with its certificate and key (~7 KiB), the tasks,
# ~1 KiB for each connection waiting without a session, and room for the page and the
# console.
HEAP_RESERVE = 20 * 1024

_STATUS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           414: "URI Too Long", 431: "Request Header Fields Too Large"}


def _out_of_memory(e):
    # MemoryError from Python, OSError(ENOMEM) from mbedTLS (MBEDTLS_ERR_SSL_ALLOC_FAILED)
    return isinstance(e, MemoryError) or (isinstance(e, OSError) and bool(e.args)
                                          and e.args[0] == errno.ENOMEM)


def _printable(line):
    for b in line:
        if b < 0x20 or b > 0x7E:
            return False
    return True


def _peer(addr):
    # lwIP's socket gives the peer as (ip, port)
    try:
        return "%s:%d" % (addr[0], addr[1])
    except (TypeError, IndexError):
        return str(addr)


class Conn:
    """One connection: its number, peer, sockets, its task and deadline."""

    def __init__(self, n, sock, peer):
        self.n = n
        self.sock = sock
        self.peer = peer
        self.tls = None
        self.task = None
        self.deadline = None        # ticks_ms when the current stage must be done
        self.stage = "waiting for the ClientHello"
        self.expired = False
        self.has_session = False
        self.running = False        # counted in Server.running

    def tag(self):
        return "#%d from %s" % (self.n, self.peer)


class Server:
    def __init__(self, board):
        self.board = board
        self.hits = 0
        self.connections = 0
        self.served = 0
        self.failed = 0
        self.refused = 0
        self.ctx = None
        self.live = []              # Conn objects being handled
        self.arrived = asyncio.Event()  # set when a connection joins live (wakes the reaper)
        self.pending = 0            # accepted, without a TLS session yet
        self.room = asyncio.Event()  # set when pending drops below its limit
        self.sessions = None
        self.running = 0            # sessions whose handshake has started
        self.ended = asyncio.Event()  # set when a running session ends
        self.max_pending = PENDING_EXTRA
        cfg = board.cfg
        self.deadline_ms = cfg.deadline * 1000

    # --- set-up ------------------------------------------------------------------------

    def setup(self):
        """mbedTLS structures shared by every connection; False if they cannot be made."""
        cfg = self.board.cfg
        print("\n  . Loading the server cert. and key...", end="")
        if not (cfg.cert and cfg.key):
            print(" failed\n  ! no server certificate and key in the configuration "
                  "(cert= and key= with their PEM blocks)")
            return False
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cfg.cert, cfg.key)
            if cfg.client_auth != "none":
                if not cfg.ca:
                    raise ValueError("client_auth=%s needs the clients' CA (ca=)" % cfg.client_auth)
                ctx.load_verify_locations(cadata=cfg.ca)
                ctx.verify_mode = (ssl.CERT_REQUIRED if cfg.client_auth == "required"
                                   else ssl.CERT_OPTIONAL)
            tlsconf.apply(ctx, cfg)
        except Exception as e:
            print(" failed\n  ! %s" % (e.args[1] if isinstance(e, OSError) and len(e.args) > 1
                                       else tlsio.describe(e)))
            return False
        print(" ok")
        print("  . Seeding the random number generator... ok")
        print("  . Setting up the SSL data.... ok (client certificates %s; %s)"
              % (cfg.client_auth, tlsconf.summary(ctx)))
        self.ctx = ctx
        return True

    def capacity(self):
        """How many TLS sessions run at once: the config's `sessions`, else as many as
        prepare() set aside."""
        cfg = self.board.cfg
        reserved, free, fit = _prepared
        n = cfg.sessions or max(reserved, 1)
        print("  . Concurrency: %d TLS session%s at once (%s; record buffers for %d set "
              "aside at start-up from %d bytes of free heap, ~%d bytes a session), %d more "
              "connections waiting, listen backlog %d"
              % (n, "" if n == 1 else "s",
                 "sessions=%d in the configuration" % cfg.sessions if cfg.sessions
                 else "what the heap holds", reserved, free, SESSION_BYTES,
                 self.max_pending, BACKLOG))
        if n > fit:
            print("  ! the heap holds %d TLS session%s; the others get their memory when "
                  "they start, or are refused with a TLS alert" % (fit, "" if fit == 1 else "s"))
        return n

    # --- the page ------------------------------------------------------------------------

    def page(self, tls):
        board = self.board
        free = sysinfo.mem_free()
        tls_now, tls_peak, _ = _tls_mem()
        rows = "".join("<tr><td>%s</td><td>%s</td></tr>\n" % (name, state)
                       for name, state in sorted(board.tasks.items()))
        rows += "<tr><td>lwIP (Ethernet interrupt)</td><td>Interrupt</td></tr>\n"
        return """<html><head><title>STM32F4xx SSL server</title></head><body>
<h1>STM32F4xx SSL/TLS server</h1>
<p>Successful connection using: %s</p>
<p>Protocol: %s</p>
<p>Session: %s</p>
<p>Page hits: %d</p>
<h2>Tasks</h2>
<table border="1"><tr><th>Task</th><th>State</th></tr>
%s</table>
<p>Connections: %d served, %d failed, %d refused; %d TLS sessions in use of %d</p>
<p>Uptime: %s</p>
<p>Free memory: %d bytes</p>
<p>TLS memory: %d bytes in use, %d at the peak</p>
<p>Board %s, MAC %s</p>
</body></html>
""" % (tls.cipher_suite(), tls.version(), "resumed" if tls.session_reused else "new",
            self.hits, rows, self.served, self.failed, self.refused, self.sessions.busy(),
            self.sessions.total, sysinfo.uptime(), free, tls_now, tls_peak, board.address,
            board.cfg.mac)

    def respond(self, tls, request):
        """(status, body, whether to send the body) for the request's bytes."""
        end = request.find(b"\r\n")
        line = request[:end] if end >= 0 else request
        if b"\r\n\r\n" not in request and len(request) >= MAX_REQUEST:
            return (414 if end < 0 else 431), b"<html><body><h1>Request too long</h1></body></html>\n", True
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/") or not _printable(line):
            return 400, b"<html><body><h1>400 Bad Request</h1></body></html>\n", True
        method, path = parts[0], parts[1]
        if method not in (b"GET", b"HEAD"):
            return 405, b"<html><body><h1>405 Method Not Allowed</h1></body></html>\n", True
        if path not in (b"/", b"/index.html"):
            return 404, b"<html><body><h1>404 Not Found</h1></body></html>\n", method == b"GET"
        self.hits += 1
        return 200, self.page(tls).encode(), method == b"GET"

    # --- one connection --------------------------------------------------------------------

    async def connection(self, c):
        """One connection inside its own error boundary."""
        board = self.board
        ok = False
        try:
            # 1. its first bytes within the deadline, without any TLS memory
            c.deadline = time.ticks_add(time.ticks_ms(), self.deadline_ms)
            await tlsio.readable(c.sock)
            # 2. its turn for a TLS session (no deadline: those ahead have theirs)
            c.stage = "waiting for a TLS session"
            c.deadline = None
            await self.sessions.acquire()
            c.has_session = True
            self._unpend()
            c.stage = "waiting for heap"
            await self.heap_room(c)
            self.running += 1
            c.running = True
            # 3. handshake and request within the deadline
            c.deadline = time.ticks_add(time.ticks_ms(), self.deadline_ms)
            ok = await self.serve_tls(c)
        except asyncio.CancelledError:
            if not c.expired:
                raise           # the server itself is stopping
            print("  ! %s: closed after the %d s deadline (%s)"
                  % (c.tag(), self.deadline_ms // 1000, c.stage))
        except Exception as e:
            if _out_of_memory(e):
                # no heap for this session now: refuse politely
                self.refused += 1
                if c.stage == "handshake":
                    tlsio.send_alert(c.sock, tlsio.ALERT_INTERNAL_ERROR)
                print("  ! %s: refused, not enough memory for a TLS session now (%s; free "
                      "heap %d bytes)" % (c.tag(), tlsio.describe(e), sysinfo.mem_free()))
            else:
                print("  ! %s: %s: %s" % (c.tag(), c.stage, tlsio.describe(e)))
        finally:
            c.deadline = None       # the close has its own bound (tlsio.close's linger)
            if ok:
                self.served += 1
            else:
                self.failed += 1
            tls, c.tls = c.tls, None
            if not c.has_session:
                self._unpend()
            try:
                await tlsio.close(tls, c.sock)
            except BaseException:
                pass
            if c.running:
                self.running -= 1
                c.running = False
                self.ended.set()
            if c.has_session:
                self.sessions.release()
                c.has_session = False
            if c in self.live:
                self.live.remove(c)
            c.sock = None
            board.state("SSL server", "Running" if self.live else "Blocked")
            if not self.live:
                gc.collect()
                print("\n  . Waiting for a remote connection ...")

    async def heap_room(self, c):
        """Wait while the heap lacks room for one more handshake and another session is
        running (it gives its memory back when it ends, within its deadline)."""
        said = False
        while self.running:
            gc.collect()
            free, _ = _heap()
            if free >= SESSION_HEAP:
                return
            if not said:
                print("  . %s: waiting for heap for its handshake (%d bytes free, %d needed)"
                      % (c.tag(), free, SESSION_HEAP))
                said = True
            self.ended.clear()
            await self.ended.wait()

    def _unpend(self):
        self.pending -= 1
        if self.pending < self.max_pending:
            self.room.set()

    async def serve_tls(self, c):
        """The TLS part of a connection: handshake, request, response. True when served."""
        c.stage = "handshake"
        c.sock.setblocking(False)
        c.tls = self.ctx.wrap_socket(c.sock, server_side=True, do_handshake_on_connect=False)
        try:
            await tlsio.handshake(c.tls)
        except ssl.SSLCertVerificationError as e:
            print("  . Performing the SSL/TLS handshake... failed\n"
                  "  ! %s: the client certificate was refused: %s"
                  % (c.tag(), e.args[1] if len(e.args) > 1 else e))
            c.tls = None
            return False
        except OSError as e:
            if _out_of_memory(e):
                raise           # the connection's boundary refuses it politely
            if isinstance(e, ssl.SSLError):
                reason = "mbedtls_ssl_handshake returned -0x%04x: %s" % (
                    -e.args[0], e.args[1] if len(e.args) > 1 else "")
            else:
                reason = tlsio.describe(e)
            print("  . Performing the SSL/TLS handshake... failed\n  ! %s: %s"
                  % (c.tag(), reason))
            c.tls = None
            return False
        tls = c.tls
        lines = ["  . Performing the SSL/TLS handshake... ok",
                 "    [ Protocol is %s ]" % tls.version(),
                 "    [ Ciphersuite is %s ]" % tls.cipher_suite()]
        if tls.session_reused:
            lines.append("  . Resuming SSL session... ok (%s)" % c.tag())
        print("\n".join(lines))

        c.stage = "reading the request"
        request = b""
        while b"\r\n\r\n" not in request and len(request) < MAX_REQUEST:
            data = await tlsio.recv(tls, 1024)
            if not data:
                break
            request += data
            end = request.find(b"\r\n")
            if not _printable(request if end < 0 else request[:end]):
                break           # not an HTTP request line: answer 400 now
        if not request:
            print("  < Read from client: 0 bytes read (%s closed)" % c.tag())
            return False
        end = request.find(b"\r\n")
        line = request[:end] if end >= 0 else request
        print("  < Read from client: %d bytes read\n\n %s\n"
              % (len(request), tlsio.safe_text(line, 80)))
        c.stage = "writing the response"
        status, body, with_body = self.respond(tls, request)
        head = ("HTTP/1.0 %d %s\r\nServer: STM32F4 SSL server\r\nContent-Type: text/html\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (status, _STATUS[status], len(body))).encode()
        reply = head + body if with_body else head
        await tlsio.send_all(tls, reply)
        print("  > Write to client: Successfully write %d bytes to client" % len(reply))
        if status >= 400:
            print("  ! %s: answered %d %s" % (c.tag(), status, _STATUS[status]))
        return status < 400

    # --- the listener ------------------------------------------------------------------------

    async def reaper(self):
        """Cancels connections past their deadline (the only place deadlines are kept, so
        no wait needs a timer of its own). Sleeps while there are no connections, so an
        idle server does not wake for it."""
        while True:
            if not self.live:
                self.arrived.clear()
                await self.arrived.wait()
            now = time.ticks_ms()
            for c in self.live:
                if (not c.expired and c.deadline is not None and c.task is not None
                        and time.ticks_diff(now, c.deadline) > 0):
                    c.expired = True
                    c.task.cancel()
            await asyncio.sleep_ms(200)

    async def run(self):
        board = self.board
        cfg = board.cfg
        board.state("SSL server", "Blocked")
        await board.ready.wait()
        if self.ctx is None and not self.setup():
            board.state("SSL server", "Suspended")
            # nothing to serve with; stay suspended instead of restarting in a loop
            while True:
                await asyncio.sleep(3600)
        if self.sessions is None:
            self.sessions = tlsio.Slots(self.capacity())
        print("  . Bind on https://%s:%d/ ..." % (board.address, cfg.port), end="")
        listener = socket.socket()
        reaper = None
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("0.0.0.0", cfg.port))
            listener.listen(BACKLOG)
            listener.setblocking(False)
            print(" ok")
            reaper = asyncio.create_task(self.reaper())
            print("\n  . Waiting for a remote connection ...")
            while True:
                while self.pending >= self.max_pending:
                    self.room.clear()
                    await self.room.wait()
                await tlsio.readable(listener)
                try:
                    sock, addr = listener.accept()
                except OSError:
                    continue            # woken for nothing (EAGAIN)
                self.connections += 1
                c = Conn(self.connections, sock, _peer(addr))
                print("  . Waiting for a remote connection ... ok (%s)" % c.tag())
                self.pending += 1
                self.live.append(c)
                self.arrived.set()
                board.state("SSL server", "Running")
                c.task = asyncio.create_task(self.connection(c))
        finally:
            if reaper is not None:
                reaper.cancel()
            listener.close()


_server = None
_prepared = [0, 0, 0]       # sessions set aside, free heap then, sessions the heap holds


def prepare(cfg):
    """At start-up, before anything else takes the heap (demo.run): decide how many TLS
    sessions the free heap holds and set their record buffers aside (tls.reserve) while
    the heap is whole, so that fragmentation cannot take them later. A `sessions` in the
    config above that number still runs that many at once, but only the sessions that fit
    get buffers set aside (the server needs the rest of the heap itself); the others take
    their memory when they start, or are refused politely. Returns the sessions at once."""
    gc.collect()
    free = gc.mem_free()
    fit = max(1, (free - HEAP_RESERVE) // SESSION_BYTES)
    want = min(cfg.sessions, fit) if cfg.sessions else fit
    _prepared[0] = _tls_reserve(want)
    _prepared[1] = free
    _prepared[2] = fit
    return cfg.sessions or _prepared[0]


async def task(board):
    """The SSL server task (restarted by demo's supervisor if it ever fails: the
    connections it started go on)."""
    global _server
    if _server is None or _server.board is not board:
        _server = Server(board)
    await _server.run()
