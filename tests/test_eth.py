"""STM32F4xx Ethernet MAC/DMA (RM0090 chapter 33) and DP83848 PHY model, through qtest.

Frames go to QEMU's user-mode network (restrict=on, 192.168.0.0/24, host 192.168.0.1) or
around the MAC loopback (MACCR.LM); descriptors and buffers live in SRAM.
"""

import struct
import zlib

import pytest

from lab_qtest import QTest

NIC = "user,id=net0,restrict=on,net=192.168.0.0/24,host=192.168.0.1"

ETH = 0x40028000
MACCR, MACFFR, MACHTHR, MACHTLR = ETH + 0x00, ETH + 0x04, ETH + 0x08, ETH + 0x0C
MACMIIAR, MACMIIDR = ETH + 0x10, ETH + 0x14
MACA0HR, MACA0LR, MACA1HR, MACA1LR = ETH + 0x40, ETH + 0x44, ETH + 0x48, ETH + 0x4C
MMCCR, MMCTGFCR, MMCRGUFCR = ETH + 0x100, ETH + 0x168, ETH + 0x1C4
DMABMR, DMATPDR, DMARPDR = ETH + 0x1000, ETH + 0x1004, ETH + 0x1008
DMARDLAR, DMATDLAR, DMASR = ETH + 0x100C, ETH + 0x1010, ETH + 0x1014
DMAOMR, DMAIER, DMAMFBOCR = ETH + 0x1018, ETH + 0x101C, ETH + 0x1020
DMACHTDR, DMACHRDR, DMACHTBAR, DMACHRBAR = (ETH + 0x1048, ETH + 0x104C,
                                            ETH + 0x1050, ETH + 0x1054)
GPIOB_IDR = 0x40020410

# MACCR
RE, TE, LM, DM, FES, IPCO, CSTF = 1 << 2, 1 << 3, 1 << 12, 1 << 11, 1 << 14, 1 << 10, 1 << 25
# MACFFR
PM, BFD, RA = 1 << 0, 1 << 5, 1 << 31
# DMABMR / DMAOMR
BMR_SR, EDFE = 1 << 0, 1 << 7
OMR_SR, OMR_ST, OMR_TSF = 1 << 1, 1 << 13, 1 << 21
# DMASR / DMAIER
TS, TPSS, TBUS, RS, RBUS, FBES, AIS, NIS = (1 << 0, 1 << 1, 1 << 2, 1 << 6, 1 << 7,
                                            1 << 13, 1 << 15, 1 << 16)
TIE, RIE, FBEIE, AISE, NISE = 1 << 0, 1 << 6, 1 << 13, 1 << 15, 1 << 16
# TDES0
OWN, IC, LS, FS, DC, DP, TER, TCH = (1 << 31, 1 << 30, 1 << 29, 1 << 28, 1 << 27,
                                     1 << 26, 1 << 21, 1 << 20)
CIC_FULL = 3 << 22
T_ES = 1 << 15
# RDES0 / RDES1
R_AFM, R_ES, R_FS, R_LS, R_FT, R_ESA = 1 << 30, 1 << 15, 1 << 9, 1 << 8, 1 << 5, 1 << 0
R_DE = 1 << 14
RER, RCH, DIC = 1 << 15, 1 << 14, 1 << 31
# RDES4
IPV4PR, IPPE, IPHE, IPPT_UDP = 1 << 6, 1 << 4, 1 << 3, 1

OUR_MAC = bytes([0, 0, 0, 0, 0, 2])
OUR_IP = bytes([192, 168, 0, 10])
HOST_IP = bytes([192, 168, 0, 1])
BCAST = b"\xff" * 6

SRAM = 0x20000000
TXD, RXD = SRAM + 0x0000, SRAM + 0x0400          # descriptor areas
TXBUF, RXBUF = SRAM + 0x1000, SRAM + 0x8000      # buffers, 0x800 each
CCM = 0x10000000


# --- frame builders -----------------------------------------------------------------

def inet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def arp_request(target_ip=HOST_IP) -> bytes:
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, OUR_MAC, OUR_IP,
                      b"\0" * 6, target_ip)
    return BCAST + OUR_MAC + b"\x08\x06" + arp


def ipv4(proto: int, payload: bytes, src=OUR_IP, dst=HOST_IP, checksum=True) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0x4000,
                      64, proto, 0, src, dst)
    if checksum:
        hdr = hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:]
    return hdr + payload


def icmp_echo_frame(dst_mac: bytes, ident=0x4242, seq=1, zero_checksums=True) -> bytes:
    data = b"stm32-eth-model-ping"
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    if not zero_checksums:
        icmp = icmp[:2] + struct.pack("!H", inet_checksum(icmp)) + icmp[4:]
    return dst_mac + OUR_MAC + b"\x08\x00" + ipv4(1, icmp, checksum=not zero_checksums)


def udp_frame(dst_mac=OUR_MAC, good=True) -> bytes:
    payload = b"hello over loopback"
    udp = struct.pack("!HHHH", 1234, 5678, 8 + len(payload), 0) + payload
    pseudo = OUR_IP + OUR_IP + struct.pack("!BBH", 0, 17, len(udp))
    csum = inet_checksum(pseudo + udp)
    if not good:
        csum ^= 0x5555
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return dst_mac + OUR_MAC + b"\x08\x00" + ipv4(17, udp, dst=OUR_IP)


# --- device helpers -----------------------------------------------------------------

def mdio_read(q: QTest, reg: int, phy: int = 1) -> int:
    q.writel(MACMIIAR, (phy << 11) | (reg << 6) | (4 << 2) | 1)
    for _ in range(100):
        if not q.readl(MACMIIAR) & 1:
            return q.readl(MACMIIDR)
    raise AssertionError("MACMIIAR.MB never cleared after a read")


def mdio_write(q: QTest, reg: int, value: int, phy: int = 1) -> None:
    q.writel(MACMIIDR, value)
    q.writel(MACMIIAR, (phy << 11) | (reg << 6) | (4 << 2) | 2 | 1)
    for _ in range(100):
        if not q.readl(MACMIIAR) & 1:
            return
    raise AssertionError("MACMIIAR.MB never cleared after a write")


def pb14(q: QTest) -> int:
    return (q.readl(GPIOB_IDR) >> 14) & 1


def desc_words(q: QTest, addr: int, n: int = 4):
    return struct.unpack(f"<{n}I", q.memread(addr, 4 * n))


def put_desc(q: QTest, addr: int, *words: int) -> None:
    q.memwrite(addr, struct.pack(f"<{len(words)}I", *words))


class Eth:
    """Descriptor rings in SRAM, like a driver would set them up."""

    def __init__(self, q: QTest, ntx=4, nrx=4, enhanced=False, maccr=TE | RE | DM | FES,
                 rx_own=None, start=True):
        self.q = q
        self.size = 32 if enhanced else 16
        self.ntx, self.nrx = ntx, nrx
        q.writel(DMABMR, (EDFE if enhanced else 0) | (32 << 8))
        q.writel(MACA0HR, OUR_MAC[4] | (OUR_MAC[5] << 8))
        q.writel(MACA0LR, struct.unpack("<I", OUR_MAC[:4])[0])
        for i in range(ntx):
            put_desc(q, self.tx(i), TER if i == ntx - 1 else 0, 0, TXBUF + 0x800 * i, 0)
        for i in range(nrx):
            own = OWN if (rx_own is None or i < rx_own) else 0
            put_desc(q, self.rx(i), own, (RER if i == nrx - 1 else 0) | 0x800,
                     RXBUF + 0x800 * i, 0)
        q.writel(DMATDLAR, TXD)
        q.writel(DMARDLAR, RXD)
        q.writel(MACCR, maccr)
        if start:
            q.writel(DMAOMR, OMR_ST | OMR_SR | OMR_TSF)
        self.next_tx = 0

    def tx(self, i):
        return TXD + i * self.size

    def rx(self, i):
        return RXD + i * self.size

    def send(self, frame: bytes, flags: int = 0, i=None) -> int:
        i = self.next_tx if i is None else i
        self.next_tx = (i + 1) % self.ntx
        self.q.memwrite(TXBUF + 0x800 * i, frame)
        ter = TER if i == self.ntx - 1 else 0
        put_desc(self.q, self.tx(i), OWN | FS | LS | IC | ter | flags, len(frame),
                 TXBUF + 0x800 * i, 0)
        self.q.writel(DMATPDR, 0)
        return i

    def give_rx(self, i: int) -> None:
        put_desc(self.q, self.rx(i), OWN, (RER if i == self.nrx - 1 else 0) | 0x800,
                 RXBUF + 0x800 * i, 0)

    def wait_rx(self, i: int, timeout=5.0):
        self.q.wait_until(lambda: not desc_words(self.q, self.rx(i))[0] & OWN, timeout)
        rdes0 = desc_words(self.q, self.rx(i))[0]
        fl = (rdes0 >> 16) & 0x3FFF
        return rdes0, self.q.memread(RXBUF + 0x800 * i, fl)


def check_fcs(frame_with_fcs: bytes) -> None:
    body, fcs = frame_with_fcs[:-4], frame_with_fcs[-4:]
    assert struct.unpack("<I", fcs)[0] == zlib.crc32(body), "FCS is not the frame CRC-32"


@pytest.fixture
def qts(qts):
    """The board with the Ethernet MAC clock on (RCC_AHB1ENR.ETHMACEN)."""
    qts.enable_clock("eth")
    return qts


@pytest.fixture
def net(qemu):
    with QTest(qemu, nic=NIC) as q:
        q.enable_clock("eth", "gpiob", "syscfg")
        yield q
        assert q.alive(), f"QEMU died: {q.stderr()}"


def nic_name(q: QTest) -> str:
    for line in q.hmp("info network").splitlines():
        if "model=stm32f4xx-eth" in line:
            return line.split(":")[0].strip()
    raise AssertionError("no stm32f4xx-eth NIC in 'info network'")


# --- tests --------------------------------------------------------------------------

def test_reset_values(qts):
    assert qts.readl(MACCR) == 0x00008000
    assert qts.readl(MACFFR) == 0
    assert qts.readl(MACA0HR) == 0x8000FFFF
    assert qts.readl(MACA0LR) == 0xFFFFFFFF
    assert qts.readl(MACA1HR) == 0x0000FFFF
    assert qts.readl(MACA1LR) == 0xFFFFFFFF
    assert qts.readl(DMABMR) == 0x00020101
    assert qts.readl(DMASR) == 0
    assert qts.readl(DMAOMR) == 0
    assert qts.readl(ETH + 0x700) == 0x00002000     # PTPTSCR


def test_read_only_bits_ignore_writes(qts):
    qts.writel(MACA0HR, 0x7FFF1234)
    assert qts.readl(MACA0HR) == 0x80001234          # MO stays 1, reserved bits 0
    qts.writel(MACCR, 0)
    assert qts.readl(MACCR) == 0x00008000            # reserved bit 15 reads 1
    qts.writel(DMASR, 0xFFFFFFFF)
    assert qts.readl(DMASR) == 0
    qts.writel(DMACHTDR, 0x20000000)
    assert qts.readl(DMACHTDR) == 0


def test_phy_id_and_bmsr_over_mdio(net):
    assert mdio_read(net, 2) == 0x2000               # PHYIDR1
    assert mdio_read(net, 3) == 0x5C90               # PHYIDR2
    bmsr = mdio_read(net, 1)
    assert bmsr & 0x0004, "BMSR link status"
    assert bmsr & 0x0020, "BMSR auto-negotiation complete"
    assert bmsr & 0x6000 == 0x6000, "BMSR 100BASE-TX abilities"
    assert mdio_read(net, 0) == 0x3100               # BMCR: 100M, AN, full duplex
    assert mdio_read(net, 4) == 0x01E1               # ANAR
    assert mdio_read(net, 5) & 0x0180                # ANLPAR offers 100BASE-TX
    physts = mdio_read(net, 0x10)
    assert physts & 0x1 and physts & 0x4 and not physts & 0x2   # link, full, 100M
    # Nothing answers at other MDIO addresses
    assert mdio_read(net, 2, phy=0) == 0xFFFF
    assert mdio_read(net, 1, phy=5) == 0xFFFF
    # BMCR soft reset self-clears and restores the defaults
    mdio_write(net, 0, 0x0100)
    assert mdio_read(net, 0) == 0x0100
    mdio_write(net, 0, 0x8000)
    assert mdio_read(net, 0) == 0x3100


def test_link_change_reaches_bmsr_misr_and_pb14(net):
    name = nic_name(net)
    assert pb14(net) == 1                            # pin idles high
    mdio_write(net, 0x12, 0x0020)                    # MISR: LINK_INT_EN
    # Interrupt output not enabled in MICR: the pin stays high
    net.qmp("set_link", name=name, up=False)
    assert pb14(net) == 1
    assert mdio_read(net, 0x12) & 0x2000             # flagged anyway
    net.qmp("set_link", name=name, up=True)
    mdio_read(net, 0x12)                             # clear

    mdio_write(net, 0x11, 0x0003)                    # MICR: INT_OE | INTEN
    assert pb14(net) == 1
    net.qmp("set_link", name=name, up=False)
    assert not mdio_read(net, 1) & 0x0004, "BMSR link still up"
    assert not mdio_read(net, 0x10) & 0x0001, "PHYSTS link still up"
    assert pb14(net) == 0, "PHY interrupt pin not asserted on link down"
    misr = mdio_read(net, 0x12)
    assert misr & 0x2000, "MISR LINK_INT not set"
    assert pb14(net) == 1, "pin still low after MISR read"
    assert not mdio_read(net, 0x12) & 0x2000, "MISR not cleared by read"

    net.qmp("set_link", name=name, up=True)
    assert pb14(net) == 0
    assert mdio_read(net, 1) & 0x0024 == 0x0024
    assert mdio_read(net, 0x10) & 0x0001
    assert mdio_read(net, 0x12) & 0x2000
    assert pb14(net) == 1


def test_arp_request_gets_reply_in_rx_descriptor(net):
    eth = Eth(net)
    req = arp_request()
    i = eth.send(req)
    net.wait_until(lambda: not desc_words(net, eth.tx(i))[0] & OWN)
    tdes0 = desc_words(net, eth.tx(i))[0]
    assert not tdes0 & T_ES
    rdes0, data = eth.wait_rx(0)
    assert rdes0 & (R_FS | R_LS) == R_FS | R_LS
    assert not rdes0 & (R_ES | R_AFM)
    fl = (rdes0 >> 16) & 0x3FFF
    assert fl >= 64 and fl == len(data)
    check_fcs(data)
    assert data[0:6] == OUR_MAC
    assert data[12:14] == b"\x08\x06"
    op, sha, spa, tha, tpa = struct.unpack("!H6s4s6s4s", data[20:42])
    assert op == 2 and spa == HOST_IP and tha == OUR_MAC and tpa == OUR_IP
    assert data[6:12] == sha
    assert net.readl(DMASR) & (TS | RS) == TS | RS
    # The next descriptor is the current one now
    assert net.readl(DMACHRDR) == eth.rx(1)
    assert net.readl(DMACHTDR) == eth.tx(1)
    assert net.readl(DMACHTBAR) == TXBUF + len(req)
    assert net.readl(DMACHRBAR) == RXBUF + fl
    assert net.readl(MMCTGFCR) == 1 and net.readl(MMCRGUFCR) == 1


def test_crc_stripping_for_type_frames(net):
    eth = Eth(net)
    eth.send(arp_request())
    rdes0, with_fcs = eth.wait_rx(0)
    check_fcs(with_fcs)
    net.writel(MACCR, TE | RE | DM | FES | CSTF)
    eth.send(arp_request())
    rdes0, stripped = eth.wait_rx(1)
    assert (rdes0 >> 16) & 0x3FFF == len(with_fcs) - 4, "FL must not count the stripped FCS"
    assert stripped == with_fcs[:-4]


def test_icmp_checksum_insertion_gets_echo_reply(net):
    eth = Eth(net)
    eth.send(arp_request())
    _, reply = eth.wait_rx(0)
    host_mac = reply[22:28]
    ping = icmp_echo_frame(host_mac)
    assert ping[14 + 10:14 + 12] == b"\0\0" and ping[34 + 2:34 + 4] == b"\0\0"
    eth.send(ping, CIC_FULL)
    rdes0, data = eth.wait_rx(1)
    assert not rdes0 & R_ES
    assert data[12:14] == b"\x08\x00"
    ip = data[14:]
    ihl = (ip[0] & 0xF) * 4
    assert ip[9] == 1 and ip[12:16] == HOST_IP and ip[16:20] == OUR_IP
    icmp = ip[ihl:struct.unpack("!H", ip[2:4])[0]]
    assert icmp[0] == 0, "not an echo reply"
    assert struct.unpack("!HH", icmp[4:8]) == (0x4242, 1)
    assert icmp[8:] == b"stm32-eth-model-ping"


def test_icmp_without_checksum_insertion_is_ignored_by_host(net):
    """The host drops the zero-checksum ping unless the MAC fills in the checksum."""
    eth = Eth(net)
    eth.send(arp_request())
    _, reply = eth.wait_rx(0)
    eth.send(icmp_echo_frame(reply[22:28]))          # CIC = 0
    for _ in range(30):
        net.clock_step(1_000_000)
    assert desc_words(net, eth.rx(1))[0] & OWN, "host answered a ping with a bad checksum"


def test_software_reset_restores_registers(qts):
    qts.writel(MACCR, TE | RE | LM)
    qts.writel(MACFFR, PM)
    qts.writel(MACA0HR, 0x1234)
    qts.writel(DMATDLAR, TXD)
    qts.writel(DMAIER, NISE | TIE)
    qts.writel(DMABMR, EDFE | (8 << 8))
    qts.writel(DMAOMR, OMR_TSF)
    qts.writel(DMABMR, BMR_SR)
    assert qts.readl(DMABMR) & BMR_SR, "SR reads 1 while the reset runs"
    qts.clock_step(10_000)
    assert qts.readl(DMABMR) & BMR_SR == 0, "SR did not self-clear"
    assert qts.readl(DMABMR) == 0x00020100                   # reset value, reset done
    assert qts.readl(MACCR) == 0x00008000
    assert qts.readl(MACFFR) == 0
    assert qts.readl(MACA0HR) == 0x8000FFFF
    assert qts.readl(DMATDLAR) == 0
    assert qts.readl(DMAIER) == 0
    assert qts.readl(DMAOMR) == 0


def test_tx_ring_wraps_and_clears_own(qts):
    """Loopback: every frame sent comes back; TER sends the DMA to the list base."""
    eth = Eth(qts, ntx=2, nrx=4, maccr=TE | RE | DM | FES | LM)
    for n in range(3):
        frame = OUR_MAC + OUR_MAC + b"\x88\xb5" + bytes([n]) * 50
        i = eth.send(frame)
        assert i == n % 2
        assert not desc_words(qts, eth.tx(i))[0] & OWN, "TX OWN not cleared"
        rdes0, data = eth.wait_rx(n)
        assert (rdes0 >> 16) & 0x3FFF == len(frame) + 4
        assert data[:-4] == frame
        assert data[14:15] == bytes([n])
        check_fcs(data)
    assert qts.readl(DMACHTDR) == eth.tx(1)                  # after wrap: 0, 1, 0
    assert qts.readl(DMASR) & TBUS                           # ran out of TX descriptors
    assert (qts.readl(DMASR) >> 20) & 7 == 6                 # TPS suspended


def test_short_frames_are_padded(qts):
    eth = Eth(qts, maccr=TE | RE | DM | FES | LM)
    frame = OUR_MAC + OUR_MAC + b"\x88\xb5" + b"\xAA" * 10  # 24 bytes
    eth.send(frame)
    rdes0, data = eth.wait_rx(0)
    assert (rdes0 >> 16) & 0x3FFF == 64
    assert data[:24] == frame and data[24:60] == b"\0" * 36
    check_fcs(data)


def test_rx_ring_wraps_with_rer(qts):
    eth = Eth(qts, ntx=4, nrx=2, maccr=TE | RE | DM | FES | LM)
    for n in range(3):
        eth.send(OUR_MAC + OUR_MAC + b"\x88\xb5" + bytes([0x10 + n]) * 60)
        slot = n % 2
        rdes0, data = eth.wait_rx(slot)
        assert data[14] == 0x10 + n
        eth.give_rx(slot)
    assert qts.readl(DMACHRDR) == eth.rx(1)


def test_chained_descriptors_and_multi_buffer_frames(qts):
    """TCH/RCH: second address is the next descriptor; a frame spans descriptors."""
    Eth(qts, maccr=TE | RE | DM | FES | LM, start=False)
    # TX chain: 0x20000100 -> 0x20000300 -> 0x20000100, frame split 20 + 80 bytes
    t0, t1 = SRAM + 0x100, SRAM + 0x300
    frame = OUR_MAC + OUR_MAC + b"\x88\xb5" + bytes(range(86))
    qts.memwrite(TXBUF, frame[:20])
    qts.memwrite(TXBUF + 0x800, frame[20:])
    put_desc(qts, t0, OWN | FS | TCH, 20, TXBUF, t1)
    put_desc(qts, t1, OWN | LS | IC | TCH, len(frame) - 20, TXBUF + 0x800, t0)
    # RX chain with 64-byte buffers: the 104-byte frame (+FCS) takes two descriptors
    r0, r1, r2 = SRAM + 0x200, SRAM + 0x600, SRAM + 0x500
    put_desc(qts, r0, OWN, RCH | 64, RXBUF, r1)
    put_desc(qts, r1, OWN, RCH | 64, RXBUF + 0x800, r2)
    put_desc(qts, r2, OWN, RCH | 64, RXBUF + 0x1000, r0)
    qts.writel(DMATDLAR, t0)
    qts.writel(DMARDLAR, r0)
    qts.writel(DMAOMR, OMR_ST | OMR_SR)
    d0, d1 = desc_words(qts, r0)[0], desc_words(qts, r1)[0]
    assert not desc_words(qts, t0)[0] & OWN and not desc_words(qts, t1)[0] & OWN
    assert not d0 & OWN and not d1 & OWN
    assert d0 & R_FS and not d0 & R_LS
    assert d1 & R_LS and not d1 & R_FS and not d1 & R_ES
    assert (d1 >> 16) & 0x3FFF == len(frame) + 4
    got = qts.memread(RXBUF, 64) + qts.memread(RXBUF + 0x800, len(frame) + 4 - 64)
    assert got[:-4] == frame
    check_fcs(got)
    assert desc_words(qts, r2)[0] & OWN
    assert qts.readl(DMACHRDR) == r2
    assert qts.readl(DMACHTDR) == t0


def test_tx_and_rx_interrupts_gated_by_dmaier(qts):
    qts.irq_intercept_in("/machine/soc/armv7m")
    eth = Eth(qts, maccr=TE | RE | DM | FES | LM)
    eth.send(OUR_MAC + OUR_MAC + b"\x88\xb5" + b"x" * 50)
    sr = qts.readl(DMASR)
    assert sr & (TS | RS) == TS | RS
    assert not qts.irq_level(61), "IRQ raised with DMAIER = 0"
    qts.writel(DMAIER, NISE | TIE)
    assert qts.readl(DMASR) & NIS
    assert qts.irq_level(61)
    qts.writel(DMASR, TS | NIS)                              # write 1 to clear
    assert not qts.readl(DMASR) & (TS | NIS)
    assert qts.readl(DMASR) & RS                             # untouched
    assert not qts.irq_level(61)
    qts.writel(DMAIER, NISE | RIE)
    assert qts.irq_level(61)
    qts.writel(DMASR, RS | NIS)
    assert not qts.irq_level(61)
    # DIC on the RX descriptor suppresses RS
    put_desc(qts, eth.rx(1), OWN, DIC | 0x800, RXBUF + 0x800, 0)
    eth.send(OUR_MAC + OUR_MAC + b"\x88\xb5" + b"y" * 50)
    assert not desc_words(qts, eth.rx(1))[0] & OWN
    assert not qts.readl(DMASR) & RS and not qts.irq_level(61)


def test_rx_without_descriptor_sets_rbus_and_loses_nothing(net):
    eth = Eth(net, ntx=4, nrx=2, rx_own=1)
    eth.send(arp_request())
    rdes0, first = eth.wait_rx(0)
    assert first[28:32] == HOST_IP
    net.wait_until(lambda: net.readl(DMASR) & RBUS)
    assert (net.readl(DMASR) >> 17) & 7 == 4                  # RPS suspended
    eth.send(arp_request())                                   # reply has nowhere to go
    for _ in range(20):
        net.clock_step(1_000_000)
    assert desc_words(net, eth.rx(1))[0] == 0
    net.writel(DMASR, RBUS | AIS)
    assert not net.readl(DMASR) & RBUS
    eth.give_rx(1)
    net.writel(DMARPDR, 0)
    rdes0, second = eth.wait_rx(1)
    assert rdes0 & (R_FS | R_LS) == R_FS | R_LS and not rdes0 & R_ES
    assert second[20:22] == b"\x00\x02" and second[28:32] == HOST_IP


def test_enhanced_descriptors_with_checksum_status(qts):
    eth = Eth(qts, ntx=2, nrx=2, enhanced=True, maccr=TE | RE | DM | FES | LM | IPCO)
    assert qts.readl(DMABMR) & EDFE
    good = udp_frame(good=True)
    eth.send(good)
    assert not desc_words(qts, eth.tx(0), 8)[0] & OWN
    rdes = desc_words(qts, eth.rx(0), 8)
    assert not rdes[0] & (OWN | R_ES)
    assert rdes[0] & (R_FS | R_LS | R_FT | R_ESA) == R_FS | R_LS | R_FT | R_ESA
    assert (rdes[0] >> 16) & 0x3FFF == len(good) + 4
    assert rdes[4] & 0xFF == IPV4PR | IPPT_UDP, hex(rdes[4])
    assert qts.memread(RXBUF, len(good)) == good
    eth.send(udp_frame(good=False))
    rdes = desc_words(qts, eth.rx(1), 8)
    assert not rdes[0] & OWN
    assert rdes[4] & IPPE and not rdes[4] & IPHE
    # The second descriptor sits 32 bytes after the first
    assert qts.readl(DMACHRDR) == eth.rx(0)                  # wrapped by RER


def test_tx_checksum_insertion_on_loopback(qts):
    eth = Eth(qts, maccr=TE | RE | DM | FES | LM)
    frame = bytearray(udp_frame())
    frame[14 + 10:14 + 12] = b"\0\0"                          # IP header checksum
    frame[34 + 6:34 + 8] = b"\0\0"                            # UDP checksum
    eth.send(bytes(frame), CIC_FULL)
    _, data = eth.wait_rx(0)
    assert data[:-4] == udp_frame()


def test_frame_filter(qts):
    eth = Eth(qts, ntx=4, nrx=4, maccr=TE | RE | DM | FES | LM)
    other = bytes([0x02, 0, 0, 0, 0, 0x99])
    eth.send(other + OUR_MAC + b"\x88\xb5" + b"a" * 50)      # not ours: dropped
    assert desc_words(qts, eth.rx(0))[0] & OWN
    qts.writel(MACA1HR, (1 << 31) | other[4] | (other[5] << 8))
    qts.writel(MACA1LR, struct.unpack("<I", other[:4])[0])
    eth.send(other + OUR_MAC + b"\x88\xb5" + b"b" * 50)      # MACA1 enabled: accepted
    rdes0, data = eth.wait_rx(0)
    assert data[14] == ord("b")
    qts.writel(MACFFR, BFD)
    eth.send(BCAST + OUR_MAC + b"\x88\xb5" + b"c" * 50)      # broadcast blocked
    assert desc_words(qts, eth.rx(1))[0] & OWN
    qts.writel(MACFFR, RA)
    eth.send(bytes([0x02, 1, 2, 3, 4, 5]) + OUR_MAC + b"\x88\xb5" + b"d" * 50)
    rdes0, data = eth.wait_rx(1)
    assert rdes0 & R_AFM and data[14] == ord("d")            # received, flagged
    qts.writel(MACFFR, PM)
    eth.send(bytes([0x02, 9, 9, 9, 9, 9]) + OUR_MAC + b"\x88\xb5" + b"e" * 50)
    rdes0, data = eth.wait_rx(2)
    assert not rdes0 & R_AFM and data[14] == ord("e")


def test_descriptor_in_ccm_is_a_fatal_bus_error(qts):
    qts.irq_intercept_in("/machine/soc/armv7m")
    Eth(qts, start=False)
    qts.writel(DMAIER, AISE | FBEIE)
    qts.writel(DMATDLAR, CCM)
    qts.writel(DMAOMR, OMR_ST)
    sr = qts.readl(DMASR)
    assert sr & (FBES | AIS) == FBES | AIS
    assert (sr >> 20) & 7 == 0, "TX DMA not stopped"
    assert (sr >> 23) & 7 == 0b111, "EBS: TX descriptor read"
    assert qts.irq_level(61)
    assert "fatal bus error" in qts.log()
    # A buffer in CCM stops the RX side too, and QEMU stays usable
    qts.writel(DMABMR, BMR_SR)
    assert qts.readl(DMASR) == 0
    assert not qts.irq_level(61)
    eth = Eth(qts, maccr=TE | RE | DM | FES | LM)
    put_desc(qts, eth.rx(0), OWN, 0x800, CCM + 0x100, 0)
    eth.send(OUR_MAC + OUR_MAC + b"\x88\xb5" + b"z" * 50)
    sr = qts.readl(DMASR)
    assert sr & FBES and (sr >> 17) & 7 == 0
    assert qts.alive()


def test_garbage_everywhere_leaves_qemu_alive(qts):
    for off in range(0, 0x1400, 4):
        qts.readl(ETH + off)
    for off in list(range(0, 0x60, 4)) + list(range(0x100, 0x200, 4)) + \
            list(range(0x700, 0x760, 4)) + list(range(0x1000, 0x1060, 4)):
        if off == 0x1000:
            continue                                          # DMABMR: below
        qts.writel(ETH + off, 0xFFFFFFFF)
        qts.writel(ETH + off, 0xA5A5A5A5)
    qts.writel(ETH + 0x1000, 0xFFFFFFFE)
    qts.writel(ETH + 0x1000, 0xFFFFFFFF)
    for off in range(0, 0x1400, 4):
        qts.readl(ETH + off)
    qts.clock_step(10_000)
    assert qts.readl(DMABMR) == 0x00020100
    assert qts.alive()


def test_hash_filter_for_multicast(qts):
    eth = Eth(qts, maccr=TE | RE | DM | FES | LM)
    group = bytes([0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB])
    crc = zlib.crc32(group)
    index = int(f"{crc:032b}"[::-1], 2) >> 26        # top 6 bits of the reversed CRC
    frame = group + OUR_MAC + b"\x88\xb5" + b"m" * 50
    qts.writel(MACFFR, 1 << 2)                        # HM, empty table
    eth.send(frame)
    assert desc_words(qts, eth.rx(0))[0] & OWN, "multicast passed an empty hash table"
    qts.writel(MACHTHR if index >= 32 else MACHTLR, 1 << (index & 31))
    eth.send(frame)
    rdes0, data = eth.wait_rx(0)
    assert data[:-4] == frame and not rdes0 & R_AFM


def test_phy_interrupt_on_pb14_raises_exti15_10(net):
    """As on the board: MII_INT (PB14, active low) through SYSCFG EXTICR4 and a falling-edge
    EXTI line 14 raises EXTI15_10 (NVIC 40) when the cable is pulled."""
    net.irq_intercept_in()
    net.writel(0x40013814, 1 << 8)                   # SYSCFG_EXTICR4: line 14 <- port B
    net.writel(0x40013C00, 1 << 14)                  # EXTI_IMR
    net.writel(0x40013C0C, 1 << 14)                  # EXTI_FTSR
    mdio_write(net, 0x12, 0x0020)                    # MISR: LINK_INT_EN
    mdio_write(net, 0x11, 0x0003)                    # MICR: INT_OE | INTEN
    net.qmp("set_link", name=nic_name(net), up=True)   # no change: nothing happens
    assert not net.readl(0x40013C14) & (1 << 14)
    net.qmp("set_link", name=nic_name(net), up=False)
    assert pb14(net) == 0
    assert net.readl(0x40013C14) & (1 << 14)         # EXTI_PR14
    assert (40, True) in net.irq_events              # QEMU's EXTI pulses the NVIC line
    net.writel(0x40013C14, 1 << 14)
    mdio_read(net, 0x12)                             # pin released: rising edge, not armed
    assert pb14(net) == 1 and not net.readl(0x40013C14) & (1 << 14)
