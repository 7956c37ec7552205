"""Helpers for driving the STM32F4xx Ethernet MAC/DMA model through qtest (RM0090 chapter
33): register addresses, descriptors, frames (ARP, IPv4, ICMP, UDP), MDIO to the DP83848,
and the user-mode network option the launcher gives QEMU."""

import struct
import zlib

from host_tools.board import Board
from lab_qtest import QTest

def launcher_nic() -> str:
    """The -nic option host_tools/board.py starts QEMU with (restrict=on, the lab's
    addresses), without forwards: the tests' network is the launcher's."""
    return Board("firmware.elf", emulator="qemu-system-arm").engine.nic_option()



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
