"""host_tools/lab_dns.py, the lab's DNS resolver on loopback: answers checked with dig (a
real resolver client) and with hand-made hostile datagrams, after each of which a normal
query is still answered."""
import re
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.lab_dns import DnsError, LabDns

TOP = Path(__file__).resolve().parent.parent
NAMES = {"ssl-server.lab": "192.168.0.1", "Board.Lab.": "192.168.0.10"}


@pytest.fixture
def dns():
    with LabDns(NAMES) as server:
        yield server


def dig(server, *args) -> str:
    if not shutil.which("dig"):
        pytest.fail("dig is needed (apt-get install bind9-dnsutils; make setup installs it)")
    r = subprocess.run(["dig", f"@{server.host}", "-p", str(server.port), "+tries=1",
                        "+time=5", *args], capture_output=True, text=True, timeout=30)
    return r.stdout


def raw(server, data: bytes, timeout=2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, (server.host, server.port))
        try:
            return s.recvfrom(4096)[0]
        except socket.timeout:
            return None


def query(name: str, qtype=1, qclass=1, qid=0x1234, flags=0x0100) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + qname + struct.pack("!HH", qtype,
                                                                               qclass)


def rcode(response: bytes) -> int:
    return struct.unpack_from("!H", response, 2)[0] & 0xF


def test_dig_gets_the_table_s_addresses(dns):
    out = dig(dns, "ssl-server.lab", "A")
    assert "status: NOERROR" in out and "flags: qr aa rd" in out, out
    assert re.search(r"^ssl-server\.lab\.\s+60\s+IN\s+A\s+192\.168\.0\.1$", out, re.M), out
    out = dig(dns, "BOARD.lab", "A")                          # names are case-insensitive
    assert re.search(r"^BOARD\.lab\.\s+60\s+IN\s+A\s+192\.168\.0\.10$", out, re.M), out


def test_unknown_names_are_nxdomain_and_other_types_no_data(dns):
    out = dig(dns, "example.com", "A")
    assert "status: NXDOMAIN" in out and "ANSWER: 0" in out, out
    out = dig(dns, "ssl-server.lab", "AAAA")
    assert "status: NOERROR" in out and "ANSWER: 0" in out, out
    assert dns.log[-2:] == ["example.com: NXDOMAIN", "ssl-server.lab type 28: no data"]


@pytest.mark.parametrize("datagram,expect", [
    (b"", None),                                            # empty
    (b"\x12\x34\x01", None),                                # shorter than a header
    (query("ssl-server.lab", flags=0x8000), None),          # a response: dropped
    (query("ssl-server.lab")[:-3], 1),                      # no type/class: FORMERR
    (query("ssl-server.lab")[:14], 1),                      # label past the end
    (struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\0\x01\0\x01", 1),  # pointer
    (struct.pack("!HHHHHH", 1, 0x0100, 2, 0, 0, 0) + query("a")[12:] * 2, 1),  # 2 questions
    (struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\x3f" + b"a" * 63 * 5, 1),  # long
    (query("ssl-server.lab", flags=0x2100), 4),             # opcode 4 (NOTIFY): NOTIMP
    (query("ssl-server.lab", qclass=3), 5),                 # class CHAOS: REFUSED
    (bytes(range(256)) * 4, 1),                             # garbage: FORMERR
], ids=["empty", "short", "response", "no-type", "past-end", "pointer", "two-questions",
        "long-name", "notify", "chaos", "garbage"])
def test_hostile_datagrams_get_an_error_or_nothing_and_service_goes_on(dns, datagram, expect):
    got = raw(dns, datagram, timeout=0.5 if expect is None else 2.0)
    if expect is None:
        assert got is None
    else:
        assert got is not None and rcode(got) == expect, got
        assert got[:2] == datagram[:2]                      # the query's id
    ok = raw(dns, query("ssl-server.lab"))
    assert rcode(ok) == 0 and ok.endswith(socket.inet_aton("192.168.0.1"))


@pytest.mark.parametrize("names,message", [
    ({"pc.lab": "8.8.8.8"}, "outside the lab's network 192.168.0.0/24"),
    ({"pc.lab": "10.0.0.1"}, "outside the lab's network"),
    ({"pc.lab": "not-an-ip"}, "is not an IPv4 address"),
    ({"a..lab": "192.168.0.1"}, "is not a DNS name"),
])
def test_table_that_would_break_the_network_rule_is_refused(names, message):
    with pytest.raises(DnsError, match=message):
        LabDns(names)


def test_listens_on_loopback_only():
    with pytest.raises(DnsError, match="not loopback"):
        LabDns(NAMES, host="0.0.0.0")


def test_command_line_busy_port_and_missing_names_are_one_line(dns):
    r = subprocess.run([sys.executable, "-m", "host_tools.lab_dns", "--port", str(dns.port),
                        "--name", "pc.lab=192.168.0.1"], cwd=TOP, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"lab_dns: cannot listen on 127.0.0.1:{dns.port} (Address already in use); pick "
        f"another port with --port (0 = a free one)"]
    r = subprocess.run([sys.executable, "-m", "host_tools.lab_dns"], cwd=TOP,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no names to answer" in r.stderr
