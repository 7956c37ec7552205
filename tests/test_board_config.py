"""The board configuration: the config flash sector (0x080E0000) that the firmware's
boardcfg module reads, and the launcher's --config / Board(config=...) that loads it.

The parser is checked on the host (boardcfg.py is plain Python), the launcher's blob and ELF
handling without QEMU, and the whole path on the real firmware in our QEMU (restricted
user-mode network, loopback forwards only).
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.board import (CONFIG_ADDR, CONFIG_KEYS, CONFIG_SIZE, BoardError,
                              elf_with_config, make_config_blob)
from host_tools.ssl_client import fetch
from lab_firmware import Console, boot

TOP = Path(__file__).resolve().parent.parent
BOARD_PY = TOP / "host_tools" / "board.py"


def load_boardcfg():
    spec = importlib.util.spec_from_file_location(
        "boardcfg", TOP / "firmware" / "apps" / "boardcfg.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


boardcfg = load_boardcfg()


# --- the parser (boardcfg.py, on the host) ----------------------------------------------

def test_defaults_are_the_st_demo_s():
    cfg = boardcfg.Config()
    assert (cfg.role, cfg.dhcp, cfg.ip, cfg.netmask, cfg.gateway, cfg.mac) == \
        ("client", False, "192.168.0.10", "255.255.255.0", "192.168.0.1", "00:00:00:00:00:02")
    assert (cfg.server_ip, cfg.server_port, cfg.hostname(), cfg.port, cfg.blink_ms) == \
        ("192.168.0.1", 443, "192.168.0.1", 443, 200)
    assert set(boardcfg.DEFAULTS) == set(CONFIG_KEYS), "board.py and boardcfg.py disagree"


def test_parse_keys_pem_blocks_and_warnings(pki):
    ca = (pki / "ca.pem").read_text()
    chain = (pki / "server-rsa.pem").read_text() + ca
    text = ("# a comment\nrole = server\r\ndhcp=on  # trailing comment\nport=8443\n"
            "ca=\n" + ca + "\ncert=\n" + chain + "client_auth=on\n"
            "ip=300.1.2.3\nbogus=1\nnot a setting\nperiod=5\n")
    cfg = boardcfg.parse(text)
    assert (cfg.role, cfg.dhcp, cfg.port, cfg.client_auth, cfg.period) == \
        ("server", True, 8443, "required", 5)
    assert cfg.ca.strip() == ca.strip()
    assert cfg.cert.count("-----BEGIN CERTIFICATE-----") == 2
    assert cfg.ip == "192.168.0.10"          # the bad value kept the default
    assert len(cfg.warnings) == 3, cfg.warnings
    assert "ip=300.1.2.3: not an IPv4 address" in cfg.warnings[0]
    assert "unknown key 'bogus'" in cfg.warnings[1]
    assert "is not key=value" in cfg.warnings[2]


@pytest.mark.parametrize("line", ["role=router", "mac=01:00:00:00:00:02", "server_port=0",
                                  "dhcp=maybe", "client_auth=sometimes"])
def test_parse_refuses_bad_values(line):
    cfg = boardcfg.parse(line + "\n")
    key = line.split("=")[0]
    assert cfg[key] == boardcfg.DEFAULTS[key] and len(cfg.warnings) == 1, cfg.warnings


# --- the launcher: blob and ELF ---------------------------------------------------------

def test_make_config_blob_from_dict(pki):
    blob = make_config_blob({"role": "server", "dhcp": True, "period": 7,
                             "cert": pki / "board-ec.pem", "key": None},
                            text=b"ip=192.168.0.20")
    text = blob.decode()
    assert text.startswith("ip=192.168.0.20\nrole=server\ndhcp=on\nperiod=7\ncert=\n"
                           "-----BEGIN CERTIFICATE-----\n")
    assert "key=" not in text
    cfg = boardcfg.parse(text)
    assert (cfg.role, cfg.dhcp, cfg.period, cfg.ip) == ("server", True, 7, "192.168.0.20")
    assert cfg.cert.strip() == (pki / "board-ec.pem").read_text().strip()


@pytest.mark.parametrize("config,text,error", [
    ({"colour": "blue"}, b"", "unknown config key 'colour'"),
    ({"ca": "not a pem"}, b"", "config ca is not PEM text"),
    ({"ip": "1.2.3.4\nrole=repl"}, b"", "spans lines"),
    ({}, b"role=server\xff", "0x00 or 0xFF byte"),
    ({}, b"x" * CONFIG_SIZE, "the sector holds"),
])
def test_make_config_blob_refuses_bad_input(config, text, error):
    with pytest.raises(BoardError, match=re.escape(error)):
        make_config_blob(config, text=text)


def test_elf_with_config_adds_the_sector_as_a_segment(firmware_elf):
    elf = firmware_elf.read_bytes()
    out = elf_with_config(elf, b"role=repl\n")
    phoff = int.from_bytes(out[28:32], "little")
    phnum = int.from_bytes(out[44:46], "little")
    assert phnum == int.from_bytes(elf[44:46], "little") + 1
    last = out[phoff + 32 * (phnum - 1):phoff + 32 * phnum]
    p_type, offset, vaddr, paddr, filesz = (int.from_bytes(last[o:o + 4], "little")
                                            for o in (0, 4, 8, 12, 16))
    assert (p_type, vaddr, paddr, filesz) == (1, CONFIG_ADDR, CONFIG_ADDR, CONFIG_SIZE)
    sector = out[offset:offset + filesz]
    assert sector == b"role=repl\n" + b"\xff" * (CONFIG_SIZE - 10)
    # a firmware whose code reaches into the sector is refused
    ph = bytearray(out[phoff:phoff + 32])
    ph[0:4] = (1).to_bytes(4, "little")
    ph[12:16] = (CONFIG_ADDR - 16).to_bytes(4, "little")
    ph[16:20] = (64).to_bytes(4, "little")
    bad = bytearray(elf)
    first = int.from_bytes(elf[28:32], "little")
    bad[first:first + 32] = ph
    with pytest.raises(BoardError, match="loads data into the config sector"):
        elf_with_config(bytes(bad), b"")


def test_firmware_keeps_code_out_of_the_sector(firmware_elf):
    nm = subprocess.run(["arm-none-eabi-nm", str(firmware_elf)], capture_output=True, text=True)
    ends = {l.split()[2]: int(l.split()[0], 16) for l in nm.stdout.splitlines()
            if len(l.split()) == 3}
    assert ends["_sidata"] + (ends["_edata"] - ends["_sdata"]) <= CONFIG_ADDR


def run_cli(*args):
    return subprocess.run([sys.executable, str(BOARD_PY), *args], capture_output=True,
                          text=True, timeout=30)


def test_cli_config_out_writes_the_blob_for_st_flash(tmp_path, pki):
    src = tmp_path / "board.cfg"
    src.write_text("dhcp=on\n")
    out = tmp_path / "cfg.bin"
    result = run_cli("--config", str(src), "--role", "server", "--cert",
                     str(pki / "board-rsa.pem"), "--set", "port=8443", "--config-out", str(out))
    assert result.returncode == 0, result.stderr
    assert "st-flash write" in result.stdout and "0x080e0000" in result.stdout
    cfg = boardcfg.parse(out.read_text())
    assert (cfg.dhcp, cfg.role, cfg.port, cfg.warnings) == (True, "server", 8443, [])


@pytest.mark.parametrize("args,error", [
    (["--set", "nokey"], "--set 'nokey' is not KEY=VALUE"),
    (["--set", "speed=9"], "unknown config key 'speed'"),
    (["--config", "/nonexistent/board.cfg"], "config file '/nonexistent/board.cfg' cannot be read"),
])
def test_cli_config_errors_are_one_line(args, error, tmp_path):
    result = run_cli(*args, "--config-out", str(tmp_path / "x.bin"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and error in result.stderr, result.stderr


# --- on the board ---------------------------------------------------------------------

@pytest.fixture
def boards():
    started = []
    yield started
    for b, con in started:
        con.close()
        b.stop()


def text(con: Console, pattern: str, timeout: float = 30) -> str:
    return con.expect(pattern.encode(), timeout).decode(errors="replace").replace("\r\n", "\n")


def test_erased_sector_gives_the_defaults(firmware_elf, qemu, boards):
    b, con = boot(firmware_elf, qemu, config_blob=b"")
    boards.append((b, con))
    out = text(con, "  ! Connection #1 failed")
    assert "SSL client demonstration" in out
    assert "  . Configuration: config sector 0x080e0000 erased: defaults\n" \
           "    role client, MAC 00:00:00:00:00:02, static IP 192.168.0.10 netmask " \
           "255.255.255.0 gateway 192.168.0.1\n" \
           "    server 192.168.0.1:443 (name 192.168.0.1), every 10 s" in out, out
    assert "  Static IP address: 192.168.0.10" in out
    assert "  ! no CA certificate in the configuration" in out
    assert b.led("led2") and not b.led("led3")


def test_no_sector_loaded_boots_to_the_repl(firmware_elf, qemu, boards):
    b, con = boot(firmware_elf, qemu)
    boards.append((b, con))
    out = text(con, ">>> ")
    assert "demonstration" not in out and "boardcfg" not in out
    assert "none" in con.run("import boardcfg; print(boardcfg.load().source)")


def test_role_repl_reports_bad_lines_and_gives_the_repl(firmware_elf, qemu, boards):
    b, con = boot(firmware_elf, qemu, config_blob=b"role=repl\nport=99999\n")
    boards.append((b, con))
    out = text(con, ">>> ")
    assert "  ! boardcfg: line 2: port=99999: out of range (default 443 kept)" in out, out
    assert "boardcfg: role repl: the MicroPython REPL" in out
    assert "('repl', 443)" in con.run("import boardcfg; c = boardcfg.load(); print((c.role, c.port))")


def test_blob_changes_role_address_and_period_without_rebuilding(firmware_elf, qemu, boards,
                                                                pki):
    # the same firmware as a server on another address, then as a client with another period
    b, con = boot(firmware_elf, qemu, board_ip="192.168.0.20", hostfwd=["0:8443"],
                  config={"role": "server", "ip": "192.168.0.20", "port": 8443,
                          "cert": pki / "board-ec.pem", "key": pki / "board-ec.key.pem"})
    boards.append((b, con))
    out = text(con, "  . Waiting for a remote connection ...")
    assert "  Static IP address: 192.168.0.20" in out and "https://192.168.0.20:8443/" in out
    # (TLS 1.2: its suite names show the ECDSA certificate; TLS 1.3's do not)
    r = fetch(f"https://127.0.0.1:{b.forwarded_port(8443)}/", ca=pki / "ca.pem",
              timeout=30, tls_max="1.2")
    assert r.status == 200 and "ECDSA" in r.cipher and b"Board 192.168.0.20" in r.body
    con.close()
    b.stop()
    boards.clear()
    b, con = boot(firmware_elf, qemu, config={"period": 3})
    boards.append((b, con))
    out = text(con, "  ! Connection #1 failed; the SSL client tries again in 3 s")
    assert "every 3 s" in out
