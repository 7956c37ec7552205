# ssl: a CPython-style TLS API on MicroPython's tls module (mbedTLS 3.6; AES, DES, SHA-1, MD5
# and, on the STM32F439, SHA-256 on the CRYP/HASH peripherals in a HW_CRYPTO build).
#
# There is no filesystem on the board, so certificates, keys and CA bundles are given as
# PEM (str or bytes) or DER (bytes) data; a str that is not PEM is taken as a file path and
# fails with OSError(ENOENT) where there is no filesystem.
#
#   import ssl, socket
#   ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
#   ctx.load_verify_locations(cadata=CA_PEM)
#   ssl.set_time(1790000000)              # the board has no RTC: see set_time below
#   s = ctx.wrap_socket(sock, server_hostname="192.168.0.1")
#   print(s.cipher(), s.version())        # ('TLS_AES_256_GCM_SHA384', 'TLSv1.3', 256)
#
# TLS 1.3 and 1.2 (ctx.minimum_version / maximum_version), forward-secret suites only by
# default with AEAD first (DEFAULT_CIPHERS; set_ciphers() reaches every suite the firmware
# has, e.g. the original ST demo's DHE-RSA-AES256-SHA), session resumption (servers keep a
# session cache and issue tickets; clients pass wrap_socket(session=s.session)), and
# do_handshake()/unwrap() for non-blocking sockets (see the tlsio module for asyncio).

import tls
from tls import (
    CERT_NONE,
    CERT_OPTIONAL,
    CERT_REQUIRED,
    MBEDTLS_VERSION,
    PROTOCOL_TLS_CLIENT,
    PROTOCOL_TLS_SERVER,
)

# set_time(seconds since 1970 UTC): the clock for certificate validity. Until it is called,
# the clock runs from the firmware's release date, so a certificate that expired before the
# release is refused and one issued after it is "not yet valid". time() reads the clock.
set_time = tls.set_time
time = tls.time
time_is_set = tls.time_is_set
# selftest(verbose=False) -> {"aes": True, ...}: mbedTLS's self-tests on this firmware
selftest = tls.selftest
HW_CRYPTO = tls.HW_CRYPTO
OPENSSL_VERSION = MBEDTLS_VERSION  # what CPython code prints; here the mbedTLS version


class SSLError(OSError):
    """A TLS failure reported by mbedTLS: args are (mbedTLS error code, text)."""


class SSLCertVerificationError(SSLError):
    """The peer's certificate was refused (untrusted, expired, wrong name, ...)."""


class SSLWantReadError(SSLError):
    """A non-blocking handshake waits for data from the peer."""


class SSLWantWriteError(SSLError):
    """A non-blocking handshake waits for room to send."""


class TLSVersion:
    """TLS versions as CPython names them (values: the protocol's version numbers)."""
    TLSv1_2 = 0x0303
    TLSv1_3 = 0x0304
    MINIMUM_SUPPORTED = 0x0303
    MAXIMUM_SUPPORTED = 0x0304


# The suites a new context offers, in preference order (OpenSSL/IANA names): TLS 1.3's, then
# TLS 1.2 with forward secrecy, AEAD (GCM) before CBC, no SHA-1 MACs and no RSA key
# transport. The rest (DHE-RSA-AES256-SHA, AES256-SHA256, the AES-CCM suites of both
# versions, ...) stays available through set_ciphers().
DEFAULT_CIPHERS = (
    "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256")

# A server context keeps the sessions of its last SESSION_CACHE_SIZE clients (TLS 1.2
# session IDs) for SESSION_TIMEOUT s and issues tickets (TLS 1.2 and 1.3) whose key rotates
# every SESSION_TIMEOUT s.
SESSION_CACHE_SIZE = 8
SESSION_TIMEOUT = 3600


_CONN_EOF = -0x7280     # MBEDTLS_ERR_SSL_CONN_EOF: TCP closed without close_notify


class Purpose:
    SERVER_AUTH = "SERVER_AUTH"  # a client context that checks servers
    CLIENT_AUTH = "CLIENT_AUTH"  # a server context


def _data(value, what):
    # PEM/DER data as tls takes it (bytes or str), or the contents of a file.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        if "-----BEGIN " in value:
            return value
        try:
            with open(value, "rb") as f:
                return f.read()
        except (NameError, OSError):
            raise OSError(2, "%s %r: no such file (pass the PEM or DER data)" % (what, value))
    raise TypeError("%s must be PEM/DER data or a path" % what)


def iana_name(name):
    """mbedTLS suite name -> the IANA name with dashes, as the console shows it:
    TLS1-3-AES-256-GCM-SHA384 -> TLS-AES-256-GCM-SHA384 (TLS 1.2 names are already so)."""
    return "TLS-" + name[7:] if name.startswith("TLS1-3-") else name


def suite_name(name):
    """mbedTLS/IANA suite name -> OpenSSL's, as CPython's SSLSocket.cipher() gives it:
    TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384 -> ECDHE-RSA-AES256-GCM-SHA384,
    TLS-DHE-RSA-WITH-AES-256-CBC-SHA -> DHE-RSA-AES256-SHA, TLS-RSA-WITH-AES-128-CBC-SHA256
    -> AES128-SHA256, TLS-RSA-WITH-AES-128-CCM-8 -> AES128-CCM8; TLS 1.3's
    TLS1-3-AES-256-GCM-SHA384 -> TLS_AES_256_GCM_SHA384."""
    if name.startswith("TLS1-3-"):
        return "TLS_" + name[7:].replace("-", "_")
    if not name.startswith("TLS-") or "-WITH-" not in name:
        return name
    kx, cipher = name[4:].split("-WITH-", 1)
    cipher = cipher.replace("AES-", "AES").replace("-CBC", "").replace("-CCM-8", "-CCM8")
    return cipher if kx == "RSA" else kx + "-" + cipher


def _suite_bits(name):
    for bits in (256, 192, 128):
        if "-%d-" % bits in name or "AES%d" % bits in name:
            return bits
    return None


class SSLContext:
    """TLS settings shared by the sockets it wraps: role, certificates, verification."""

    def __init__(self, protocol=PROTOCOL_TLS_CLIENT):
        if protocol not in (PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER):
            raise ValueError("protocol must be PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER")
        try:
            self._ctx = tls.SSLContext(protocol)
        except OSError as e:
            # tls passes mbedTLS codes above -256 on as if they were errnos: seeding the
            # DRBG fails with MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED (-0x34) when the
            # RNG (the only entropy source) reports an error
            if e.args and e.args[0] == 0x34:
                raise SSLError(-0x34, "CTR_DRBG - The entropy source failed (hardware RNG error)")
            raise
        self.protocol = protocol
        # as CPython: clients verify the server and its name, servers ask for no client cert
        self._check_hostname = protocol == PROTOCOL_TLS_CLIENT
        self._tls13 = []        # the TLS 1.3 suites offered (set_ciphers keeps them)
        known = self._known()
        self.set_ciphers([c for c in DEFAULT_CIPHERS.split(":") if c in known])
        if protocol == PROTOCOL_TLS_SERVER:
            self.set_session_cache(SESSION_CACHE_SIZE, SESSION_TIMEOUT)
            self.set_session_tickets(SESSION_TIMEOUT)

    @property
    def minimum_version(self):
        return self._ctx.get_versions()[0]

    @minimum_version.setter
    def minimum_version(self, version):
        self._ctx.set_versions(version, max(version, self._ctx.get_versions()[1]))

    @property
    def maximum_version(self):
        return self._ctx.get_versions()[1]

    @maximum_version.setter
    def maximum_version(self, version):
        self._ctx.set_versions(min(version, self._ctx.get_versions()[0]), version)

    def set_session_cache(self, size=SESSION_CACHE_SIZE, timeout=SESSION_TIMEOUT):
        """Server: keep the last size sessions for timeout s (TLS 1.2 resumption by session
        ID); size 0 turns the cache off."""
        self._ctx.session_cache(size, timeout)

    def set_session_tickets(self, lifetime=SESSION_TIMEOUT):
        """Server: issue session tickets valid for lifetime s (0: none)."""
        self._ctx.session_tickets(lifetime)

    @property
    def verify_mode(self):
        return self._ctx.verify_mode

    @verify_mode.setter
    def verify_mode(self, mode):
        if mode not in (CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED):
            raise ValueError("verify_mode must be CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED")
        if mode == CERT_NONE and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        self._ctx.verify_mode = mode

    @property
    def check_hostname(self):
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value):
        self._check_hostname = bool(value)
        if self._check_hostname and self._ctx.verify_mode == CERT_NONE:
            self._ctx.verify_mode = CERT_REQUIRED

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        """Own certificate (chain) and private key: PEM/DER data or paths. Without keyfile
        the key is taken from certfile's data (one PEM holding both)."""
        if password is not None:
            raise ValueError("encrypted private keys are not supported")
        cert = _data(certfile, "certfile")
        key = cert if keyfile is None else _data(keyfile, "keyfile")
        self._ctx.load_cert_chain(cert, key)

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        """Trusted CA certificates: cadata (PEM str/bytes with one or more certificates, or
        one DER certificate), or cafile (PEM/DER data or a path). Calls add up."""
        if capath is not None:
            raise ValueError("capath is not supported (no filesystem): use cadata")
        if cafile is None and cadata is None:
            raise TypeError("cafile or cadata must be given")
        for value in (cafile, cadata):
            if value is not None:
                self._ctx.load_verify_locations(_data(value, "cafile"))

    def load_default_certs(self, purpose=Purpose.SERVER_AUTH):
        pass  # the board has no system CA store

    def get_ciphers(self):
        """Every suite the firmware has: [{'name': OpenSSL name, 'id': mbedTLS name,
        'protocol': 'TLSv1.3' or 'TLSv1.2'}, ...] (DEFAULT_CIPHERS: what is offered)."""
        return [{"name": suite_name(n), "id": n,
                 "protocol": "TLSv1.3" if n.startswith("TLS1-3-") else "TLSv1.2"}
                for n in self._ctx.get_ciphers()]

    def _known(self):
        # every name a suite goes by -> its mbedTLS name
        known = {}
        for n in self._ctx.get_ciphers():
            for alias in (n, suite_name(n), iana_name(n), iana_name(n).replace("-", "_")):
                known[alias] = n
        return known

    def set_ciphers(self, ciphers):
        """Restrict and order the suites: OpenSSL names joined by ':' as in CPython
        ('DHE-RSA-AES256-SHA256:ECDHE-RSA-AES128-GCM-SHA256'), or a list of OpenSSL, IANA or
        mbedTLS names. As in CPython, TLS 1.2 suites are replaced and TLS 1.3's stay unless
        the list names TLS 1.3 suites too (maximum_version = TLSVersion.TLSv1_2 leaves them
        out altogether)."""
        if isinstance(ciphers, str):
            ciphers = [c for c in ciphers.split(":") if c]
        known = self._known()
        chosen = []
        for c in ciphers:
            if c not in known:
                raise SSLError(-1, "No cipher can be selected: %s is not available" % c)
            chosen.append(known[c])
        tls13 = [c for c in chosen if c.startswith("TLS1-3-")]
        tls12 = [c for c in chosen if not c.startswith("TLS1-3-")]
        if tls13:
            self._tls13 = tls13
        if not tls12 and not tls13:
            raise SSLError(-1, "No cipher can be selected.")
        self._ctx.set_ciphers(self._tls13 + tls12 if tls12 else self._tls13)

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    suppress_ragged_eofs=True, server_hostname=None, session=None):
        """Run the TLS handshake on a connected socket (server_side=True for an accepted one)
        and return an SSLSocket. The handshake refuses a server certificate that does not
        chain to a loaded CA, is outside its validity dates (see set_time), or does not match
        server_hostname: SSLCertVerificationError with mbedTLS's reason. A server with
        verify_mode CERT_OPTIONAL refuses a presented client certificate that does not
        verify (as CPython), with the alert. session: a client's earlier SSLSocket.session,
        to resume it. do_handshake_on_connect=False: call do_handshake() (non-blocking
        sockets: again until it returns True)."""
        if server_side:
            if self.protocol != PROTOCOL_TLS_SERVER:
                raise ValueError("server_side needs a PROTOCOL_TLS_SERVER context")
            server_hostname = None
        else:
            if self.protocol != PROTOCOL_TLS_CLIENT:
                raise ValueError("a PROTOCOL_TLS_SERVER context can only wrap server_side")
            if server_hostname is None and self._check_hostname:
                raise ValueError("check_hostname requires server_hostname")
            if server_hostname is None and self._ctx.verify_mode == CERT_REQUIRED:
                raise ValueError("CERT_REQUIRED needs server_hostname (mbedTLS always checks "
                                 "the name of a verified server)")
        try:
            s = self._ctx.wrap_socket(sock, server_side=server_side,
                                      do_handshake_on_connect=do_handshake_on_connect,
                                      server_hostname=server_hostname, session=session)
        except (ValueError, OSError) as e:
            raise _tls_error(e)
        return SSLSocket(self, s, sock, server_side, server_hostname, suppress_ragged_eofs)


def _tls_error(e):
    """tls's exception -> ssl's: a refused certificate (tls: ValueError with the x509
    reasons) -> SSLCertVerificationError; an mbedTLS code -> SSLError with mbedTLS's name
    for it; other errors as they are (OSError with an errno, MemoryError ...)."""
    if isinstance(e, ValueError) and not isinstance(e, SSLError):
        reasons = "; ".join(r.strip() for r in str(e).split("\n") if r.strip())
        return SSLCertVerificationError(-0x2700, "certificate verify failed: " + reasons)
    if (isinstance(e, OSError) and not isinstance(e, SSLError) and e.args
            and isinstance(e.args[0], int) and e.args[0] < 0):
        if len(e.args) == 1:        # read/write errors come without mbedTLS's text
            return SSLError(e.args[0], tls.strerror(e.args[0]))
        return SSLError(*e.args)
    return e


class SSLSocket:
    """A TLS connection: stream methods (read, write, readinto, readline), socket methods
    (recv, recv_into, send, sendall), what was negotiated (cipher, version, session_reused)
    and the session to resume (session)."""

    def __init__(self, context, tls_sock, sock, server_side, server_hostname,
                 suppress_ragged_eofs=True):
        self.context = context
        # as CPython: True reads a TCP close without close_notify as the end of the stream
        # (b""), False raises SSLError (MBEDTLS_ERR_SSL_CONN_EOF, -0x7280): a cut reply
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._s = tls_sock
        self._sock = sock
        self._session = None
        self.server_side = server_side
        self.server_hostname = server_hostname

    def do_handshake(self, block=True):
        """Run the handshake (after wrap_socket(do_handshake_on_connect=False)). On a
        non-blocking socket: SSLWantReadError/SSLWantWriteError while it waits for the peer
        (poll the SSLSocket, then call again), or block=False to get False instead."""
        try:
            while not self._s.do_handshake():
                if not block:
                    return False
                raise SSLWantReadError(-0x6900, "SSL - the handshake waits for the peer")
        except (ValueError, OSError) as e:
            raise _tls_error(e)
        return True

    @property
    def session(self):
        """The client's session, for wrap_socket(session=...) on a later connection (None on
        a server or before one was made). With TLS 1.3 it carries the server's ticket, which
        comes after the handshake: read it after some data was read."""
        s = self._s.get_session()
        if s is not None:
            self._session = s
        return self._session

    @property
    def session_reused(self):
        """Whether this handshake resumed an earlier session."""
        return self._s.session_reused()

    def unwrap(self):
        """End TLS (close_notify) and return the underlying socket, still open."""
        return self._s.unwrap()

    # stream and socket methods; errors come out as ssl's (SSLError with mbedTLS's name)

    def _ragged(self, e):
        return self.suppress_ragged_eofs and isinstance(e, OSError) and e.args \
            and e.args[0] == _CONN_EOF

    def read(self, n=-1):
        try:
            return self._s.read(n) if n >= 0 else self._s.read()
        except (ValueError, OSError) as e:
            if self._ragged(e):
                return b""
            raise _tls_error(e)

    def readinto(self, buf, n=None):
        try:
            return self._s.readinto(buf) if n is None else self._s.readinto(buf, n)
        except (ValueError, OSError) as e:
            if self._ragged(e):
                return 0
            raise _tls_error(e)

    def readline(self):
        try:
            return self._s.readline()
        except (ValueError, OSError) as e:
            raise _tls_error(e)

    def write(self, data):
        try:
            return self._s.write(data)
        except (ValueError, OSError) as e:
            raise _tls_error(e)

    def recv(self, n):
        """At most n bytes as soon as some arrive; b'' at the end of the stream."""
        try:
            return self._s.recv(n)
        except (ValueError, OSError) as e:
            if self._ragged(e):
                return b""
            raise _tls_error(e)

    def recv_into(self, buf, n=0):
        try:
            return self._s.recv_into(buf, n) if n else self._s.recv_into(buf)
        except (ValueError, OSError) as e:
            if self._ragged(e):
                return 0
            raise _tls_error(e)

    def send(self, data):
        try:
            return self._s.send(data)
        except (ValueError, OSError) as e:
            raise _tls_error(e)

    def sendall(self, data):
        self.write(data)

    def cipher(self):
        """(OpenSSL suite name, protocol version, secret bits), as CPython gives it."""
        name, version = self._s.cipher()
        return (suite_name(name), version, _suite_bits(name))

    def cipher_suite(self):
        """The negotiated suite's IANA name with dashes, as mbedTLS names TLS 1.2 suites:
        TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384, TLS-AES-256-GCM-SHA384 (TLS 1.3)."""
        return iana_name(self._s.cipher()[0])

    def version(self):
        return self._s.cipher()[1]

    def getpeercert(self, binary_form=False):
        """The peer's certificate as DER bytes (binary_form=True only)."""
        if not binary_form:
            raise NotImplementedError("getpeercert() needs binary_form=True")
        return self._s.getpeercert(True)

    def setblocking(self, flag):
        self._s.setblocking(flag)

    def settimeout(self, value):
        self._sock.settimeout(value)

    def close(self):
        self._s.close()
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def create_default_context(purpose=Purpose.SERVER_AUTH, cafile=None, capath=None, cadata=None):
    """A client context (SERVER_AUTH: verify the server and its name) or a server context
    (CLIENT_AUTH), with the CA data given."""
    ctx = SSLContext(PROTOCOL_TLS_CLIENT if purpose == Purpose.SERVER_AUTH else PROTOCOL_TLS_SERVER)
    if cafile is not None or cadata is not None:
        ctx.load_verify_locations(cafile=cafile, cadata=cadata)
    if capath is not None:
        ctx.load_verify_locations(capath=capath)
    return ctx


def wrap_socket(sock, server_side=False, key=None, cert=None, cert_reqs=CERT_NONE,
                cadata=None, server_hostname=None, do_handshake=True):
    """MicroPython's classic one-call form (as micropython-lib's ssl module)."""
    ctx = SSLContext(PROTOCOL_TLS_SERVER if server_side else PROTOCOL_TLS_CLIENT)
    if not server_side:
        ctx.check_hostname = False
    ctx.verify_mode = cert_reqs
    if cert is not None or key is not None:
        ctx.load_cert_chain(cert, key)
    if cadata is not None:
        ctx.load_verify_locations(cadata=cadata)
    return ctx.wrap_socket(sock, server_side=server_side,
                           do_handshake_on_connect=do_handshake, server_hostname=server_hostname)
