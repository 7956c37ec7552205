"""The WIZnet W5100 on the NUCLEO-F411RE's SPI1 (W5100 datasheet v1.2), driven as a
driver drives it: SPI1 registers byte by byte, chip select on PB6 (Arduino D10), INT on
PA10 (Arduino D2).

Its TCP and UDP sockets are carried by host sockets under the lab's network rule: the
only peer is the lab host 192.168.0.1, whose ports map to 127.0.0.1 ports through the
model's `forward` (GUESTPORT:HOSTPORT) and `listen` (HOSTPORT:GUESTPORT) properties;
the Python peers here are real loopback sockets. Under qtest the virtual clock only moves
with clock_step, so timeouts are stepped; host I/O runs in QEMU's main loop meanwhile.
"""
import os
import random
import re
import socket
import time
from pathlib import Path

import pytest

from lab_qtest import QTest

MACHINE = "nucleo-f411re"
RCC = 0x40023800
AHB1ENR, APB2ENR = RCC + 0x30, RCC + 0x44
GPIOA, GPIOB = 0x40020000, 0x40020400
MODER, IDR, BSRR = 0x00, 0x10, 0x18
SPI1 = 0x40013000
CR1, SR, DR = 0x00, 0x08, 0x0C
MASTER = 1 << 2 | 1 << 9 | 1 << 8 | 1 << 6        # MSTR, SSM, SSI, SPE
RXNE = 1
CS_PIN, INT_PIN = 6, 10
LAB_HOST = bytes([192, 168, 0, 1])

# Common registers (3.1): address, reset bytes, writable
MR, IR, IMR, RTR, RCR, RMSR, TMSR = 0x00, 0x15, 0x16, 0x17, 0x19, 0x1A, 0x1B
COMMON = [
    ("GAR", 0x0001, bytes(4), True),
    ("SUBR", 0x0005, bytes(4), True),
    ("SHAR", 0x0009, bytes(6), True),
    ("SIPR", 0x000F, bytes(4), True),
    ("IMR", 0x0016, b"\x00", True),
    ("RTR", 0x0017, b"\x07\xD0", True),
    ("RCR", 0x0019, b"\x08", True),
    ("RMSR", 0x001A, b"\x55", True),
    ("TMSR", 0x001B, b"\x55", True),
    ("PATR", 0x001C, b"\x00\x00", False),
    ("PTIMER", 0x0028, b"\x28", True),
    ("PMAGIC", 0x0029, b"\x00", True),
    ("UIPR", 0x002A, bytes(4), False),
    ("UPORT", 0x002E, bytes(2), False),
]
# Socket registers (3.2): offset, reset bytes, writable
SN_MR, SN_CR, SN_IR, SN_SR, SN_PORT, SN_DIPR, SN_DPORT = 0x00, 0x01, 0x02, 0x03, 0x04, 0x0C, 0x10
SN_TX_FSR, SN_TX_RD, SN_TX_WR, SN_RX_RSR, SN_RX_RD = 0x20, 0x22, 0x24, 0x26, 0x28
SOCKET = [
    ("Sn_MR", 0x00, b"\x00", True),
    ("Sn_SR", 0x03, b"\x00", False),
    ("Sn_PORT", 0x04, bytes(2), True),
    ("Sn_DHAR", 0x06, b"\xFF" * 6, True),
    ("Sn_DIPR", 0x0C, bytes(4), True),
    ("Sn_DPORT", 0x10, bytes(2), True),
    ("Sn_MSSR", 0x12, bytes(2), True),
    ("Sn_PROTO", 0x14, b"\x00", True),
    ("Sn_TOS", 0x15, b"\x00", True),
    ("Sn_TTL", 0x16, b"\x80", True),
    ("Sn_TX_FSR", 0x20, b"\x08\x00", False),
    ("Sn_TX_RD", 0x22, bytes(2), False),
    ("Sn_TX_WR", 0x24, bytes(2), True),
    ("Sn_RX_RSR", 0x26, bytes(2), False),
    ("Sn_RX_RD", 0x28, bytes(2), True),
]
TCP, UDP = 1, 2
OPEN, LISTEN, CONNECT, DISCON, CLOSE, SEND, RECV = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40
CON, DISCON_IR, RECV_IR, TIMEOUT, SEND_OK = 1, 2, 4, 8, 16
CLOSED, INIT, LISTEN_SR, SYNSENT, ESTABLISHED, CLOSE_WAIT, UDP_SR = (
    0x00, 0x13, 0x14, 0x15, 0x17, 0x1C, 0x22)


class W5100:
    """A driver's view: SPI1 master, 4-byte frames, PB6 as chip select."""

    def __init__(self, q: QTest):
        self.q = q
        q.writel(AHB1ENR, 0b11)                                  # GPIOA, GPIOB
        q.writel(APB2ENR, 1 << 12)                               # SPI1
        q.writel(GPIOB + BSRR, 1 << CS_PIN)
        q.writel(GPIOB + MODER, q.readl(GPIOB + MODER) | 1 << 2 * CS_PIN)
        q.writel(SPI1 + CR1, MASTER)

    def cs(self, selected: bool) -> None:
        self.q.writel(GPIOB + BSRR, 1 << (CS_PIN + 16 if selected else CS_PIN))

    def xfer(self, data: bytes) -> bytes:
        """Clock bytes out as HAL_SPI_TransmitReceive does: DR write, wait RXNE, DR read."""
        out = []
        for b in data:
            self.q.writel(SPI1 + DR, b)
            assert self.q.readl(SPI1 + SR) & RXNE
            out.append(self.q.readl(SPI1 + DR))
        return bytes(out)

    def frame(self, op: int, addr: int, data: int = 0) -> bytes:
        self.cs(True)
        reply = self.xfer(bytes([op, addr >> 8, addr & 0xFF, data]))
        self.cs(False)
        return reply

    def write(self, addr: int, data: bytes) -> None:
        for i, b in enumerate(data):
            assert self.frame(0xF0, addr + i, b) == b"\x00\x01\x02\x03"

    def read(self, addr: int, n: int = 1) -> bytes:
        return bytes(self.frame(0x0F, addr + i)[3] for i in range(n))

    def read16(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 2), "big")

    def write16(self, addr: int, value: int) -> None:
        self.write(addr, (value & 0xFFFF).to_bytes(2, "big"))

    # --- sockets ---
    @staticmethod
    def sreg(n: int, off: int) -> int:
        return 0x0400 + 0x100 * n + off

    def sr(self, n: int) -> int:
        return self.read(self.sreg(n, SN_SR))[0]

    def ir(self, n: int) -> int:
        return self.read(self.sreg(n, SN_IR))[0]

    def clear_ir(self, n: int, bits: int = 0xFF) -> None:
        self.write(self.sreg(n, SN_IR), bytes([bits]))

    def command(self, n: int, cmd: int) -> None:
        self.write(self.sreg(n, SN_CR), bytes([cmd]))
        assert self.read(self.sreg(n, SN_CR)) == b"\x00"           # self-clearing

    def open(self, n: int, mode: int, port: int) -> None:
        self.write(self.sreg(n, SN_MR), bytes([mode]))
        self.write16(self.sreg(n, SN_PORT), port)
        self.command(n, OPEN)

    def peer(self, n: int, ip: bytes, port: int) -> None:
        self.write(self.sreg(n, SN_DIPR), ip)
        self.write16(self.sreg(n, SN_DPORT), port)

    def window(self, n: int, tx: bool) -> tuple[int, int]:
        """Base address and size of socket n's buffer (datasheet 3.1, RMSR/TMSR)."""
        msr = self.read(TMSR if tx else RMSR)[0]
        offset = 0
        for i in range(4):
            size = 1024 << (msr >> 2 * i & 3)
            if offset + size > 8192:
                size = 0
            if i == n:
                return (0x4000 if tx else 0x6000) + offset, size
            offset += size
        raise AssertionError

    def send(self, n: int, data: bytes) -> None:
        base, size = self.window(n, tx=True)
        assert self.read16(self.sreg(n, SN_TX_FSR)) >= len(data)
        wr = self.read16(self.sreg(n, SN_TX_WR))
        for i, b in enumerate(data):
            self.write(base + ((wr + i) & (size - 1)), bytes([b]))
        self.write16(self.sreg(n, SN_TX_WR), wr + len(data))
        self.command(n, SEND)

    def recv(self, n: int) -> bytes:
        base, size = self.window(n, tx=False)
        length = self.read16(self.sreg(n, SN_RX_RSR))
        rd = self.read16(self.sreg(n, SN_RX_RD))
        data = bytes(self.read(base + ((rd + i) & (size - 1)))[0] for i in range(length))
        self.write16(self.sreg(n, SN_RX_RD), rd + length)
        self.command(n, RECV)
        return data

    def wait(self, predicate, timeout: float = 10.0):
        """Let the main loop run (host sockets) while virtual time moves a little."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            assert time.monotonic() < deadline, "condition not met in time"
            self.q.clock_step(10_000)
            time.sleep(0.005)
        return value

    def int_pin(self) -> int:
        return self.q.readl(GPIOA + IDR) >> INT_PIN & 1


def boot(qemu, forward: str = "", listen: str = "") -> QTest:
    args = ["-trace", "w5100_socket_state"]
    if forward:
        args += ["-global", f"w5100.forward={forward}"]
    if listen:
        args += ["-global", f"w5100.listen={listen}"]
    return QTest(qemu, machine=MACHINE, args=args)


@pytest.fixture
def board(qemu):
    with boot(qemu) as q:
        yield W5100(q)
        assert q.alive(), f"QEMU died: {q.stderr()}"


@pytest.fixture
def tcp_server():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    yield srv
    srv.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- SPI framing and registers ------------------------------------------------

def test_spi_frame_answers(board):
    """6.3: the chip answers 0x00, 0x01, 0x02, then 0x03 (write) or the data (read)."""
    assert board.frame(0xF0, 0x0001, 0xC0) == b"\x00\x01\x02\x03"
    assert board.frame(0x0F, 0x0001) == b"\x00\x01\x02\xC0"


def test_frames_back_to_back_without_chip_select_toggle(board):
    board.cs(True)
    board.xfer(bytes([0xF0, 0x00, 0x0F, 10, 0xF0, 0x00, 0x10, 20]))
    assert board.xfer(bytes([0x0F, 0x00, 0x0F, 0, 0x0F, 0x00, 0x10, 0]))[3::4] == b"\x0A\x14"
    board.cs(False)


def test_chip_select_restarts_a_frame(board):
    board.cs(True)
    board.xfer(b"\xF0\x00")
    board.cs(False)
    assert board.frame(0x0F, 0x001A) == b"\x00\x01\x02\x55"
    assert "chip select changed after 2 bytes" in board.q.log()


def test_not_selected_means_no_answer(board):
    assert board.xfer(b"\x0F\x00\x1A\x00") == bytes(4)


def test_bad_opcode_is_a_guest_error(board):
    assert board.frame(0x55, 0x0001, 0x12) == b"\x00\x01\x02\x03"
    assert board.read(0x0001) == b"\x00"
    assert "opcode 0x55" in board.q.log()


@pytest.mark.parametrize("name,addr,reset,writable", COMMON, ids=[c[0] for c in COMMON])
def test_common_register(board, name, addr, reset, writable):
    assert board.read(addr, len(reset)) == reset
    pattern = bytes(0x11 * (i + 1) for i in range(len(reset)))
    board.write(addr, pattern)
    assert board.read(addr, len(reset)) == (pattern if writable else reset)
    if not writable:
        assert "read-only" in board.q.log()


def test_mode_register_and_soft_reset(board):
    """MR.RST (bit 7) resets every register and clears itself; PB/PPPoE/AI/IND read back."""
    board.write(MR, b"\x13")
    assert board.read(MR) == b"\x13"
    board.write(0x0001, b"\xC0\xA8\x00\x01")
    board.write(RTR, b"\x00\x10")
    board.write(RMSR, b"\x03")
    board.write(board.sreg(2, SN_PORT), b"\x12\x34")
    board.write(0x4000, b"\xAA")
    board.write(MR, b"\x80")
    assert board.read(MR) == b"\x00"
    assert board.read(0x0001, 4) == bytes(4)
    assert board.read(RTR, 5) == b"\x07\xD0\x08\x55\x55"
    assert board.read(board.sreg(2, SN_PORT), 2) == bytes(2)


@pytest.mark.parametrize("n", range(4))
@pytest.mark.parametrize("name,off,reset,writable", SOCKET, ids=[s[0] for s in SOCKET])
def test_socket_register(board, n, name, off, reset, writable):
    addr = board.sreg(n, off)
    assert board.read(addr, len(reset)) == reset
    pattern = bytes(0x21 * (i + 1) & 0xFF for i in range(len(reset)))
    board.write(addr, pattern)
    assert board.read(addr, len(reset)) == (pattern if writable else reset)


def test_socket_interrupt_register_is_write_1_to_clear(board, tcp_server):
    """Sn_IR bits clear when written with 1; IR's socket bit and INT (PA10) follow."""
    board.write(RTR, b"\x00\x01")
    board.write(RCR, b"\x00")
    board.write(IMR, b"\x08")
    assert board.int_pin() == 1
    board.open(3, TCP, 4000)
    board.peer(3, LAB_HOST, 9)                     # not forwarded: times out
    board.command(3, CONNECT)
    board.wait(lambda: board.ir(3) & TIMEOUT)
    assert board.read(IR)[0] & 0x08 and board.int_pin() == 0
    board.clear_ir(3, CON)
    assert board.ir(3) == TIMEOUT
    board.clear_ir(3, TIMEOUT)
    assert board.ir(3) == 0 and board.read(IR)[0] == 0 and board.int_pin() == 1


def test_int_pin_fires_exti10(board):
    """INT on PA10 (Arduino D2) falls when a socket interrupt is enabled in IMR: EXTI line
    10 on port A with a falling trigger raises EXTI15_10 (NVIC 40)."""
    q = board.q
    q.writel(APB2ENR, q.readl(APB2ENR) | 1 << 14)                    # SYSCFG
    q.irq_intercept_in()
    q.writel(0x40013810, 0)                                          # EXTICR3: PA10
    q.writel(0x40013C00, 1 << 10)                                    # IMR
    q.writel(0x40013C0C, 1 << 10)                                    # FTSR
    board.write16(RTR, 1)
    board.write(RCR, b"\x00")
    board.write(IMR, b"\x01")
    board.open(0, TCP, 4001)
    board.peer(0, LAB_HOST, 7)
    board.command(0, CONNECT)
    q.clock_step(200_000)
    assert board.int_pin() == 0
    assert q.readl(0x40013C14) & 1 << 10
    assert (40, True) in q.irq_events


@pytest.mark.parametrize("addr", [0x0013, 0x0020, 0x0100, 0x0380, 0x042A, 0x0417,
                                  0x0900, 0x3FFF, 0x8000, 0xFFFF])
def test_reserved_and_unassigned_addresses(board, addr):
    board.write(addr, b"\x5A")
    assert board.read(addr) == b"\x00"
    assert re.search(r"w5100: .*(reserved|unassigned)", board.q.log())


def test_tx_and_rx_memories_are_byte_addressed(board):
    board.write(0x4000, b"tx")
    board.write(0x5FFE, b"TX")
    board.write(0x6000, b"rx")
    board.write(0x7FFF, b"R")
    assert board.read(0x4000, 2) + board.read(0x5FFE, 2) == b"txTX"
    assert board.read(0x6000, 2) + board.read(0x7FFF) == b"rxR"


def test_command_in_the_wrong_state_is_a_guest_error(board):
    board.write(board.sreg(0, SN_MR), bytes([TCP]))
    board.command(0, CONNECT)                       # CLOSED, not INIT
    board.command(0, 0x77)
    assert board.sr(0) == CLOSED
    log = board.q.log()
    assert "command 0x04 in state 0x00 ignored" in log and "unknown Sn_CR command 0x77" in log


def test_reset_line_holds_the_chip(board):
    """The shield's RESET input (active low): registers back to reset values, no
    answers while held."""
    board.write(0x0001, b"\x01")
    board.q.set_irq_in("/machine/w5100", 0, 0, name="reset")
    board.cs(True)
    assert board.xfer(b"\x0F\x00\x1A\x00") == bytes(4)
    board.cs(False)
    board.q.set_irq_in("/machine/w5100", 0, 1, name="reset")
    assert board.read(0x0001) == b"\x00"


# --- TCP client -----------------------------------------------------------------

def test_tcp_client_session(qemu, tcp_server):
    """OPEN -> INIT, CONNECT -> ESTABLISHED (CON), SEND -> SEND_OK, data in -> RECV,
    DISCON -> CLOSED (DISCON) against a real loopback server; INT follows IMR."""
    port = tcp_server.getsockname()[1]
    with boot(qemu, forward=f"443:{port}") as q:
        w = W5100(q)
        w.write(IMR, b"\x01")
        w.open(0, TCP, 50000)
        assert w.sr(0) == INIT
        w.peer(0, LAB_HOST, 443)
        w.command(0, CONNECT)
        conn, _ = tcp_server.accept()
        conn.settimeout(10)
        w.wait(lambda: w.sr(0) == ESTABLISHED)
        assert w.ir(0) & CON and w.int_pin() == 0
        w.clear_ir(0)
        assert w.int_pin() == 1

        w.send(0, b"GET / HTTP/1.0\r\n\r\n")
        w.wait(lambda: w.ir(0) & SEND_OK)
        assert conn.recv(100) == b"GET / HTTP/1.0\r\n\r\n"
        assert w.read16(w.sreg(0, SN_TX_FSR)) == 2048

        conn.sendall(b"HTTP/1.0 200 OK\r\n")
        w.wait(lambda: w.read16(w.sreg(0, SN_RX_RSR)) == 17)
        assert w.ir(0) & RECV_IR
        assert w.recv(0) == b"HTTP/1.0 200 OK\r\n"
        assert w.read16(w.sreg(0, SN_RX_RSR)) == 0

        w.clear_ir(0)
        w.command(0, DISCON)
        assert conn.recv(10) == b""                  # our FIN
        conn.close()                                 # theirs
        w.wait(lambda: w.sr(0) == CLOSED)
        assert w.ir(0) & DISCON_IR
        w.command(0, CLOSE)
        assert q.alive()


def test_peer_closes_first(qemu, tcp_server):
    """The server's FIN: CLOSE_WAIT with DISCON, the data before it still readable."""
    port = tcp_server.getsockname()[1]
    with boot(qemu, forward=f"80:{port}") as q:
        w = W5100(q)
        w.open(1, TCP, 50001)
        w.peer(1, LAB_HOST, 80)
        w.command(1, CONNECT)
        conn, _ = tcp_server.accept()
        w.wait(lambda: w.sr(1) == ESTABLISHED)
        conn.sendall(b"bye")
        conn.close()
        w.wait(lambda: w.sr(1) == CLOSE_WAIT)
        assert w.ir(1) & DISCON_IR
        assert w.recv(1) == b"bye"
        w.command(1, DISCON)
        assert w.sr(1) == CLOSED


def test_connect_to_a_port_nobody_listens_on(qemu):
    """Mapped but refused (the PC server is down): CLOSED with TIMEOUT."""
    port = free_port()
    with boot(qemu, forward=f"443:{port}") as q:
        w = W5100(q)
        w.open(0, TCP, 50002)
        w.peer(0, LAB_HOST, 443)
        w.command(0, CONNECT)
        w.wait(lambda: w.sr(0) == CLOSED)
        assert w.ir(0) & TIMEOUT


@pytest.mark.parametrize("rtr,rcr", [(10, 2), (100, 0), (1, 7)])
def test_timeout_after_rtr_times_rcr_plus_one(board, rtr, rcr):
    """An unmapped port of the lab host: SYNSENT until RTR x 100 us x (RCR + 1) of
    virtual time has passed, then CLOSED with TIMEOUT."""
    total_ns = rtr * 100_000 * (rcr + 1)
    board.write16(RTR, rtr)
    board.write(RCR, bytes([rcr]))
    board.open(0, TCP, 50003)
    board.peer(0, LAB_HOST, 4444)
    board.command(0, CONNECT)
    assert board.sr(0) == SYNSENT
    board.q.clock_step(total_ns - 1000)
    assert board.sr(0) == SYNSENT and board.ir(0) == 0
    board.q.clock_step(2000)
    assert board.sr(0) == CLOSED and board.ir(0) == TIMEOUT
    assert "port 4444 of the lab host is not forwarded" in board.q.log()


def qemu_socket_peers(pid: int) -> list[str]:
    """Local and remote IPv4 addresses (hex, /proc/net form) of the process's sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if m := re.match(r"socket:\[(\d+)\]", target):
            inodes.add(m.group(1))
    addrs = []
    for table in ("tcp", "udp"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            f = line.split()
            if f[9] in inodes:
                addrs += [f[1].split(":")[0], f[2].split(":")[0]]
    return addrs


@pytest.mark.parametrize("ip", [bytes([192, 168, 0, 2]), bytes([10, 0, 0, 1]),
                                bytes([8, 8, 8, 8]), bytes([127, 0, 0, 1])],
                         ids=["lan-neighbour", "private", "public", "loopback-as-guest"])
def test_only_the_lab_host_is_reachable(qemu, tcp_server, ip):
    """A CONNECT or a UDP SEND to any other address is a guest error and times out; the
    port being forwarded for the lab host changes nothing, and QEMU opens no socket that
    is not on 127.0.0.1."""
    port = tcp_server.getsockname()[1]
    with boot(qemu, forward=f"443:{port}") as q:
        w = W5100(q)
        w.write16(RTR, 10)
        w.write(RCR, b"\x01")
        w.open(0, TCP, 50004)
        w.peer(0, ip, 443)
        w.command(0, CONNECT)
        w.open(1, UDP, 50005)
        w.peer(1, ip, 443)
        w.send(1, b"x")
        assert set(qemu_socket_peers(q.proc.pid)) <= {"0100007F", "00000000"}
        q.clock_step(2_000_000)
        assert w.sr(0) == CLOSED and w.ir(0) == TIMEOUT
        assert w.ir(1) & TIMEOUT and w.sr(1) == UDP_SR
        assert "is not reachable" in q.log()
        tcp_server.settimeout(0.2)
        with pytest.raises(socket.timeout):
            tcp_server.accept()


# --- TCP server ------------------------------------------------------------------

def test_listen_and_accept(qemu):
    """LISTEN on guest port 80; a client connecting to 127.0.0.1:HOSTPORT is accepted:
    ESTABLISHED with CON, Sn_DIPR the lab host; data both ways."""
    hostport = free_port()
    with boot(qemu, listen=f"{hostport}:80") as q:
        w = W5100(q)
        w.open(2, TCP, 80)
        w.command(2, LISTEN)
        assert w.sr(2) == LISTEN_SR
        client = socket.create_connection(("127.0.0.1", hostport), timeout=10)
        w.wait(lambda: w.sr(2) == ESTABLISHED)
        assert w.ir(2) & CON
        assert w.read(w.sreg(2, SN_DIPR), 4) == LAB_HOST
        assert w.read16(w.sreg(2, SN_DPORT)) == client.getsockname()[1]
        client.sendall(b"GET /index.html HTTP/1.1\r\n")
        w.wait(lambda: w.read16(w.sreg(2, SN_RX_RSR)) == 26)
        assert w.recv(2) == b"GET /index.html HTTP/1.1\r\n"
        w.send(2, b"HTTP/1.1 200 OK\r\n")
        w.wait(lambda: w.ir(2) & SEND_OK)
        assert client.recv(100) == b"HTTP/1.1 200 OK\r\n"
        client.close()
        w.wait(lambda: w.sr(2) == CLOSE_WAIT)
        w.command(2, DISCON)
        assert w.sr(2) == CLOSED


def test_listen_on_an_unmapped_port_is_a_guest_error(board):
    board.open(0, TCP, 8080)
    board.command(0, LISTEN)
    assert board.sr(0) == LISTEN_SR
    assert "no host port maps to port 8080" in board.q.log()


# --- UDP ---------------------------------------------------------------------------

def test_udp_send_and_receive_with_header(qemu):
    """UDP: a datagram to 192.168.0.1:53 reaches the mapped loopback port; the answer
    lands in the RX memory behind the 8-byte header (peer IP, port, length)."""
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(10)
    with boot(qemu, forward=f"53:{peer.getsockname()[1]}") as q:
        w = W5100(q)
        w.open(3, UDP, 3000)
        assert w.sr(3) == UDP_SR
        w.peer(3, LAB_HOST, 53)
        w.send(3, b"\x12\x34query")
        w.wait(lambda: w.ir(3) & SEND_OK)
        data, addr = peer.recvfrom(100)
        assert data == b"\x12\x34query" and addr[0] == "127.0.0.1"
        peer.sendto(b"answer!", addr)
        peer.sendto(b"2nd", addr)
        w.wait(lambda: w.read16(w.sreg(3, SN_RX_RSR)) == 8 + 7 + 8 + 3)
        assert w.ir(3) & RECV_IR
        assert w.recv(3) == (LAB_HOST + (53).to_bytes(2, "big") + (7).to_bytes(2, "big") +
                             b"answer!" + LAB_HOST + (53).to_bytes(2, "big") +
                             (3).to_bytes(2, "big") + b"2nd")
    peer.close()


def test_udp_datagram_to_the_guest_port(qemu):
    """A listen entry HOSTPORT:GUESTPORT makes a UDP socket bound to GUESTPORT take the
    datagrams sent to 127.0.0.1:HOSTPORT."""
    hostport = free_port()
    with boot(qemu, listen=f"{hostport}:161") as q:
        w = W5100(q)
        w.open(0, UDP, 161)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"ping", ("127.0.0.1", hostport))
        w.wait(lambda: w.read16(w.sreg(0, SN_RX_RSR)) == 12)
        data = w.recv(0)
        assert data[:4] == LAB_HOST and data[6:8] == b"\x00\x04" and data[8:] == b"ping"
        s.close()


# --- buffer windows ------------------------------------------------------------------

# (TMSR/RMSR value, socket): 1, 2, 4 and 8 KiB windows, first and last sockets with memory
SPLITS = [(0x55, 0), (0x55, 3), (0x00, 0), (0x00, 3), (0xAA, 1), (0x03, 0), (0x06, 1),
          (0x06, 3)]


@pytest.mark.parametrize("msr,n", SPLITS, ids=[f"msr{m:02x}-s{n}" for m, n in SPLITS])
def test_buffer_wrap_around(qemu, tcp_server, msr, n):
    """TX and RX data that crosses the end of the socket's window (and the 16-bit pointer
    wrap) goes out and comes in in order, for each TMSR/RMSR split."""
    port = tcp_server.getsockname()[1]
    with boot(qemu, forward=f"443:{port}") as q:
        w = W5100(q)
        w.write(TMSR, bytes([msr]))
        w.write(RMSR, bytes([msr]))
        tx_base, tx_size = w.window(n, tx=True)
        assert tx_size, "this split leaves the socket no memory"
        assert w.read16(w.sreg(n, SN_TX_FSR)) == tx_size
        w.write16(w.sreg(n, SN_TX_WR), 0xFFFC)              # 4 bytes before the wrap
        w.write16(w.sreg(n, SN_RX_RD), 0xFFFA)
        w.open(n, TCP, 50010)
        w.peer(n, LAB_HOST, 443)
        w.command(n, CONNECT)
        conn, _ = tcp_server.accept()
        conn.settimeout(10)
        w.wait(lambda: w.sr(n) == ESTABLISHED)
        w.send(n, b"0123456789")
        w.wait(lambda: w.ir(n) & SEND_OK)
        assert conn.recv(100) == b"0123456789"
        assert w.read16(w.sreg(n, SN_TX_RD)) == 0x0006
        assert w.read(tx_base + tx_size - 4, 4) == b"0123"       # the window's end
        assert w.read(tx_base, 6) == b"456789"                   # and its start
        conn.sendall(b"abcdefghij")
        w.wait(lambda: w.read16(w.sreg(n, SN_RX_RSR)) == 10)
        assert w.recv(n) == b"abcdefghij"
        assert w.read16(w.sreg(n, SN_RX_RD)) == 0x0004
        conn.close()


def test_a_socket_without_memory(board):
    """TMSR 0x03 gives socket 0 all 8 KiB: socket 1 has no TX memory (TX_FSR 0)."""
    board.write(TMSR, b"\x03")
    assert board.read16(board.sreg(0, SN_TX_FSR)) == 8192
    assert board.read16(board.sreg(1, SN_TX_FSR)) == 0


def test_rx_full_waits_for_recv(qemu, tcp_server):
    """With 1 KiB of RX memory, 3 KiB from the server arrive in three RECVs."""
    port = tcp_server.getsockname()[1]
    with boot(qemu, forward=f"443:{port}") as q:
        w = W5100(q)
        w.write(RMSR, b"\x00")
        w.open(0, TCP, 50011)
        w.peer(0, LAB_HOST, 443)
        w.command(0, CONNECT)
        conn, _ = tcp_server.accept()
        w.wait(lambda: w.sr(0) == ESTABLISHED)
        data = bytes(range(256)) * 12
        conn.sendall(data)
        got = 0
        while got < len(data):
            rsr = w.wait(lambda: w.read16(w.sreg(0, SN_RX_RSR)))
            assert rsr <= 1024
            base, size = w.window(0, tx=False)
            rd = w.read16(w.sreg(0, SN_RX_RD))
            head = bytes(w.read(base + ((rd + i) & (size - 1)))[0] for i in range(4))
            assert head == data[got:got + 4]
            w.write16(w.sreg(0, SN_RX_RD), rd + rsr)
            w.command(0, RECV)
            got += rsr
        assert got == len(data)
        conn.close()


# --- robustness ------------------------------------------------------------------------

def test_garbage_on_spi_never_crashes(board):
    """Random bytes with random chip-select toggles (any register, any command): QEMU lives
    and the chip still answers a clean frame."""
    rng = random.Random(11)
    for _ in range(1500):
        if rng.random() < 0.1:
            board.cs(rng.random() < 0.5)
        board.q.writel(SPI1 + DR, rng.randrange(256))
        board.q.readl(SPI1 + DR)
    board.q.clock_step(5_000_000_000)
    board.cs(False)
    board.write(MR, b"\x80")
    assert board.read(RMSR) == b"\x55"
    assert board.q.alive()


def test_migration_state_keeps_registers(qemu, tmp_path):
    """vmstate: a savevm-less migration to a file and back keeps registers and memory."""
    with boot(qemu) as q:
        w = W5100(q)
        w.write(0x0009, b"\x00\x08\xDC\x01\x02\x03")
        w.write(0x4123, b"kept")
        q.qmp("migrate", uri=f"exec:cat > {tmp_path}/w5100.mig")
        w.wait(lambda: q.qmp("query-migrate").get("status") == "completed")
    with QTest(qemu, machine=MACHINE, args=["-incoming", f"exec:cat {tmp_path}/w5100.mig"]) as q:
        w2 = W5100.__new__(W5100)
        w2.q = q
        deadline = time.monotonic() + 10
        while q.qmp("query-status")["status"] == "inmigrate":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        w2.cs(False)
        assert w2.read(0x0009, 6) == b"\x00\x08\xDC\x01\x02\x03"
        assert w2.read(0x4123, 4) == b"kept"


# --- MACRAW ------------------------------------------------------------------------

MACRAW, MF = 4, 0x40
OUR_MAC = bytes.fromhex("0008dc010203")


@pytest.fixture
def wire():
    """The other end of the W5100's NIC: QEMU's socket netdev in UDP mode on loopback,
    one Ethernet frame per datagram."""
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(10)
    qemu_port = free_port()
    yield peer, (f"socket,udp=127.0.0.1:{peer.getsockname()[1]},"
                 f"localaddr=127.0.0.1:{qemu_port}"), ("127.0.0.1", qemu_port)
    peer.close()


def frame(dst: bytes, src: bytes, payload: bytes) -> bytes:
    return dst + src + b"\x88\xb5" + payload.ljust(46, b"\x00")


def test_macraw_frames_both_ways(qemu, wire):
    """Socket 0 in MACRAW: SEND puts one frame on the NIC; a frame from the wire lands
    behind a 2-byte length that counts itself; with MF only our MAC and broadcast."""
    peer, nic, qemu_addr = wire
    with QTest(qemu, machine=MACHINE, nic=nic) as q:
        w = W5100(q)
        w.write(0x0009, OUR_MAC)
        w.open(0, MACRAW | MF, 0)
        assert w.sr(0) == 0x42
        out = frame(b"\xff" * 6, OUR_MAC, b"hello wire")
        w.send(0, out)
        w.wait(lambda: w.ir(0) & SEND_OK)
        assert peer.recv(2000) == out
        other = frame(bytes.fromhex("020000000001"), bytes.fromhex("020000000002"), b"not ours")
        mine = frame(OUR_MAC, bytes.fromhex("020000000002"), b"for the W5100")
        peer.sendto(other, qemu_addr)
        peer.sendto(mine, qemu_addr)
        w.wait(lambda: w.read16(w.sreg(0, SN_RX_RSR)))
        w.wait(lambda: w.ir(0) & RECV_IR)
        assert w.recv(0) == (2 + len(mine)).to_bytes(2, "big") + mine


def test_macraw_rx_full_queues_frames(qemu, wire):
    """Three 1000-byte frames into a 2 KiB window: the third waits for a RECV."""
    peer, nic, qemu_addr = wire
    with QTest(qemu, machine=MACHINE, nic=nic) as q:
        w = W5100(q)
        w.open(0, MACRAW, 0)
        frames = [frame(OUR_MAC, bytes(6), bytes([i]) * 986) for i in range(3)]
        for f in frames:
            peer.sendto(f, qemu_addr)
        w.wait(lambda: w.read16(w.sreg(0, SN_RX_RSR)) == 2 * 1002)
        q.clock_step(1_000_000)
        time.sleep(0.2)
        assert w.read16(w.sreg(0, SN_RX_RSR)) == 2 * 1002
        base, size = w.window(0, tx=False)
        rd = w.read16(w.sreg(0, SN_RX_RD))
        w.write16(w.sreg(0, SN_RX_RD), rd + 1002)
        w.command(0, RECV)
        w.wait(lambda: w.read16(w.sreg(0, SN_RX_RSR)) == 2 * 1002)
        rd += 2004
        head = bytes(w.read(base + ((rd + i) & (size - 1)))[0] for i in range(16))
        assert head == (1002).to_bytes(2, "big") + frames[2][:14]


def test_macraw_is_for_socket_0_only(board):
    board.open(1, MACRAW, 0)
    assert board.sr(1) == CLOSED
    assert "MACRAW is for socket 0 only" in board.q.log()


def test_send_larger_than_the_tx_buffer_is_refused(board):
    """Sn_TX_WR moved past the socket's 2 KiB window: a guest error, nothing sent, no
    SEND_OK."""
    board.open(0, UDP, 5000)
    board.peer(0, LAB_HOST, 53)
    board.write16(board.sreg(0, SN_TX_WR), 3000)
    board.command(0, SEND)
    assert board.ir(0) == 0
    assert "more than its 2048-byte TX buffer" in board.q.log()
