"""The network rule, seen from the board's Ethernet: QEMU's user-mode network as the launcher
configures it hands out the documented address, and with restrict=on the board's DNS
queries are not forwarded to the host's resolver (DNS for the board must come from the
project's own resolver). The DHCP test also shows the receive path works, so the silence
in the DNS test means something."""
import struct

import pytest

from lab_qtest import QTest
from test_eth import BCAST, OUR_MAC, Eth, arp_request, inet_checksum, desc_words, OWN

# What host_tools/board.py passes to -nic (see QemuEngine._nic), minus forwards
LAUNCHER_NIC = ("user,id=net0,restrict=on,ipv6=off,net=192.168.0.0/24,host=192.168.0.2,"
                "dhcpstart=192.168.0.10,mac=00:00:00:00:00:02")
BOARD_IP = bytes([192, 168, 0, 10])
SLIRP_DNS = bytes([192, 168, 0, 3])


def udp_ip_frame(dst_mac, src_ip, dst_ip, sport, dport, payload) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src_ip, dst_ip)
    hdr = hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:]
    return dst_mac + OUR_MAC + b"\x08\x00" + hdr + udp


def dhcp_discover() -> bytes:
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x5354_4D32, 0, 0x8000,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, OUR_MAC + b"\0" * 10,
                        b"", b"")
    options = b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\xff"
    return udp_ip_frame(BCAST, b"\0" * 4, b"\xff" * 4, 68, 67, bootp + options)


def dhcp_options(payload: bytes) -> dict:
    opts, i = {}, 240
    while i < len(payload) and payload[i] != 0xFF:
        if payload[i] == 0:
            i += 1
            continue
        code, length = payload[i], payload[i + 1]
        opts[code] = payload[i + 2:i + 2 + length]
        i += 2 + length
    return opts


@pytest.fixture
def lan(qemu):
    with QTest(qemu, nic=LAUNCHER_NIC) as q:
        q.enable_clock("eth")
        yield q
        assert q.alive(), q.stderr()


def test_dhcp_offers_the_board_address_and_no_dns_or_router(lan):
    """With restrict=on slirp offers 192.168.0.10/24 from 192.168.0.2 and leaves out the
    router and DNS options: a board on DHCP gets no path to the host's resolver."""
    eth = Eth(lan)
    eth.send(dhcp_discover())
    rdes0, frame = eth.wait_rx(0)
    ip = frame[14:]
    assert ip[9] == 17
    udp = ip[(ip[0] & 0xF) * 4:]
    assert struct.unpack("!HH", udp[:4]) == (67, 68)
    bootp = udp[8:]
    assert bootp[16:20] == BOARD_IP                       # yiaddr
    opts = dhcp_options(bootp)
    assert opts[53] == b"\x02"                            # DHCPOFFER
    assert opts[54] == bytes([192, 168, 0, 2])            # server: QEMU's own address
    assert opts[1] == bytes([255, 255, 255, 0])
    assert 3 not in opts and 6 not in opts, opts          # no router, no DNS server


def test_dns_queries_are_not_forwarded_to_the_host_resolver(lan):
    eth = Eth(lan)
    eth.send(arp_request(SLIRP_DNS))
    _, reply = eth.wait_rx(0)
    dns_mac = reply[22:28]
    # A name under .invalid (RFC 6761) could not resolve anywhere even if it leaked
    qname = b"".join(bytes([len(p)]) + p for p in (b"board-test", b"invalid")) + b"\0"
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + b"\0\x01\0\x01"
    eth.send(udp_ip_frame(dns_mac, BOARD_IP, SLIRP_DNS, 40000, 53, query))
    with pytest.raises(TimeoutError):
        lan.wait_until(lambda: not desc_words(lan, eth.rx(1))[0] & OWN, timeout=3.0)
