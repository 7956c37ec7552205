"""STM32F4xx Ethernet MAC/DMA (RM0090 chapter 33) and DP83848 PHY model, through qtest.

Frames go to QEMU's user-mode network (restrict=on, 192.168.0.0/24, host 192.168.0.1) or
around the MAC loopback (MACCR.LM); descriptors and buffers live in SRAM.
"""

import struct
import zlib

import pytest

from lab_eth import (  # the model's registers, descriptors and frames
    AIS, AISE, BCAST, BFD, BMR_SR, CCM, CIC_FULL, CSTF, DIC, DM, DMABMR, DMACHRBAR,
    DMACHRDR, DMACHTBAR, DMACHTDR, DMAIER, DMAOMR, DMARDLAR, DMARPDR, DMASR, DMATDLAR,
    EDFE, ETH, Eth, FBEIE, FBES, FES, FS, HOST_IP, IC, IPCO, IPHE, IPPE, IPPT_UDP, IPV4PR,
    LM, LS, MACA0HR, MACA0LR, MACA1HR, MACA1LR, MACCR, MACFFR, MACHTHR, MACHTLR, MMCRGUFCR,
    MMCTGFCR, NIS, NISE, OMR_SR, OMR_ST, OMR_TSF, OUR_IP, OUR_MAC, OWN, PM, RA, RBUS, RCH,
    RE, RIE, RS, RXBUF, R_AFM, R_ES, R_ESA, R_FS, R_FT, R_LS, SRAM, TBUS, TCH, TE, TIE, TS,
    TXBUF, TXD, T_ES, arp_request, check_fcs, desc_words, icmp_echo_frame, mdio_read,
    mdio_write, pb14, put_desc, udp_frame,
)
from lab_qtest import QTest

# a network of the test's own: the PC at 192.168.0.1 is slirp's host, which answers ARP
NIC = "user,id=net0,restrict=on,net=192.168.0.0/24,host=192.168.0.1"


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


def test_phy_is_the_boards_chip_and_dma_masters_the_bus_matrix(qts):
    """The DP83848 is a device of its own (dp83848-phy), which a system reset resets; the
    MAC's DMA reaches memory through the SoC's bus matrix ('dma-memory' link), where CCM
    is not: the SoC, not the MAC, knows the bus."""
    assert qts.qom_get("/machine/soc/eth/phy", "type") == "dp83848-phy"
    assert qts.qom_get("/machine/soc/eth", "dma-memory").endswith("/dma-bus-matrix[0]")
    mdio_write(qts, 4, 0x0061)                       # ANAR: 10 Mb/s only
    assert mdio_read(qts, 4) == 0x0061
    qts.qmp("system_reset")
    # the reset clears the RCC too (ETHMACEN in RCC_AHB1ENR): the MAC's clock is off again
    qts.wait_until(lambda: not qts.readl(0x40023830) & 1 << 25)
    qts.enable_clock("eth")
    assert mdio_read(qts, 4) == 0x01E1               # ANAR reset value
    assert mdio_read(qts, 0x19) & 0x1F == 1          # PHYCR: PHYAD strap = 1


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
