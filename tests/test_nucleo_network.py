"""The Nucleo-F411RE's network end to end: the firmware's W5100 driver (firmware/modules/
w5100.py) over machine.SPI on the emulated W5100 shield (hw/net/w5100.c), whose sockets the
launcher maps onto 127.0.0.1 (--guestfwd / --hostfwd), and names resolved by the lab's DNS
resolver (host_tools/lab_dns.py) through the board's UDP socket (firmware/modules/
dnsclient.py). Real peers: a Python TCP server and the resolver, on loopback only."""

import socket
import threading

import pytest

from host_tools.board import Board, BoardError
from host_tools.lab_dns import LabDns
from lab_firmware import BANNER, PROMPT, boot, build_firmware, free_port

MACHINE = "nucleo-f411re"
SETUP = ("from machine import SPI, Pin; import w5100, dnsclient; "
         "nic = w5100.W5100(SPI(1, baudrate=8_000_000), Pin('PB6', Pin.OUT, value=1)); "
         "nic.ifconfig(('192.168.0.10', '255.255.255.0', '192.168.0.1'))")


class PageServer:
    """A one-page HTTP/1.0 server on 127.0.0.1 (the PC's role), in a thread."""

    def __init__(self, body=b"hello from the PC"):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.body = body
        self.requests = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + self.body)

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def nucleo_elf():
    return build_firmware(MACHINE, hw=0)


@pytest.fixture
def nucleo(nucleo_elf, qemu):
    boards = []

    def start(**options):
        board, console = boot(nucleo_elf, qemu, machine=MACHINE, **options)
        boards.append((board, console))
        console.expect(BANNER, timeout=30)
        console.expect(PROMPT)
        out = console.run(SETUP, timeout=30)
        assert out == "", out
        return board, console

    yield start
    for board, console in boards:
        console.close()
        board.stop()


def test_http_get_over_the_w5100(nucleo):
    """A request out and a 6 KB page back: the page is three times the socket's 2 KiB RX
    window, so the driver's read pointer wraps in it (and the request's in the TX window
    after a 3 KB request body)."""
    body = bytes(range(32, 127)) * 64                          # 6080 bytes
    server = PageServer(body)
    try:
        board, con = nucleo(guestfwd=[f"80:{server.port}"])
        out = con.run("s = nic.socket(); s.settimeout(10); s.connect(('192.168.0.1', 80)); "
                      "n = s.write(b'GET / HTTP/1.0\\r\\nX-Pad: ' + b'p' * 3000 + "
                      "b'\\r\\n\\r\\n'); page = s.read(); s.close(); "
                      "print(len(page), page[:17], page.endswith(b'~' + bytes(range(32, 127))))",
                      timeout=120)
        head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        assert out == f"{len(head) + len(body)} b'HTTP/1.0 200 OK\\r\\n' True\n", out
        assert server.requests and server.requests[0].startswith(b"GET / HTTP/1.0\r\n")
        assert server.requests[0].endswith(b"p" * 3000 + b"\r\n\r\n")
    finally:
        server.close()


def test_name_resolved_by_the_lab_resolver(nucleo):
    with LabDns({"ssl-server.lab": "192.168.0.1"}) as dns:
        board, con = nucleo(guestfwd=[f"53:{dns.port}"])
        out = con.run("print(dnsclient.getaddrinfo(nic, 'ssl-server.lab', 443, "
                      "('192.168.0.1', 53)))", timeout=30)
        assert "[(2, 1, 0, '', ('192.168.0.1', 443))]" in out, out
        out = con.run("import socket; socket.attach(nic); "
                      "print(socket.getaddrinfo('ssl-server.lab', 80))", timeout=30)
        assert "[(2, 1, 0, '', ('192.168.0.1', 80))]" in out, out
        out = con.run("dnsclient.resolve(nic, 'nowhere.lab', ('192.168.0.1', 53))", timeout=30)
        assert "OSError" in out and "nowhere.lab: not found" in out, out
        assert any("ssl-server.lab" in line for line in dns.log), dns.log


def test_server_down_and_unmapped_address_are_clear_errors(nucleo):
    down = free_port()                       # nothing listens there
    board, con = nucleo(guestfwd=[f"80:{down}"])
    con.run("nic.retry(200, 1)")            # 20 ms x 2: the chip gives up soon
    out = con.run("s = nic.socket(); s.settimeout(10); s.connect(('192.168.0.1', 80))",
                  timeout=30)
    assert "OSError" in out and "did not answer" in out, out
    out = con.run("s.close(); s = nic.socket(); s.settimeout(10); "
                  "s.connect(('10.1.2.3', 80))", timeout=30)
    assert "OSError" in out and "did not answer" in out, out
    assert con.run("s.close(); print('alive')", timeout=10) == "alive\n"


def test_launcher_refuses_what_the_w5100_cannot_do(nucleo_elf):
    """One line, before QEMU starts: the shield's host sockets reach 127.0.0.1 only."""
    with pytest.raises(BoardError, match="127.0.0.1 only; forward to 127.0.0.1, not 127.0.0.2"):
        Board(nucleo_elf, machine=MACHINE, guestfwd=["80:127.0.0.2:8080"])


def test_macraw_socket_frames_reach_the_network_and_the_pcap(nucleo, tmp_path):
    """The W5100's MACRAW socket 0 (firmware running its own stack) is on QEMU's restricted
    user-mode network (-nic, no forwards of its own): an ARP request for the network's
    gateway (slirp, 192.168.0.2) gets its reply, and --pcap records both frames."""
    pcap = tmp_path / "w5100.pcap"
    board, con = nucleo(pcap=pcap)
    out = con.paste("""
nic._used[0] = True
base = 0x400
nic.write(base + 0, b'\\x04')                  # Sn_MR: MACRAW
nic.write(base + 1, b'\\x01')                  # OPEN
while nic.read(base + 1, 1)[0]: pass
print('SR', hex(nic.read(base + 3, 1)[0]))
mac = bytes(nic.read(0x0009, 6))
arp = (b'\\xff' * 6 + mac + b'\\x08\\x06' + b'\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x01' + mac
       + bytes([192, 168, 0, 10]) + bytes(6) + bytes([192, 168, 0, 2]) + bytes(18))
wr = nic.read16(base + 0x24)
nic.write(0x4000 + (wr & 0x7FF), arp)
nic.write16(base + 0x24, (wr + len(arp)) & 0xFFFF)
nic.write(base + 1, b'\\x20')                  # SEND
import time
t = time.ticks_ms()
while nic.read16(base + 0x26) < 2 and time.ticks_diff(time.ticks_ms(), t) < 5000: pass
rd = nic.read16(base + 0x28)
head = nic.read(0x6000 + (rd & 0x7FF), 2)
size = (head[0] << 8) | head[1]
frame = nic.read(0x6000 + ((rd + 2) & 0x7FF), size - 2)
print('RX', size - 2, bytes(frame[12:14]), bytes(frame[20:22]), bytes(frame[28:32]))
""", timeout=60)
    assert "SR 0x42" in out, out
    # an ARP reply (opcode 2) from QEMU's user-mode network (slirp, 192.168.0.2)
    assert "b'\\x08\\x06' b'\\x00\\x02' b'\\xc0\\xa8\\x00\\x02'" in out, out
    board.stop()
    data = pcap.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", data[:64]
    assert b"\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01" in data, data     # the request
    assert b"\x08\x06\x00\x01\x08\x00\x06\x04\x00\x02" in data, data     # the reply


def test_tls12_through_the_issuing_ca_with_software_mbedtls(nucleo, pki):
    """TLS 1.2 over the W5100 to the PC server that presents root -> issuing CA -> server
    (server-chain.pem), verified by mbedTLS in software against the root alone, with the
    entropy seed the launcher would provision (tls.seed; the F411 has no RNG). Without a
    seed the handshake cannot start, and says why."""
    import os
    from host_tools.ssl_server import SslServer

    with SslServer(pki / "server-chain.pem", pki / "server-chain.key.pem", port=0,
                   echo=False, timeout=30, tls_max="1.2") as server:
        board, con = nucleo(guestfwd=[f"443:{server.port}"])
        ca = (pki / "ca.pem").read_text()
        out = con.paste(f"""
import ssl, tls
CA = '''{ca}'''
def fetch():
    s = nic.socket()
    s.settimeout(20)
    s.connect(('192.168.0.1', 443))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=CA)
    t = ctx.wrap_socket(s, server_hostname='ssl-server.lab')
    t.write(b'GET / HTTP/1.0\\r\\n\\r\\n')
    page = b''
    while True:
        chunk = t.read(512)
        if not chunk:
            break
        page += chunk
    t.close()
    return page
try:
    fetch()
except Exception as e:
    print('unseeded:', repr(e))
""", timeout=60)
        assert "unseeded: SSLError(-52, 'CTR_DRBG - The entropy source failed" in out, out
        seed = os.urandom(32).hex()
        out = con.paste(f"""
tls.seed(bytes.fromhex('{seed}'))
page = fetch()
print(page.split(b'\\r\\n')[0])
print(b'Successful connection using: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' in page)
""", timeout=180)
        assert "b'HTTP/1.0 200 OK'" in out and "True" in out, out
        done = [c for c in server.wait_for_connections(2, timeout=30) if c.ok]
        assert done and done[-1].protocol == "TLSv1.2", server.lines[-20:]


# --- the seed application (firmware/boards/nucleo-f411re/app_main.py) ----------------------

@pytest.fixture
def app(nucleo_elf, qemu, pki):
    """The Nucleo booted with a config sector for its HTTPS client (the launcher adds the
    entropy seed), the lab resolver and the PC server given; the console from the start."""
    started = []

    def start(server_port, dns_port, ca="ca.pem", name="ssl-server.lab"):
        config = {"server_name": name, "server_port": 443, "path": "/", "ca": pki / ca,
                  "tls_max": "1.2"}                         # the write-up's TLS 1.2
        board, console = boot(nucleo_elf, qemu, machine=MACHINE, config=config,
                              guestfwd=[f"443:{server_port}", f"53:{dns_port}"])
        started.append((board, console))
        return board, console

    yield start
    for board, console in started:
        console.close()
        board.stop()


def test_app_prints_the_certificate_and_the_page(app, pki):
    from host_tools.ssl_server import SslServer

    with LabDns({"ssl-server.lab": "192.168.0.1"}) as dns, \
            SslServer(pki / "server-chain.pem", pki / "server-chain.key.pem", port=0,
                      echo=False, timeout=30) as server:
        board, con = app(server.port, dns.port)
        con.expect(b"Press any key to continue...", timeout=30)
        con.write(b" ")
        out = con.expect(PROMPT, timeout=180).decode(errors="replace")
    lines = out.replace("\r\n", "\n").split("\n")
    assert lines[0] == "" and lines[1] == "cert. version     : 3", out
    assert lines[2].startswith("serial number     : "), out
    assert lines[3] == "issuer name       : O=STM32 TLS Lab (test only), " \
                       "CN=STM32 TLS Lab Issuing CA", out
    assert lines[4] == "subject name      : O=STM32 TLS Lab (test only), CN=ssl-server.lab", out
    assert "HTTP/1.0 200 OK" in out, out
    assert "Successful connection using: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in out, out
    assert any("ssl-server.lab" in line for line in dns.log), dns.log


@pytest.mark.parametrize("case, says", [
    ("unknown name", "getaddrinfo(nowhere.lab) failed: nowhere.lab: not found"),
    ("wrong CA", "TLS handshake with ssl-server.lab failed: the server's certificate is "
                 "not trusted"),
    ("server down", "connect to ssl-server.lab (192.168.0.1:443) failed: "
                    "W5100: 192.168.0.1:443 did not answer"),
])
def test_app_failures_are_one_line_and_the_repl_comes_back(app, pki, case, says):
    from host_tools.ssl_server import SslServer

    with LabDns({"ssl-server.lab": "192.168.0.1"}) as dns, \
            SslServer(pki / "server-chain.pem", pki / "server-chain.key.pem", port=0,
                      echo=False, timeout=30) as server:
        port = free_port() if case == "server down" else server.port
        board, con = app(port, dns.port, ca="untrusted-ca.pem" if case == "wrong CA" else "ca.pem",
                         name="nowhere.lab" if case == "unknown name" else "ssl-server.lab")
        con.expect(b"Press any key to continue...", timeout=30)
        con.write(b"\r")
        out = con.expect(PROMPT, timeout=120).decode(errors="replace")
    assert says in out, out
    assert con.run("print('back at the REPL')") == "back at the REPL\n"
