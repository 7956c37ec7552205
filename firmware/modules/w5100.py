# This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
# SPDX-License-Identifier: MIT (see LICENSE at the top of the repository)
"""WIZnet W5100 over SPI: the chip's own TCP/IP stack as sockets (our own driver; Debian's
MicroPython has no WIZnet ioLibrary). WIZnet's W5100 datasheet v1.2 is the reference:
4-byte SPI frames (0xF0 write / 0x0F read, address high, address low, data), the common
registers, four sockets with their command/status/interrupt registers, and the 8 KiB TX and
RX memories split 2 KiB per socket (TMSR = RMSR = 0x55).

    from machine import SPI, Pin
    import w5100
    nic = w5100.W5100(SPI(1, baudrate=8_000_000), Pin("PB6", Pin.OUT, value=1))
    nic.ifconfig(("192.168.0.10", "255.255.255.0", "192.168.0.1"))
    s = nic.socket()                      # TCP; nic.socket(w5100.SOCK_DGRAM) for UDP
    s.connect(("192.168.0.1", 443))
    s.write(b"..."); s.read(100); s.close()

A TCP socket is a stream (io.IOBase: readinto, write, ioctl), so tls.SSLContext.wrap_socket
takes it like an lwIP socket. Every wait on the chip is bounded by the socket's timeout
(OSError ETIMEDOUT) or the chip's own retry timeout (OSError ECONNREFUSED on a CONNECT that
ends in TIMEOUT)."""

import errno
import io
import time

from micropython import const

SOCK_STREAM = const(1)
SOCK_DGRAM = const(2)

# Common registers (datasheet 3.1)
_MR = const(0x0000)
_GAR = const(0x0001)
_SUBR = const(0x0005)
_SHAR = const(0x0009)
_SIPR = const(0x000F)
_RTR = const(0x0017)
_RCR = const(0x0019)
_RMSR = const(0x001A)
_TMSR = const(0x001B)
_MR_RST = const(0x80)

# Socket registers (3.2): socket n at 0x0400 + n * 0x100
_SN = const(0x0400)
_SN_MR = const(0x00)
_SN_CR = const(0x01)
_SN_IR = const(0x02)
_SN_SR = const(0x03)
_SN_PORT = const(0x04)
_SN_DIPR = const(0x0C)
_SN_DPORT = const(0x10)
_SN_TX_FSR = const(0x20)
_SN_TX_WR = const(0x24)
_SN_RX_RSR = const(0x26)
_SN_RX_RD = const(0x28)

_MR_TCP = const(0x01)
_MR_UDP = const(0x02)
_CR_OPEN = const(0x01)
_CR_CONNECT = const(0x04)
_CR_DISCON = const(0x08)
_CR_CLOSE = const(0x10)
_CR_SEND = const(0x20)
_CR_RECV = const(0x40)
_IR_CON = const(0x01)
_IR_DISCON = const(0x02)
_IR_RECV = const(0x04)
_IR_TIMEOUT = const(0x08)
_IR_SEND_OK = const(0x10)
_SR_CLOSED = const(0x00)
_SR_INIT = const(0x13)
_SR_ESTABLISHED = const(0x17)
_SR_CLOSE_WAIT = const(0x1C)
_SR_UDP = const(0x22)

_TX_BASE = const(0x4000)
_RX_BASE = const(0x6000)
_BUF_SIZE = const(0x0800)          # 2 KiB per socket (TMSR = RMSR = 0x55)
_BUF_MASK = const(0x07FF)
_SOCKETS = const(4)
_MAX_POLL = const(1)               # ioctl MP_STREAM_POLL
_POLL_RD = const(1)
_POLL_WR = const(4)


def _ip_bytes(addr):
    parts = [int(p) for p in addr.split(".")]
    if len(parts) != 4 or any(not 0 <= p <= 255 for p in parts):
        raise ValueError("not an IPv4 address: %r" % (addr,))
    return bytes(parts)


class W5100:
    """The chip on an SPI bus with its chip select (a Pin, high = idle)."""

    def __init__(self, spi, cs, mac=b"\x00\x08\xdc\x00\x00\x10"):
        self._spi = spi
        self._cs = cs
        self._frame = bytearray(4)
        self._answer = bytearray(4)
        self._used = [False] * _SOCKETS
        self._next_port = 49152 + (time.ticks_us() & 0x3FFF)
        cs(1)
        self.write(_MR, bytes([_MR_RST]))          # soft reset; RST clears itself
        deadline = time.ticks_add(time.ticks_ms(), 100)
        while self.read(_MR, 1)[0] & _MR_RST:
            if time.ticks_diff(deadline, time.ticks_ms()) < 0:
                raise OSError(errno.ETIMEDOUT, "W5100: soft reset did not end (MR.RST)")
        self.write(_SHAR, mac)
        self.write(_RMSR, b"\x55")
        self.write(_TMSR, b"\x55")
        if self.read(_SHAR, 6) != mac:
            raise OSError(errno.ENODEV, "W5100: no answer on SPI (SHAR reads back wrong)")

    # --- registers and memories, one 4-byte SPI frame per byte (datasheet 6.3) ---

    def write(self, addr, data):
        f = self._frame
        for i, b in enumerate(data):
            a = addr + i
            f[0] = 0xF0
            f[1] = a >> 8
            f[2] = a & 0xFF
            f[3] = b
            self._cs(0)
            self._spi.write(f)
            self._cs(1)

    def read(self, addr, n):
        out = bytearray(n)
        f, ans = self._frame, self._answer
        for i in range(n):
            a = addr + i
            f[0] = 0x0F
            f[1] = a >> 8
            f[2] = a & 0xFF
            f[3] = 0
            self._cs(0)
            self._spi.write_readinto(f, ans)
            self._cs(1)
            out[i] = ans[3]
        return out

    def read16(self, addr):
        # the datasheet's advice for the free-running 16-bit registers: read until stable
        while True:
            b = self.read(addr, 2)
            again = self.read(addr, 2)
            if b == again:
                return (b[0] << 8) | b[1]

    def write16(self, addr, value):
        self.write(addr, bytes((value >> 8, value & 0xFF)))

    # --- network set-up ---

    def ifconfig(self, config=None):
        """(ip, netmask, gateway) of the chip; set it with a tuple of the same."""
        if config is None:
            def dotted(b):
                return ".".join(str(x) for x in b)
            return (dotted(self.read(_SIPR, 4)), dotted(self.read(_SUBR, 4)),
                    dotted(self.read(_GAR, 4)))
        ip, mask, gw = config[:3]
        self.write(_SIPR, _ip_bytes(ip))
        self.write(_SUBR, _ip_bytes(mask))
        self.write(_GAR, _ip_bytes(gw))

    def retry(self, rtr_100us=2000, rcr=8):
        """The chip's retransmission time (RTR, 100 us units) and count (RCR)."""
        self.write16(_RTR, rtr_100us)
        self.write(_RCR, bytes((rcr,)))

    def socket(self, kind=SOCK_STREAM):
        for n in range(_SOCKETS):
            if not self._used[n]:
                self._used[n] = True
                return Socket(self, n, kind)
        raise OSError(errno.EMFILE, "W5100: all 4 sockets are in use")

    def _local_port(self):
        self._next_port = 49152 + ((self._next_port - 49152 + 1) & 0x3FFF)
        return self._next_port


class Socket(io.IOBase):
    """One of the chip's four sockets, TCP (a stream) or UDP (sendto/recvfrom)."""

    def __init__(self, nic, n, kind):
        self._nic = nic
        self._n = n
        self._base = _SN + n * 0x100
        self._kind = kind
        self._timeout = None
        self._tx = _TX_BASE + n * _BUF_SIZE
        self._rx = _RX_BASE + n * _BUF_SIZE
        self._open(0)

    # --- register helpers ---

    def _r(self, off, n=1):
        return self._nic.read(self._base + off, n)

    def _w(self, off, data):
        self._nic.write(self._base + off, data)

    def _sr(self):
        return self._r(_SN_SR)[0]

    def _command(self, cmd):
        self._w(_SN_CR, bytes((cmd,)))
        while self._r(_SN_CR)[0]:                    # Sn_CR reads 0 once taken
            pass

    def _deadline(self):
        if self._timeout is None:
            return None
        return time.ticks_add(time.ticks_ms(), int(self._timeout * 1000))

    def _expired(self, deadline):
        if deadline is not None and time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            raise OSError(errno.ETIMEDOUT, "W5100: timed out")

    def _open(self, port):
        self._command(_CR_CLOSE)
        self._w(_SN_IR, b"\xff")
        self._w(_SN_MR, bytes((_MR_TCP if self._kind == SOCK_STREAM else _MR_UDP,)))
        port = port or self._nic._local_port()
        self._nic.write16(self._base + _SN_PORT, port)
        self._command(_CR_OPEN)
        want = _SR_INIT if self._kind == SOCK_STREAM else _SR_UDP
        if self._sr() != want:
            raise OSError(errno.EIO, "W5100: socket %d did not open (SR 0x%02x)"
                          % (self._n, self._sr()))

    # --- the socket interface ---

    def settimeout(self, seconds):
        self._timeout = seconds

    def bind(self, addr):
        self._open(addr[1])

    def connect(self, addr):
        if self._kind != SOCK_STREAM:
            raise OSError(errno.EOPNOTSUPP, "connect: a UDP socket uses sendto")
        host, port = addr
        self._w(_SN_DIPR, _ip_bytes(host))
        self._nic.write16(self._base + _SN_DPORT, port)
        self._command(_CR_CONNECT)
        deadline = self._deadline()
        while True:
            sr, ir = self._sr(), self._r(_SN_IR)[0]
            if sr == _SR_ESTABLISHED:
                self._w(_SN_IR, bytes((_IR_CON,)))
                return
            if ir & _IR_TIMEOUT or sr == _SR_CLOSED:
                self._w(_SN_IR, bytes((_IR_TIMEOUT,)))
                raise OSError(errno.ECONNREFUSED, "W5100: %s:%d did not answer" % (host, port))
            self._expired(deadline)

    def write(self, data):
        """Sends all of data (TCP); the number of bytes."""
        view = memoryview(data)
        sent = 0
        deadline = self._deadline()
        while sent < len(view):
            sr = self._sr()
            if sr not in (_SR_ESTABLISHED, _SR_CLOSE_WAIT):
                raise OSError(errno.ENOTCONN if sent == 0 else errno.ECONNRESET,
                              "W5100: connection closed")
            free = self._nic.read16(self._base + _SN_TX_FSR)
            if not free:
                self._expired(deadline)
                continue
            chunk = view[sent:sent + min(free, _BUF_SIZE)]
            self._put(chunk)
            self._command(_CR_SEND)
            self._wait_sent(deadline)
            sent += len(chunk)
        return sent

    send = write

    def sendall(self, data):
        self.write(data)

    def _put(self, chunk):
        wr = self._nic.read16(self._base + _SN_TX_WR)
        off = wr & _BUF_MASK
        first = min(len(chunk), _BUF_SIZE - off)
        self._nic.write(self._tx + off, chunk[:first])
        if first < len(chunk):
            self._nic.write(self._tx, chunk[first:])          # wrap to the window's start
        self._nic.write16(self._base + _SN_TX_WR, (wr + len(chunk)) & 0xFFFF)

    def _wait_sent(self, deadline):
        while True:
            ir = self._r(_SN_IR)[0]
            if ir & _IR_SEND_OK:
                self._w(_SN_IR, bytes((_IR_SEND_OK,)))
                return
            if ir & _IR_TIMEOUT:
                self._w(_SN_IR, bytes((_IR_TIMEOUT,)))
                raise OSError(errno.ECONNRESET, "W5100: send timed out (peer gone)")
            self._expired(deadline)

    def _take(self, buf, n):
        rd = self._nic.read16(self._base + _SN_RX_RD)
        off = rd & _BUF_MASK
        first = min(n, _BUF_SIZE - off)
        buf[:first] = self._nic.read(self._rx + off, first)
        if first < n:
            buf[first:n] = self._nic.read(self._rx, n - first)
        self._nic.write16(self._base + _SN_RX_RD, (rd + n) & 0xFFFF)
        self._command(_CR_RECV)

    def readinto(self, buf, n=None):
        """Reads what has arrived, at most len(buf) bytes, waiting for the first; 0 at the
        end of the stream."""
        n = len(buf) if n is None else min(n, len(buf))
        deadline = self._deadline()
        while True:
            have = self._nic.read16(self._base + _SN_RX_RSR)
            if have:
                n = min(n, have)
                self._take(memoryview(buf), n)
                return n
            if self._sr() not in (_SR_ESTABLISHED,):
                # the end of the stream, unless data came with the FIN between the two
                # reads (the chip takes both while the CPU looks): take that first
                if self._nic.read16(self._base + _SN_RX_RSR):
                    continue
                return 0
            self._expired(deadline)

    def read(self, n=-1):
        if n < 0:
            out = b""
            while True:
                chunk = self.read(_BUF_SIZE)
                if not chunk:
                    return out
                out += chunk
        buf = bytearray(n)
        got = self.readinto(buf)
        return bytes(buf[:got])

    recv = read

    def sendto(self, data, addr):
        if self._kind != SOCK_DGRAM:
            raise OSError(errno.EOPNOTSUPP, "sendto: a TCP socket uses write")
        if len(data) > _BUF_SIZE:
            raise ValueError("sendto: at most 2048 bytes")
        self._w(_SN_DIPR, _ip_bytes(addr[0]))
        self._nic.write16(self._base + _SN_DPORT, addr[1])
        self._put(memoryview(data))
        self._command(_CR_SEND)
        self._wait_sent(self._deadline())
        return len(data)

    def recvfrom(self, n):
        """One datagram (at most n bytes of it) and its sender (ip, port)."""
        deadline = self._deadline()
        while self._nic.read16(self._base + _SN_RX_RSR) < 8:
            self._expired(deadline)
        head = bytearray(8)
        self._take(memoryview(head), 8)              # peer IP 4, port 2, length 2
        size = (head[6] << 8) | head[7]
        data = bytearray(size)
        if size:
            self._take(memoryview(data), size)
        peer = (".".join(str(b) for b in head[:4]), (head[4] << 8) | head[5])
        return bytes(data[:n]), peer

    def ioctl(self, req, arg):
        if req == _MAX_POLL:
            ready = 0
            if arg & _POLL_RD and (self._nic.read16(self._base + _SN_RX_RSR)
                                   or self._sr() != _SR_ESTABLISHED):
                ready |= _POLL_RD
            if arg & _POLL_WR and self._nic.read16(self._base + _SN_TX_FSR):
                ready |= _POLL_WR
            return ready
        if req == 4:                                   # MP_STREAM_CLOSE
            self.close()
            return 0
        return -errno.EINVAL

    def close(self):
        if not self._nic._used[self._n]:
            return
        if self._kind == SOCK_STREAM and self._sr() in (_SR_ESTABLISHED, _SR_CLOSE_WAIT):
            self._command(_CR_DISCON)
            deadline = time.ticks_add(time.ticks_ms(), 1000)
            while self._sr() != _SR_CLOSED and time.ticks_diff(deadline, time.ticks_ms()) > 0:
                pass
        self._command(_CR_CLOSE)
        self._w(_SN_IR, b"\xff")
        self._nic._used[self._n] = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
