# demo_client: the SSL client thread of ST's SSL_Client application (UM1723 5.1), with the
# console lines of mbedTLS's ssl_client1: it seeds the RNG, loads the CA, connects to the PC
# server (192.168.0.1:443 by default), performs the handshake, verifies the server
# certificate, writes a GET, reads the reply, closes and frees everything; then again after
# the configured period. A failure prints mbedTLS's reason and the client tries again later.
#
# It runs as an asyncio task on a non-blocking socket, so the LED and link tasks go on while
# it waits for the network. The reply is streamed: only a preview (PREVIEW bytes) and the
# response head are kept, whatever its size, up to `max_reply` bytes (then a failure that
# says so). A reply cut short, i.e. fewer bytes than its Content-Length or, without one, a
# TCP close without TLS's close_notify, is a failure with the byte counts. The session is
# kept and resumed on the next connection (`resume`), and the console says so.

import asyncio
import errno
import gc
import socket

import ssl
import tlsio

import tlsconf

# errno -> the mbedTLS net layer's words for it
_NET_ERRORS = {
    103: "NET - Connection aborted",
    104: "NET - Connection was reset by peer",
    110: "NET - Timed out",
    111: "NET - Connection refused",
    113: "NET - No route to host",
}
CONNECT_TIMEOUT = 10        # s
IO_TIMEOUT = 20             # s without progress while handshaking, writing or reading
PREVIEW = 1024              # bytes of the reply shown on the console
HEAD_MAX = 4096             # bytes searched for the end of the response head
CHUNK = 2048                # bytes read at a time


class Failed(Exception):
    """A step failed; args: (the step's console line or None, headline, reason lines)."""


def _net_error(e):
    code = e.args[0] if e.args and isinstance(e.args[0], int) else None
    if code in _NET_ERRORS:
        return "%s (%s)" % (_NET_ERRORS[code], tlsio.errno_name(code))
    return tlsio.describe(e)


def _reason(e):
    """mbedTLS's reason for a failed handshake: (code, text lines)."""
    if isinstance(e, ssl.SSLCertVerificationError):
        text = e.args[1] if len(e.args) > 1 else str(e)
        if text.startswith("certificate verify failed: "):
            text = text[len("certificate verify failed: "):]
        return -0x2700, [r.strip() for r in text.split(";") if r.strip()]
    if isinstance(e, OSError) and len(e.args) > 1 and isinstance(e.args[0], int) and e.args[0] < 0:
        return e.args[0], [str(e.args[1])]
    if isinstance(e, OSError) and e.args and e.args[0] in _NET_ERRORS:
        return None, [_net_error(e)]
    return None, [tlsio.describe(e)]


def _hex(code):
    return "-0x%x" % -code if code < 0 else "0x%x" % code


def content_length(head):
    """The Content-Length of a complete response head (bytes up to the blank line), or
    None when there is none or it is not a number."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            value = value.strip()
            if value and all(0x30 <= b <= 0x39 for b in value) and len(value) < 12:
                return int(value)
            return None
    return None


class Reply:
    """What is kept of a reply while it streams in: counts, the head, a preview."""

    def __init__(self):
        self.total = 0
        self.head = b""             # the first HEAD_MAX bytes, until the head is complete
        self.head_len = None        # bytes of head, blank line included, once known
        self.length = None          # Content-Length
        self.preview = b""
        self.clean_end = False      # the server sent close_notify

    def add(self, data):
        self.total += len(data)
        if len(self.preview) < PREVIEW:
            self.preview += data[:PREVIEW - len(self.preview)]
        if self.head_len is None and len(self.head) < HEAD_MAX:
            self.head += data[:HEAD_MAX - len(self.head)]
            end = self.head.find(b"\r\n\r\n")
            if end >= 0:
                self.head_len = end + 4
                self.length = content_length(self.head[:end])
                self.head = b""

    def expected(self):
        return None if self.length is None else self.head_len + self.length

    def complete(self):
        return self.expected() is not None and self.total >= self.expected()


class Client:
    def __init__(self, board):
        self.board = board
        self.session = None         # the last session, to resume

    async def connect_once(self, number):
        """One connection, every step on the console; True when it went through."""
        cfg = self.board.cfg
        host, port, name = cfg.server_ip, cfg.server_port, cfg.hostname()
        sock = tls = ctx = None
        try:
            print()
            try:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                tlsconf.apply(ctx, cfg)
            except Exception as e:
                code, lines = _reason(e)
                raise Failed("  . Seeding the random number generator...",
                             "mbedtls_ctr_drbg_seed returned %s" % _hex(code or -0x34), lines)
            print("  . Seeding the random number generator... ok")

            if not cfg.ca:
                raise Failed("  . Loading the CA root certificate ...",
                             "no CA certificate in the configuration",
                             ["put the CA in the config sector (ca= and its PEM block)"])
            try:
                ctx.load_verify_locations(cadata=cfg.ca)
            except Exception as e:
                code, lines = _reason(e)
                raise Failed("  . Loading the CA root certificate ...",
                             "mbedtls_x509_crt_parse returned %s" % _hex(code or -0x2180), lines)
            print("  . Loading the CA root certificate ... ok")
            if cfg.cert and cfg.key:
                try:
                    ctx.load_cert_chain(cfg.cert, cfg.key)
                except Exception as e:
                    code, lines = _reason(e)
                    raise Failed("  . Loading the client certificate and key...",
                                 "mbedtls_pk_parse_key returned %s" % _hex(code or -0x3d00), lines)
                print("  . Loading the client certificate and key... ok")

            step = "  . Connecting to tcp/%s/%d..." % (host, port)
            sock = socket.socket()
            sock.setblocking(False)
            try:
                try:
                    sock.connect(socket.getaddrinfo(host, port)[0][-1])
                except OSError as e:
                    if not e.args or e.args[0] != errno.EINPROGRESS:
                        raise
                await tlsio.wait_io(sock, True, CONNECT_TIMEOUT * 1000)
                sock.send(b"")      # raises the connect's error, if it failed
            except asyncio.TimeoutError:
                raise Failed(step, "mbedtls_net_connect returned -0x52",
                             ["no answer in %d s" % CONNECT_TIMEOUT])
            except OSError as e:
                raise Failed(step, "mbedtls_net_connect returned -0x52", [_net_error(e)])
            print(step + " ok")

            step = "  . Performing the SSL/TLS handshake..."
            offered = self.session if cfg.resume else None
            try:
                try:
                    tls = ctx.wrap_socket(sock, server_hostname=name,
                                          do_handshake_on_connect=False, session=offered)
                except ssl.SSLError as e:
                    # a session the library cannot take any more: forget it, full handshake
                    print("  ! the saved session cannot be resumed: %s" % tlsio.describe(e))
                    self.session = offered = None
                    tls = ctx.wrap_socket(sock, server_hostname=name,
                                          do_handshake_on_connect=False)
                await tlsio.handshake(tls, IO_TIMEOUT * 1000)
            except ssl.SSLCertVerificationError as e:
                code, lines = _reason(e)
                tls = None
                print(step + " failed\n  ! mbedtls_ssl_handshake returned %s" % _hex(code))
                raise Failed("  . Verifying peer X.509 certificate...",
                             "the server certificate was refused (%s)" % name, lines)
            except asyncio.TimeoutError:
                raise Failed(step, "mbedtls_ssl_handshake failed",
                             ["no answer from the server in %d s" % IO_TIMEOUT])
            except OSError as e:
                code, lines = _reason(e)
                self.session = None
                if code is None:
                    raise Failed(step, "mbedtls_ssl_handshake failed", lines)
                raise Failed(step, "mbedtls_ssl_handshake returned %s" % _hex(code), lines)
            sock = None             # tls owns it now
            lines = [step + " ok",
                     "    [ Protocol is %s ]" % tls.version(),
                     "    [ Ciphersuite is %s ]" % tls.cipher_suite()]
            if offered is not None:
                lines.append("  . Resuming SSL session... %s" % (
                    "ok" if tls.session_reused else "refused by the server (full handshake)"))
            # mbedTLS verified the chain, the dates and the name during the handshake
            # (CERT_REQUIRED): a refused certificate fails it, reported above.
            lines.append("  . Verifying peer X.509 certificate... ok")
            print("\n".join(lines))

            request = "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: stm32-ssl-client\r\n\r\n" % (
                cfg.path, name)
            try:
                await tlsio.send_all(tls, request.encode(), IO_TIMEOUT * 1000)
            except asyncio.TimeoutError:
                raise Failed("  > Write to server:", "mbedtls_ssl_write timed out",
                             ["no room to send for %d s" % IO_TIMEOUT])
            except OSError as e:
                code, lines = _reason(e)
                raise Failed("  > Write to server:", "mbedtls_ssl_write returned %s"
                             % _hex(code or -1), lines)
            print("  > Write to server: %d bytes written\n\n%s" % (len(request), request), end="")

            reply, error = await self.read_reply(tls, cfg.max_reply)
            self.show(reply)
            if error is not None:
                raise Failed(None, error[0], error[1])
            s = tls.session
            if s is not None:
                self.session = s
            return True
        except Failed as f:
            step, headline, lines = f.args
            if step is not None:
                print(step + " failed")
            print("  ! " + headline)
            for line in lines:
                print("  ! " + line)
            return False
        finally:
            await tlsio.close(tls, sock, linger_ms=500)
            tls = sock = ctx = None
            gc.collect()
            print("  . Closing the connection and freeing the SSL structures... ok "
                  "(free heap %d bytes)" % gc.mem_free())

    async def read_reply(self, tls, cap):
        """Stream the reply: (Reply, None) when it is whole, (Reply, (headline, lines)) when
        it is not (cut short, too big, an error)."""
        reply = Reply()
        while True:
            try:
                data = await tlsio.recv(tls, CHUNK, IO_TIMEOUT * 1000)
            except asyncio.TimeoutError:
                return reply, ("the reply stopped: no data for %d s after %d bytes%s"
                               % (IO_TIMEOUT, reply.total, self._of(reply)), [])
            except OSError as e:
                if isinstance(e, ssl.SSLError) and e.args[0] == tlsio.CONN_EOF:
                    if reply.complete():
                        return reply, None
                    if reply.expected() is None and reply.head_len is not None:
                        return reply, ("the reply was cut short: %d bytes, then the server "
                                       "closed the connection without close_notify"
                                       % reply.total,
                                       ["without Content-Length only TLS's close_notify "
                                        "shows that the reply is whole"])
                    return reply, ("the reply was cut short: %d bytes read%s; the server "
                                   "closed the connection" % (reply.total, self._of(reply)), [])
                code, lines = _reason(e)
                return reply, ("mbedtls_ssl_read returned %s after %d bytes%s"
                               % (_hex(code or -1), reply.total, self._of(reply)), lines)
            if not data:                # close_notify: the server ended the reply
                reply.clean_end = True
                if reply.expected() is not None and reply.total < reply.expected():
                    return reply, ("the reply was cut short: %d bytes read%s"
                                   % (reply.total, self._of(reply)), [])
                if reply.total == 0:
                    return reply, ("the server sent nothing",
                                   ["connection closed before a reply"])
                return reply, None
            reply.add(data)
            if reply.total > cap:
                return reply, ("the reply is larger than max_reply=%d bytes: stopped after "
                               "%d bytes%s" % (cap, reply.total, self._of(reply)),
                               ["raise max_reply in the configuration to read more"])
            if reply.complete():
                return reply, None  # the whole response (the peer's close may come late)

    @staticmethod
    def _of(reply):
        exp = reply.expected()
        return "" if exp is None else " of %d (Content-Length %d)" % (exp, reply.length)

    @staticmethod
    def show(reply):
        text = tlsio.safe_text(reply.preview)
        more = reply.total - len(reply.preview)
        print("  < Read from server: %d bytes read\n\n%s" % (reply.total, text))
        if more > 0:
            print("\n  [ %d more bytes not shown ]" % more)


def prepare(cfg):
    """At start-up (demo.run): set aside one session's record buffers while the heap is
    whole (tls.reserve), so that a heap fragmented by long replies still has them."""
    import tls
    gc.collect()
    return tls.reserve(1)


async def task(board):
    cfg = board.cfg
    client = Client(board)
    number = 0
    while True:
        board.state("SSL client", "Blocked")
        if not board.ready.is_set():
            print("  . SSL client: waiting for the network ...")
            await board.ready.wait()
        number += 1
        board.state("SSL client", "Running")
        try:
            ok = await client.connect_once(number)
        except Exception as e:      # the connection's error boundary
            print("  ! Connection #%d: %s" % (number, tlsio.describe(e)))
            ok = False
        board.state("SSL client", "Blocked")
        if ok:
            print("  . Connection #%d done; the next one in %d s" % (number, cfg.period))
        else:
            print("  ! Connection #%d failed; the SSL client tries again in %d s"
                  % (number, cfg.period))
        await asyncio.sleep(cfg.period)
