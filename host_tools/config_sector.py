"""The board's config flash sector: what the firmware's apps run, and with which settings.

The firmware (firmware/apps/boardcfg.py) reads key=value lines and PEM blocks from the last
128 KiB flash sector (0x080E0000 on both EVAL boards, kept free of code by the firmware's
linker scripts); the rest of the sector is erased flash (0xFF). :func:`make_config_blob`
writes that text, :func:`elf_with_config` puts it into a copy of the firmware ELF (our
QEMU is built without the generic loader device, so the sector travels with ``-kernel``).
On a real board: ``st-flash write FILE 0x080E0000``.
"""

from __future__ import annotations

from pathlib import Path

from host_tools.lab import BoardError

__all__ = ["CONFIG_ADDR", "CONFIG_KEYS", "CONFIG_PEM_KEYS", "CONFIG_SIZE", "elf_with_config",
           "make_config_blob"]

CONFIG_ADDR = 0x080E0000      # the EVAL boards' sector; lab.Machine.config_addr per machine
CONFIG_SIZE = 128 * 1024
CONFIG_KEYS = ("role", "dhcp", "ip", "netmask", "gateway", "mac", "server_ip", "server_port",
               "server_name", "path", "period", "port", "client_auth", "deadline", "sessions",
               "max_reply", "resume", "tls_min", "tls_max", "ciphers", "blink_ms",
               "dhcp_timeout", "time", "ca", "cert", "key", "dns", "seed")
CONFIG_PEM_KEYS = ("ca", "cert", "key")


def make_config_blob(config: dict | None = None, *, text=b"") -> bytes:
    """The config sector's blob: text (bytes/str: key=value lines and PEM blocks, as
    written by hand) followed by one line per config item (later lines win on the board).
    Values: True/False -> on/off, a PEM text (or a Path to a PEM file) for ca/cert/key."""
    blob = text.encode() if isinstance(text, str) else bytes(text)
    lines = []
    for key, value in (config or {}).items():
        if key not in CONFIG_KEYS:
            raise BoardError(f"unknown config key '{key}'; use one of {', '.join(CONFIG_KEYS)}")
        if value is None:
            continue
        if isinstance(value, Path):
            try:
                value = value.read_text()
            except (OSError, UnicodeError) as e:
                raise BoardError(f"config {key}: cannot read '{value}' ({e}); pass a PEM "
                                 f"file") from None
        if key in CONFIG_PEM_KEYS:
            value = str(value)
            if value and "-----BEGIN " not in value:
                raise BoardError(f"config {key} is not PEM text (no '-----BEGIN' line); pass "
                                 f"the PEM file's contents or its Path")
            lines.append(f"{key}=")
            lines.extend(line.strip() for line in value.strip().splitlines())
        elif isinstance(value, bool):
            lines.append(f"{key}={'on' if value else 'off'}")
        else:
            value = str(value)
            if "\n" in value or "\r" in value:
                raise BoardError(f"config {key}={value!r} spans lines; give one line")
            lines.append(f"{key}={value}")
    if lines:
        if blob and not blob.endswith(b"\n"):
            blob += b"\n"
        blob += ("\n".join(lines) + "\n").encode()
    if b"\x00" in blob or b"\xff" in blob:
        raise BoardError("config blob holds a 0x00 or 0xFF byte, which ends it on the board; "
                         "write it as UTF-8 text")
    try:
        blob.decode()
    except UnicodeError:
        raise BoardError("config blob is not UTF-8 text; write key=value lines and PEM "
                         "blocks") from None
    if len(blob) >= CONFIG_SIZE:
        raise BoardError(f"config blob is {len(blob)} bytes; the sector holds "
                         f"{CONFIG_SIZE - 1} at most")
    return blob


def elf_with_config(elf: bytes, blob: bytes, addr: int = CONFIG_ADDR) -> bytes:
    """A copy of a 32-bit ARM ELF with one more loadable segment: the config sector
    (blob, then 0xFF up to CONFIG_SIZE) at addr."""
    phoff = int.from_bytes(elf[28:32], "little")
    phentsize = int.from_bytes(elf[42:44], "little")
    phnum = int.from_bytes(elf[44:46], "little")
    if phentsize != 32 or phoff + phnum * 32 > len(elf):
        raise BoardError("firmware ELF has no usable program headers; rebuild it")
    headers = elf[phoff:phoff + phnum * 32]
    for i in range(phnum):
        ph = headers[i * 32:(i + 1) * 32]
        p_type, paddr, filesz = (int.from_bytes(ph[o:o + 4], "little") for o in (0, 12, 16))
        if p_type == 1 and filesz and paddr < addr + CONFIG_SIZE \
                and paddr + filesz > addr:
            raise BoardError(f"firmware loads data into the config sector at "
                             f"0x{addr:08x}; rebuild it with the lab's linker scripts "
                             f"(firmware/mcu/*.ld)")
    sector = blob + b"\xff" * (CONFIG_SIZE - len(blob))
    out = bytearray(elf)
    out += b"\0" * (-len(out) % 4)
    data_off = len(out)
    out += sector
    new_phoff = len(out)
    ph = [1, data_off, addr, addr, CONFIG_SIZE, CONFIG_SIZE, 4, 4]  # PT_LOAD, R
    out += headers + b"".join(v.to_bytes(4, "little") for v in ph)
    out[28:32] = new_phoff.to_bytes(4, "little")
    out[44:46] = (phnum + 1).to_bytes(2, "little")
    return bytes(out)
