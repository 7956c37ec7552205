# tlsio: TLS on non-blocking sockets under asyncio, and the pieces every network application
# on the board needs to survive its peers: one-line error reports with names, text that is
# safe to print whatever bytes arrived, a fair FIFO of session slots, and a gentle close.
#
#   import tlsio
#   tls = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
#   await tlsio.handshake(tls)                 # sock.setblocking(False) first
#   data = await tlsio.recv(tls, 2048)         # b"": the peer ended TLS with close_notify
#   await tlsio.send_all(tls, data)
#   await tlsio.close(tls, sock)               # close_notify, read what is left, then close
#   print("  ! " + tlsio.describe(e))          # "SSLError -0x7780: SSL - A fatal alert ..."
#
# Every wait takes an optional timeout_ms (then asyncio.TimeoutError); without it, waits
# end when the socket is closed or the task is cancelled (the HTTPS server's deadlines).

import errno
import time

import asyncio
from asyncio import core

import ssl

# Words for the errno values a network peer can cause (MicroPython's OSError has no text).
_ERRNO_TEXT = {
    errno.ECONNRESET: "connection reset by peer",
    errno.ECONNABORTED: "connection aborted",
    errno.ECONNREFUSED: "connection refused",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENOTCONN: "not connected",
    errno.EBADF: "socket closed",
    errno.ENOMEM: "out of memory",
    errno.ENOBUFS: "no buffer space",
    errno.EAGAIN: "would block",
}

# mbedTLS codes the applications name
CONN_EOF = -0x7280              # MBEDTLS_ERR_SSL_CONN_EOF: TCP closed, no close_notify
PEER_CLOSE_NOTIFY = -0x7880     # MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY

# TLS alert descriptions (RFC 8446 6), for alerts sent in plaintext before any handshake
ALERT_HANDSHAKE_FAILURE = 40
ALERT_INTERNAL_ERROR = 80


def errno_name(code):
    """ECONNRESET for 104, else the number as text."""
    return errno.errorcode.get(code, str(code))


def describe(e):
    """One line naming an exception and its reason, never a bare number:
    'SSLError -0x7780: SSL - A fatal alert message was received from our peer',
    'OSError ECONNRESET: connection reset by peer', 'MemoryError: memory allocation failed'."""
    name = type(e).__name__
    args = e.args
    if isinstance(e, OSError) and args and isinstance(args[0], int):
        code = args[0]
        if code < 0:                # an mbedTLS error code, with mbedTLS's text
            text = args[1] if len(args) > 1 else "mbedTLS error"
            return "%s -0x%04x: %s" % (name, -code, text)
        return "%s %s: %s" % (name, errno_name(code), _ERRNO_TEXT.get(code, "error %d" % code))
    try:
        text = str(e)
    except Exception:
        text = ""
    return "%s: %s" % (name, text) if text else name


def safe_text(data, limit=None):
    """Bytes from the network as text that is safe on a console: valid UTF-8 without control
    characters as it is (CR, LF, TAB kept), anything else byte by byte with \\xNN escapes.
    MicroPython's bytes.decode() raises UnicodeError on bad UTF-8 whatever errors= says, so
    never decode network bytes directly."""
    if limit is not None and len(data) > limit:
        data = data[:limit]
    try:
        text = bytes(data).decode()
    except UnicodeError:
        text = None
    if text is not None:
        for ch in text:
            o = ord(ch)
            if (o < 0x20 and ch not in "\r\n\t") or o == 0x7F:
                text = None
                break
    if text is not None:
        return text
    out = []
    for b in data:
        if 0x20 <= b < 0x7F or b in (0x0D, 0x0A, 0x09):
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


# --- waiting for sockets ---------------------------------------------------------------------

async def readable(obj):
    """Until obj (a socket or a tls socket) can be read, is closed, or has an error."""
    yield core._io_queue.queue_read(obj)


async def writable(obj):
    yield core._io_queue.queue_write(obj)


async def wait_io(obj, write=False, timeout_ms=None):
    waiter = writable(obj) if write else readable(obj)
    if timeout_ms is None:
        await waiter
    else:
        await asyncio.wait_for_ms(waiter, timeout_ms)


def _tls(tls):
    # the tls module's socket under an ssl.SSLSocket (what the poller can poll)
    return tls._s if isinstance(tls, ssl.SSLSocket) else tls


async def handshake(tls, timeout_ms=None):
    """Run the TLS handshake of a socket wrapped with do_handshake_on_connect=False over a
    non-blocking socket, waiting for the peer in between. Raises ssl's errors."""
    s = _tls(tls)
    while True:
        try:
            if s.do_handshake():
                return
        except (ValueError, OSError) as e:
            raise ssl._tls_error(e)
        # do_handshake() tells the socket which direction it waits for; a read poll on
        # the tls socket watches that direction
        await wait_io(s, False, timeout_ms)


async def recv(tls, n=2048, timeout_ms=None):
    """Up to n decrypted bytes, as soon as some arrive; b"" when the peer ended TLS with
    close_notify. A TCP close without close_notify raises SSLError(CONN_EOF). (One read
    per call: a stream readinto() that fails after a partial read loses the count.)"""
    s = _tls(tls)
    while True:
        try:
            data = s.recv(n)
        except (ValueError, OSError) as e:
            raise ssl._tls_error(e)
        if data is not None:
            return data
        await wait_io(s, False, timeout_ms)


async def send_all(tls, data, timeout_ms=None):
    """Write all of data (bytes-like), waiting for room as needed."""
    s = _tls(tls)
    mv = memoryview(data)
    off = 0
    while off < len(mv):
        piece = mv[off:off + 2048]  # the same arguments again after WANT_WRITE (mbedTLS)
        try:
            n = s.send(piece)
        except (ValueError, OSError) as e:
            raise ssl._tls_error(e)
        if n is None:
            await wait_io(s, True, timeout_ms)
        else:
            off += n


def send_alert(sock, description=ALERT_INTERNAL_ERROR):
    """A fatal TLS alert in plaintext, before any handshake (e.g. to refuse a client when no
    TLS session fits in memory); best effort."""
    try:
        sock.send(bytes((0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description)))
    except OSError:
        pass


async def close(tls, sock, linger_ms=1000):
    """End a connection gently: close_notify (after a completed handshake), then read and
    drop what the peer still sends until it closes or linger_ms pass, then close. (lwIP
    answers a close with unread data by a reset, which can make the peer lose our last
    alert or reply.) Never raises."""
    raw = sock
    if tls is not None:
        try:
            raw = _tls(tls).unwrap()
        except Exception:
            pass            # the handshake failed and freed it, or it is closed
    if raw is None:
        return
    try:
        raw.setblocking(False)
        end = time.ticks_add(time.ticks_ms(), linger_ms)
        while time.ticks_diff(end, time.ticks_ms()) > 0:
            try:
                data = raw.recv(512)
            except OSError as e:
                if e.args and e.args[0] == errno.EAGAIN:
                    data = None
                else:
                    break
            if data == b"":
                break
            # (a peer that keeps sending is read until linger_ms are up, never longer,
            # and the other tasks run in between)
            await asyncio.sleep_ms(20 if data is None else 0)
    except Exception:
        pass
    finally:
        try:
            raw.close()
        except Exception:
            pass


class Slots:
    """A FIFO counting semaphore for asyncio (MicroPython's has none): acquire() waits
    its turn; release() hands the slot to the longest waiter."""

    def __init__(self, n):
        self.total = n
        self.free = n
        self.waiting = []

    def busy(self):
        return self.total - self.free

    async def acquire(self):
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return
        ev = asyncio.Event()
        self.waiting.append(ev)
        try:
            await ev.wait()
        except BaseException:
            if ev in self.waiting:
                self.waiting.remove(ev)
            elif ev.is_set():
                self.release()      # handed over while being cancelled: pass it on
            raise

    def release(self):
        if self.waiting:
            self.waiting.pop(0).set()
        else:
            self.free += 1
