# boardcfg: the board configuration, read from the config flash sector.
#
# The last 128 KiB sector of the flash (sector 11, 0x080E0000, on the EVAL boards; sector 7,
# 0x08060000, on the Nucleo-F411RE; the linker scripts keep code out of it) holds a text blob, so role, addresses and certificates change
# without rebuilding the firmware:
#
#     # lines starting with '#' are comments
#     role=server                 # client (default) | server | repl
#     dhcp=off                    # on: ask QEMU's / the LAN's DHCP server
#     ip=192.168.0.10
#     cert=
#     -----BEGIN CERTIFICATE-----
#     ...
#     -----END CERTIFICATE-----
#
# A key whose value is empty takes the PEM block(s) that follow (a chain is several blocks).
# The blob ends at the first 0xFF (erased flash) or 0x00 byte. An erased sector (first byte
# 0xFF) gives the defaults below: the ST demo's. A sector that starts with 0x00 is not a
# configuration at all (QEMU's flash where nothing was loaded): source "none", and the
# firmware starts the plain REPL.
#
#     import boardcfg
#     cfg = boardcfg.load()        # cfg.role, cfg.ip, cfg["server_port"], cfg.source


def sector_addr():
    """The config sector's address: machine.CONFIG_SECTOR (0x080E0000 on the EVAL boards,
    0x08060000 on the Nucleo-F411RE, its sector 7)."""
    import machine

    return machine.CONFIG_SECTOR


SECTOR_SIZE = 128 * 1024

ROLES = ("client", "server", "repl")
CLIENT_AUTH = ("none", "optional", "required")
TLS_VERSIONS = ("1.2", "1.3")

# key -> default; the type of the default is the type of the value
DEFAULTS = {
    "role": "client",           # the ST demo ships an SSL client and an SSL server app
    "dhcp": False,              # ST's demo: USE_DHCP commented out, static address
    "ip": "192.168.0.10",
    "netmask": "255.255.255.0",
    "gateway": "192.168.0.1",
    "mac": "00:00:00:00:00:02",
    "server_ip": "192.168.0.1",  # the PC running ssl_server (client role)
    "server_port": 443,
    "server_name": "",          # name the server certificate must carry; "" = server_ip
    "path": "/",                # what the client GETs
    "period": 10,               # seconds between client connections (and retries)
    "port": 443,                # the board's HTTPS port (server role)
    "client_auth": "none",      # server role: none | optional | required client certificate
    "deadline": 10,             # server role: seconds for a connection's first bytes, and then
                                # for its handshake and request
    "sessions": 0,              # server role: TLS sessions at once; 0: as many as the heap holds
    "max_reply": 1048576,       # client role: the most reply bytes read (then: failure)
    "resume": True,             # client role: resume the last TLS session
    "tls_min": "1.2",           # TLS versions (1.2, 1.3) both roles may negotiate
    "tls_max": "1.3",
    "ciphers": "",              # OpenSSL suite names joined by ':' (e.g. DHE-RSA-AES256-SHA,
                                # ST's original); "": the ssl module's (forward secrecy, AEAD)
    "blink_ms": 200,            # LED4 half-period, as ST's LED task
    "dhcp_timeout": 30,         # seconds before falling back to the static address
    "time": 0,                  # certificate clock (s since 1970); 0: the firmware's default
    "ca": "",                   # PEM: trusted CA(s): the server's (client) or clients' (server)
    "cert": "",                 # PEM: own certificate (chain)
    "key": "",                  # PEM: own private key
    "dns": "192.168.0.1",       # DNS server (port 53) for server_name (Nucleo: W5100 UDP)
    "seed": "",                 # hex, 32..64 bytes: the entropy seed of a board without an RNG
}


class Config:
    """The configuration: attributes and items for every key in DEFAULTS, plus source
    ("erased", "none" or "sector"), lines (how many key lines were read) and warnings."""

    def __init__(self, values=None, source="erased"):
        self._v = dict(DEFAULTS)
        if values:
            self._v.update(values)
        self.source = source
        self.lines = 0
        self.warnings = []

    def __getattr__(self, name):
        try:
            return self._v[name]
        except KeyError:
            raise AttributeError(name)

    def __getitem__(self, name):
        return self._v[name]

    def __setitem__(self, name, value):
        if name not in DEFAULTS:
            raise KeyError(name)
        self._v[name] = _value(name, value)

    def get(self, name, default=None):
        return self._v.get(name, default)

    def items(self):
        return self._v.items()

    def hostname(self):
        """The name the client checks in the server's certificate."""
        return self._v["server_name"] or self._v["server_ip"]


def _ip(text):
    parts = text.split(".")
    if len(parts) != 4:
        raise ValueError("not an IPv4 address")
    for p in parts:
        if not p.isdigit() or int(p) > 255:
            raise ValueError("not an IPv4 address")
    return text


def _mac(text):
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError("not a MAC address (6 bytes, e.g. 00:00:00:00:00:02)")
    b = bytes(int(p, 16) for p in parts)
    if b[0] & 1:
        raise ValueError("not a unicast MAC address")
    return ":".join("%02x" % x for x in b)


def _bool(text):
    t = text.lower()
    if t in ("on", "yes", "true", "1"):
        return True
    if t in ("off", "no", "false", "0"):
        return False
    raise ValueError("not on/off")


def _value(key, value):
    """Check and convert one value (str from the sector, or a Python value)."""
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return value if isinstance(value, bool) else _bool(str(value).strip())
    if isinstance(default, int):
        n = int(value)
        if n < 0 or (key.endswith("port") and not 0 < n < 65536):
            raise ValueError("out of range")
        return n
    value = str(value).strip() if key not in ("ca", "cert", "key") else str(value)
    if key in ("ip", "netmask", "gateway", "server_ip"):
        return _ip(value)
    if key == "mac":
        return _mac(value)
    if key == "role" and value not in ROLES:
        raise ValueError("not one of " + "|".join(ROLES))
    if key in ("tls_min", "tls_max") and value not in TLS_VERSIONS:
        raise ValueError("not one of " + "|".join(TLS_VERSIONS))
    if key == "ciphers" and any(c in value for c in " ,;"):
        raise ValueError("OpenSSL suite names joined by ':'")
    if key == "client_auth":
        value = {"off": "none", "on": "required"}.get(value, value)
        if value not in CLIENT_AUTH:
            raise ValueError("not one of " + "|".join(CLIENT_AUTH))
    return value


def parse(text, source="sector"):
    """A Config from the blob's text; a bad line is a warning and keeps the default."""
    cfg = Config(source=source)
    pem_key = None          # the key collecting PEM lines
    pem = []
    in_block = False

    def finish():
        if pem_key is not None:
            try:
                cfg[pem_key] = "\n".join(pem) + "\n" if pem else ""
            except ValueError as e:
                cfg.warnings.append("%s: %s" % (pem_key, e))

    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        stripped = line.strip()
        if in_block or (pem_key is not None and stripped.startswith("-----BEGIN ")):
            pem.append(stripped)
            in_block = not stripped.startswith("-----END ")
            continue
        if not stripped or stripped.startswith("#"):
            continue
        finish()
        pem_key, pem = None, []
        key, sep, value = stripped.partition("=")
        key = key.strip().lower()
        if "#" in value and key not in ("ca", "cert", "key"):
            value = value.split("#", 1)[0]
        value = value.strip()
        if not sep:
            cfg.warnings.append("line %d: '%s' is not key=value (ignored)" % (n, stripped[:40]))
            continue
        if key not in DEFAULTS:
            cfg.warnings.append("line %d: unknown key '%s' (ignored)" % (n, key))
            continue
        cfg.lines += 1
        if key in ("ca", "cert", "key") and not value:
            pem_key = key
            continue
        try:
            cfg[key] = value
        except ValueError as e:
            cfg.warnings.append("line %d: %s=%s: %s (default %s kept)"
                                % (n, key, value[:40], e, DEFAULTS[key]))
    if in_block:
        cfg.warnings.append("%s: PEM block without its END line" % pem_key)
    finish()
    return cfg


def read_sector(addr=None, size=SECTOR_SIZE):
    """The blob's bytes (up to the first 0xFF or 0x00), and the byte that ended it."""
    import uctypes

    if addr is None:
        addr = sector_addr()
    mem = uctypes.bytearray_at(addr, size)
    out = []
    for off in range(0, size, 512):
        chunk = bytes(mem[off:off + 512])
        ends = [i for i in (chunk.find(b"\xff"), chunk.find(b"\x00")) if i >= 0]
        if ends:
            end = min(ends)
            out.append(chunk[:end])
            return b"".join(out), chunk[end]
        out.append(chunk)
    return b"".join(out), None


def load(addr=None, size=SECTOR_SIZE):
    """The board's configuration from the config sector."""
    if addr is None:
        addr = sector_addr()
    blob, end = read_sector(addr, size)
    if not blob:
        return Config(source="none" if end == 0 else "erased")
    try:
        text = blob.decode()
    except UnicodeError:
        cfg = Config(source="sector")
        cfg.warnings.append("the config sector at 0x%08x is not text; defaults used" % addr)
        return cfg
    return parse(text)


def describe(cfg):
    """One line per setting that matters, for the boot report (no PEM contents)."""
    if cfg.source == "erased":
        where = "config sector 0x%08x erased: defaults" % sector_addr()
    elif cfg.source == "none":
        where = "no config sector: defaults"
    else:
        where = "config sector 0x%08x, %d settings" % (sector_addr(), cfg.lines)
    if cfg.dhcp:
        addr = "DHCP (static %s/%s if no lease in %d s)" % (cfg.ip, cfg.netmask, cfg.dhcp_timeout)
    else:
        addr = "static IP %s netmask %s gateway %s" % (cfg.ip, cfg.netmask, cfg.gateway)
    pems = " ".join("%s %s" % (k, "yes" if cfg[k] else "no") for k in ("ca", "cert", "key"))
    return ["  . Configuration: " + where,
            "    role %s, MAC %s, %s" % (cfg.role, cfg.mac, addr),
            ("    server %s:%d (name %s), every %d s; %s"
             % (cfg.server_ip, cfg.server_port, cfg.hostname(), cfg.period, pems))
            if cfg.role == "client" else
            ("    HTTPS on port %d, client certificates %s, deadline %d s; %s"
             % (cfg.port, cfg.client_auth, cfg.deadline, pems)),
            "    TLS %s to %s, suites %s" % (cfg.tls_min, cfg.tls_max, cfg.ciphers or "default")]
