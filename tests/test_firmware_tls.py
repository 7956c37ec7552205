"""TLS on the firmware: mbedTLS 3.6 under tls/ssl/hashlib/cryptolib, with hardware crypto
(HW_CRYPTO=1: AES/DES/SHA-1/MD5, and SHA-256 on the STM32F439, through the CRYP/HASH drivers)
or software crypto (HW_CRYPTO=0), on both boards.

The board is driven through its REPL like the other firmware tests. The network tests put
TLS peers on the PC side on 127.0.0.1 only: the board reaches them as 192.168.0.1 through the
launcher's guestfwd relay, and they reach the board's server through hostfwd (QEMU user-mode
networking with restrict=on). The test PKI is made here with `cryptography`.
"""

import datetime
import hashlib
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

from lab_firmware import BANNER, PROMPT, boot, build_firmware, free_port

TOP = Path(__file__).resolve().parent.parent
FIRMWARE = TOP / "firmware"
PC_IP = "192.168.0.1"
BOARD_IP = "192.168.0.10"
DEFAULT_BOARD = "stm324xg-eval"
MACHINES = {"stm324xg-eval": "STM32F417IG", "stm324x9i-eval": "STM32F439NI"}
VARIANTS = [pytest.param((board, hw), id=f"{board}-{'hw' if hw else 'sw'}crypto")
            for board in MACHINES for hw in (1, 0)]
HANDSHAKE_TIMEOUT = 120


# --- firmware builds ---------------------------------------------------------------------

def test_swcrypto_build_has_its_own_directory():
    hw = build_firmware(DEFAULT_BOARD, 1)
    sw = build_firmware(DEFAULT_BOARD, 0)
    assert hw.parent.name == f"build-{DEFAULT_BOARD}"
    assert sw.parent.name == f"build-{DEFAULT_BOARD}-swcrypto"


# --- the board -----------------------------------------------------------------------------

class TlsBoard:
    """A booted board at the REPL, with the hardware block counters of the QEMU models."""

    def __init__(self, qemu, board: str, hw: int, guestfwd=(), hostfwd=()):
        self.name, self.hw = board, hw
        self.board, self.con = boot(build_firmware(board, hw), qemu, machine=board,
                                    guestfwd=list(guestfwd), hostfwd=list(hostfwd))
        try:
            banner = self.con.expect(BANNER, timeout=30)
            assert MACHINES[board].encode() in banner, banner
            self.con.expect(PROMPT)
        except BaseException:
            self.board.stop()
            raise

    def counter(self, block: str) -> int:
        """Blocks through the CRYP datapath / HASH core since power-on."""
        return self.board.engine.qmp("qom-get", path=f"/machine/soc/{block}",
                                     property="blocks")

    def run(self, code: str, timeout: float = 60) -> str:
        out = self.con.paste(code, timeout=timeout)
        assert "Traceback" not in out, out
        return out

    def start(self, code: str) -> None:
        """Paste code without waiting for it to finish."""
        self.con.paste_start(code)

    def wait_prompt(self, timeout: float = HANDSHAKE_TIMEOUT) -> str:
        out = self.con.expect(PROMPT, timeout)[:-len(PROMPT)]
        return out.decode(errors="replace").replace("\r\n", "\n")

    def stop(self) -> None:
        self.con.close()
        self.board.stop()


@pytest.fixture
def make_board(qemu):
    boards = []

    def make(board=DEFAULT_BOARD, hw=1, **kw):
        b = TlsBoard(qemu, board, hw, **kw)
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.stop()


# --- hashes and ciphers against the host ----------------------------------------------------

HASH_LENGTHS = [0, 1, 3, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4099]


@pytest.mark.parametrize("variant", VARIANTS)
def test_hashlib_matches_host_and_contexts_interleave(make_board, variant):
    board, hw = variant
    b = make_board(board, hw)
    rnd = os.urandom(max(HASH_LENGTHS))
    hash_before = b.counter("hash")
    out = b.run(f"""
import hashlib
data = bytes.fromhex('{rnd.hex()}')
for n in {HASH_LENGTHS}:
    print(n, hashlib.sha1(data[:n]).digest().hex(), hashlib.md5(data[:n]).digest().hex(),
          hashlib.sha256(data[:n]).digest().hex())
# several live contexts fed in turns, in odd-sized pieces: each keeps its own state
hs = [hashlib.sha1(), hashlib.md5(), hashlib.sha1(b'x'), hashlib.sha256(), hashlib.md5(b'y')]
for i in range(0, len(data), 37):
    for h in hs:
        h.update(data[i:i + 37])
print('mixed', ' '.join(h.digest().hex() for h in hs))
""", timeout=120)
    lines = out.splitlines()
    for n, line in zip(HASH_LENGTHS, lines):
        d = rnd[:n]
        assert line.split() == [str(n), hashlib.sha1(d).hexdigest(), hashlib.md5(d).hexdigest(),
                                hashlib.sha256(d).hexdigest()], (n, line)
    expect = [hashlib.sha1(rnd), hashlib.md5(rnd), hashlib.sha1(b"x" + rnd),
              hashlib.sha256(rnd), hashlib.md5(b"y" + rnd)]
    assert lines[len(HASH_LENGTHS)].split()[1:] == [h.hexdigest() for h in expect], out
    hashed = b.counter("hash") - hash_before
    if hw:
        assert hashed > 0, "HW_CRYPTO build: hashlib did not use the HASH peripheral"
    else:
        assert hashed == 0, f"software build: {hashed} blocks went through the HASH"


@pytest.mark.parametrize("variant", VARIANTS)
def test_sha256_runs_in_hardware_only_on_the_f439(make_board, variant):
    board, hw = variant
    b = make_board(board, hw)
    before = b.counter("hash")
    out = b.run("import hashlib; print(hashlib.sha256(b'a' * 1000).digest().hex())")
    assert out.strip() == hashlib.sha256(b"a" * 1000).hexdigest()
    in_hw = b.counter("hash") - before
    if hw and board == "stm324x9i-eval":
        assert in_hw >= 15, "SHA-256 should run on the STM32F439's HASH"
    else:
        assert in_hw == 0, f"SHA-256 must be software here, but the HASH saw {in_hw} blocks"


@pytest.mark.parametrize("variant", VARIANTS)
def test_cryptolib_aes_matches_host(make_board, variant):
    board, hw = variant
    b = make_board(board, hw)
    cases = []
    for klen in (16, 32):           # cryptolib takes AES-128 and AES-256 keys
        for mode in (1, 2, 6):      # ECB, CBC, CTR
            key, iv = os.urandom(klen), os.urandom(16)
            data = os.urandom(16 * 37 if mode != 6 else 16 * 37 + 5)
            cases.append((key, mode, iv, data))
    code = ["import cryptolib", "def h(b): return bytes(b).hex()"]
    for key, mode, iv, data in cases:
        args = f"bytes.fromhex('{key.hex()}'), {mode}" + \
            ("" if mode == 1 else f", bytes.fromhex('{iv.hex()}')")
        code.append(f"d = bytes.fromhex('{data.hex()}')")
        # CTR in two uneven pieces: the key stream continues across calls
        code.append(f"c = cryptolib.aes({args}); ct = c.encrypt(d[:21]) + c.encrypt(d[21:])"
                    if mode == 6 else f"ct = cryptolib.aes({args}).encrypt(d)")
        code.append(f"print(h(ct), cryptolib.aes({args}).decrypt(ct) == d)")
    cryp_before = b.counter("cryp")
    lines = b.run("\n".join(code), timeout=120).splitlines()
    for (key, mode, iv, data), line in zip(cases, lines):
        m = {1: modes.ECB(), 2: modes.CBC(iv), 6: modes.CTR(iv)}[mode]
        enc = Cipher(algorithms.AES(key), m).encryptor()
        assert line.split() == [(enc.update(data) + enc.finalize()).hex(), "True"], \
            (len(key), mode, line)
    processed = b.counter("cryp") - cryp_before
    if hw:
        assert processed >= 2 * 6 * 37, f"HW_CRYPTO build: only {processed} CRYP blocks"
    else:
        assert processed == 0, f"software build: {processed} blocks went through the CRYP"


@pytest.mark.parametrize("variant", VARIANTS)
def test_descbc_matches_host(make_board, variant):
    """descbc: DES/TDES-CBC through mbedTLS, the CRYP in a HW build, software otherwise."""
    board, hw = variant
    b = make_board(board, hw)
    cases = [(os.urandom(klen), os.urandom(8), os.urandom(8 * 41)) for klen in (8, 16, 24)]
    code = ["import descbc"]
    for key, iv, data in cases:
        code.append(f"k, iv, d = bytes.fromhex('{key.hex()}'), bytes.fromhex('{iv.hex()}'), "
                    f"bytes.fromhex('{data.hex()}')")
        # two uneven calls: the IV chains across them
        code.append("c = descbc.DES(k, iv); ct = c.encrypt(d[:40]) + c.encrypt(d[40:])")
        code.append("o = bytearray(len(ct)); descbc.DES(k, iv).decrypt(ct, o)")
        code.append("print(ct.hex(), descbc.DES(k, iv).decrypt(ct) == d == o)")
    code.append("try:\n    descbc.DES(bytes(7), bytes(8))\nexcept ValueError:\n    print('bad key')")
    cryp_before = b.counter("cryp")
    lines = b.run("\n".join(code), timeout=120).splitlines()
    for (key, iv, data), line in zip(cases, lines):
        k3 = key * 3 if len(key) == 8 else key + key[:8] if len(key) == 16 else key
        enc = Cipher(TripleDES(k3), modes.CBC(iv)).encryptor()
        assert line.split() == [(enc.update(data) + enc.finalize()).hex(), "True"], \
            (len(key), line)
    assert lines[len(cases)] == "bad key"
    processed = b.counter("cryp") - cryp_before
    if hw:
        assert processed >= 2 * 3 * 41, f"HW_CRYPTO build: only {processed} CRYP blocks"
    else:
        assert processed == 0, f"software build: {processed} blocks went through the CRYP"


@pytest.mark.parametrize("variant", VARIANTS)
def test_bulk_crypto_by_dma_match_host_aligned_or_not(make_board, variant):
    """Bulk AES/DES/hash buffers in SRAM go by DMA2 in a HW build (the DMA's item counter
    moves): word-aligned ones in words, the AES/DES of unaligned ones (a memoryview at
    offset 1, as mbedTLS's TLS record payloads are) through the streams' packing FIFO, their
    hashes by the CPU; all give the host's results."""
    board, hw = variant
    b = make_board(board, hw)
    data = os.urandom(4097)
    key, iv = os.urandom(16), os.urandom(16)
    b.run(f"""
import cryptolib, descbc, hashlib
raw = bytearray(bytes.fromhex('{data.hex()}'))
k, iv = bytes.fromhex('{key.hex()}'), bytes.fromhex('{iv.hex()}')
def bulk(name, d):
    out = bytearray(4096)
    _ = cryptolib.aes(k, 2, iv).encrypt(d, out)
    des = descbc.DES(k[:8], iv[:8]).encrypt(d)
    print(name, out[-16:].hex(), des[-8:].hex(), hashlib.sha1(d).digest().hex(),
          hashlib.md5(d).digest().hex(), hashlib.sha256(d).digest().hex())
""", timeout=60)
    for name, start in (("aligned", 0), ("unaligned", 1)):
        d = data[start:start + 4096]
        items_before = b.board.engine.qmp("qom-get", path="/machine/soc/dma2",
                                          property="items")
        line = b.run(f"bulk('{name}', memoryview(raw)[{start}:{start + 4096}])",
                     timeout=120).strip()
        dma_items = b.board.engine.qmp("qom-get", path="/machine/soc/dma2",
                                       property="items") - items_before
        aes = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(d)
        des = Cipher(TripleDES(key[:8] * 3), modes.CBC(iv[:8])).encryptor().update(d)
        assert line.split() == [name, aes[-16:].hex(), des[-8:].hex(),
                                hashlib.sha1(d).hexdigest(), hashlib.md5(d).hexdigest(),
                                hashlib.sha256(d).hexdigest()], line
        if hw:
            # AES and DES in and out (4 x 1024 words), aligned: also the hashes' blocks
            # on the F439
            assert dma_items >= 4 * 1024, (name, dma_items)
        else:
            assert dma_items == 0, (name, dma_items)


@pytest.mark.parametrize("variant", VARIANTS)
def test_mbedtls_self_tests_pass(make_board, variant):
    board, hw = variant
    b = make_board(board, hw)
    out = b.run("import tls; r = tls.selftest(); print(tls.HW_CRYPTO, sorted(r.items()))",
                timeout=180)
    flag, _, results = out.strip().partition(" ")
    assert flag == str(hw), out
    results = dict(eval(results))
    assert set(results) >= {"aes", "des", "md5", "sha1", "sha256", "gcm", "ccm", "ctr_drbg",
                            "entropy", "rsa", "ecp"}, results
    assert all(results.values()), f"failed self-tests: {[k for k, v in results.items() if not v]}"


def test_ssl_module_api_without_network(make_board):
    b = make_board()
    out = b.run("""
import ssl
print(ssl.suite_name('TLS-DHE-RSA-WITH-AES-256-CBC-SHA'), ssl.suite_name('TLS-RSA-WITH-AES-128-GCM-SHA256'))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
print(ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname)
names = [c['name'] for c in ctx.get_ciphers()]
print('DHE-RSA-AES256-SHA' in names, 'DHE-RSA-AES256-SHA256' in names, 'ECDHE-ECDSA-AES128-GCM-SHA256' in names)
ctx.set_ciphers('DHE-RSA-AES256-SHA256:ECDHE-RSA-AES128-GCM-SHA256')
try:
    ctx.verify_mode = ssl.CERT_NONE
except ValueError as e:
    print('ValueError', e)
try:
    ctx.load_verify_locations(cadata=b'-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n')
except ValueError as e:
    print('ValueError', e)
try:
    ctx.load_cert_chain('/flash/cert.pem')
except OSError as e:
    print('OSError', e.args[0])
ssl.set_time(1800000000); print(ssl.time() - 1800000000 < 5, ssl.time_is_set())
""")
    assert out.splitlines() == [
        "DHE-RSA-AES256-SHA AES128-GCM-SHA256",
        "True True",
        "True True True",
        "ValueError Cannot set verify_mode to CERT_NONE when check_hostname is enabled.",
        "ValueError invalid cert",
        "OSError 2",
        "True True",
    ], out


def test_ssl_module_tls13_versions_and_error_names(make_board):
    b = make_board()
    out = b.run("""
import ssl, tls
print(ssl.suite_name('TLS1-3-AES-256-GCM-SHA384'), ssl.iana_name('TLS1-3-AES-128-GCM-SHA256'))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
print(ctx.minimum_version == ssl.TLSVersion.TLSv1_2, ctx.maximum_version == ssl.TLSVersion.TLSv1_3)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
print(hex(ctx.minimum_version), hex(ctx.maximum_version))
try:
    ctx.minimum_version = 0x0301
except ValueError as e:
    print('ValueError', e)
print([c['protocol'] for c in ctx.get_ciphers() if c['name'] == 'TLS_AES_128_GCM_SHA256'])
print(tls.strerror(-0x7280))
""")
    assert out.splitlines() == [
        "TLS_AES_256_GCM_SHA384 TLS-AES-128-GCM-SHA256",
        "True True",
        "0x303 0x303",
        "ValueError TLS version 0x0301 is not available",
        "['TLSv1.3']",
        "MBEDTLS_ERR_SSL_CONN_EOF",
    ], out


# --- test PKI --------------------------------------------------------------------------------

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn, key, issuer=None, issuer_key=None, ips=(), dns=(), ca=False, days=(-1, 30)):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(cn))
               .issuer_name(issuer.subject if issuer else _name(cn))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=days[0]))
               .not_valid_after(now + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ips or dns:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            + [x509.DNSName(d) for d in dns]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """CA, host server certs (RSA, ECDSA, expired, from an untrusted CA) for 192.168.0.1,
    and the board's server cert for 192.168.0.10; as PEM bytes and files."""
    out = tmp_path_factory.mktemp("tls-pki")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _cert("Lab Test CA", ca_key, ca=True, days=(-2, 365))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = _cert("Untrusted CA", other_key, ca=True, days=(-2, 365))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    board_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    items = {
        "ca": (ca, ca_key),
        "server": (_cert("pc.lab", rsa_key, ca, ca_key, ips=[PC_IP]), rsa_key),
        "server-ec": (_cert("pc.lab", ec_key, ca, ca_key, ips=[PC_IP]), ec_key),
        "expired": (_cert("pc.lab", rsa_key, ca, ca_key, ips=[PC_IP], days=(-30, -1)), rsa_key),
        "untrusted": (_cert("pc.lab", rsa_key, other, other_key, ips=[PC_IP]), rsa_key),
        "board": (_cert("board.lab", board_key, ca, ca_key, ips=[BOARD_IP], dns=["board.lab"]),
                  board_key),
    }
    pki = {"dir": out}
    for stem, (cert, key) in items.items():
        (out / f"{stem}.pem").write_bytes(_pem(cert))
        (out / f"{stem}.key").write_bytes(_pem(key))
        pki[stem] = _pem(cert)
        pki[stem + ".key"] = _pem(key)
    return pki


# --- TLS peers on the PC (127.0.0.1 only) -------------------------------------------------------

class PyTlsServer:
    """Python ssl server on 127.0.0.1 for n connections, one after the other: records each
    suite (cipher) or failure (error), echoes a line."""

    def __init__(self, pki, stem="server", ciphers=None, n=1):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki["dir"] / f"{stem}.pem", pki["dir"] / f"{stem}.key")
        if ciphers:
            self.ctx.set_ciphers(ciphers)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(HANDSHAKE_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.cipher = self.error = None
        self.thread = threading.Thread(target=self._serve, args=(n,), daemon=True)
        self.thread.start()

    def _serve(self, n):
        try:
            for _ in range(n):
                self.cipher = self.error = None
                conn, _ = self.sock.accept()
                conn.settimeout(HANDSHAKE_TIMEOUT)
                try:
                    with self.ctx.wrap_socket(conn, server_side=True) as tls:
                        self.cipher = tls.cipher()
                        line = b""
                        while not line.endswith(b"\n"):
                            chunk = tls.recv(100)
                            if not chunk:
                                break
                            line += chunk
                        tls.sendall(b"pc:" + line)
                except (OSError, ssl.SSLError) as e:
                    self.error = e
        except OSError as e:
            self.error = e
        finally:
            self.sock.close()

    def join(self):
        self.thread.join(HANDSHAKE_TIMEOUT + 10)


class OpensslServer:
    """openssl s_server -www on 127.0.0.1 for one connection."""

    def __init__(self, pki, stem="server", cipher=None, ciphersuites=None):
        """cipher: TLS 1.2 suites (-tls1_2 -cipher); ciphersuites: TLS 1.3's instead (-tls1_3
        -ciphersuites, for the suites Python's ssl cannot choose, such as AES-CCM's)."""
        self.port = free_port()
        args = ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-naccept", "1",
                "-cert", str(pki["dir"] / f"{stem}.pem"), "-key", str(pki["dir"] / f"{stem}.key"),
                "-www"]
        if ciphersuites:
            args += ["-tls1_3", "-ciphersuites", ciphersuites]
        else:
            args += ["-tls1_2"]
        if cipher:
            args += ["-cipher", cipher]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.output = b""
        deadline = time.monotonic() + 10
        while b"ACCEPT" not in self.output:
            assert time.monotonic() < deadline, f"s_server did not start: {self.output!r}"
            self.output += self.proc.stdout.readline()

    def finish(self) -> bytes:
        try:
            self.output += self.proc.communicate(timeout=HANDSHAKE_TIMEOUT)[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.output += self.proc.communicate()[0]
        return self.output


def py_client(port, pki, ciphers=None, hostname=BOARD_IP):
    """Python ssl client through hostfwd: (cipher, reply)."""
    ctx = ssl.create_default_context(cadata=pki["ca"].decode())
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=hostname) as tls:
            tls.sendall(b"hello from the pc\n")
            reply = b""
            while True:
                chunk = tls.recv(100)
                if not chunk:
                    break
                reply += chunk
            return tls.cipher(), reply


# --- board-side programs ------------------------------------------------------------------------

BOARD_PRELUDE = """
import network, socket, ssl, time
lan = network.LAN()
lan.active(True)
t0 = time.ticks_ms()
while not lan.isconnected():
    if time.ticks_diff(time.ticks_ms(), t0) > 15000:
        raise OSError('no network')
    time.sleep_ms(20)

def report(e):
    print('TLS-ERROR', type(e).__name__, ' | '.join(str(a) for a in e.args))

def client(ca, port=443, host='{pc}', ciphers=None, request=b'hello from the board\\n', www=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=ca)
    if ciphers:
        ctx.set_ciphers(ciphers)
    s = socket.socket()
    s.settimeout(60)
    try:
        s.connect(socket.getaddrinfo(host, port)[0][-1])
        ss = ctx.wrap_socket(s, server_hostname=host)
    except Exception as e:
        s.close()
        report(e)
        return
    print('TLS-OK', ss.cipher(), ss.version(), ss.cipher_suite())
    ss.write(request)
    if www:
        for line in ss.read().split(b'\\n'):
            if b'Cipher is' in line:
                print('PEER', line.strip().decode())
    else:
        print('REPLY', ss.readline())
    ss.close()

def server(cert, key, port=443, n=1, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if ciphers:
        ctx.set_ciphers(ciphers)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', port))
    ls.listen(1)
    ls.settimeout(120)
    print('LISTENING')
    for i in range(n):
        c, addr = ls.accept()
        c.settimeout(60)
        try:
            ss = ctx.wrap_socket(c, server_side=True)
            print('TLS-OK', ss.cipher(), ss.version())
            ss.sendall(b'board:' + ss.recv(100))   # the peer sends its line in one record
            ss.close()
        except Exception as e:
            c.close()
            report(e)
    ls.close()
""".format(pc=PC_IP)


def setup_board(b: TlsBoard, pki, set_time=True) -> None:
    b.run(BOARD_PRELUDE, timeout=30)
    b.run(f"CA = {pki['ca'].decode()!r}")
    if set_time:
        b.run(f"ssl.set_time({int(time.time())})")


TLS_OK = re.compile(r"TLS-OK \('([\w-]+)', '(TLSv1\.[23])', (\d+)\) TLSv1\.[23] ([\w-]+)")


def board_client(b: TlsBoard, **kw) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    return b.run(f"client(CA{', ' + args if args else ''})", timeout=HANDSHAKE_TIMEOUT)


# --- network tests ----------------------------------------------------------------------------

@pytest.mark.parametrize("hw", [1, 0], ids=["hwcrypto", "swcrypto"])
def test_tls12_cbc_sha1_records_go_through_the_f417_cryp_and_hash(make_board, pki, hw):
    """TLS 1.2 with AES-CBC and HMAC-SHA-1 on the F417: the records' cipher goes through the
    CRYP and their MAC through the HASH (the models' block counters rise), and through
    neither in the software build."""
    server = PyTlsServer(pki, ciphers="ECDHE-RSA-AES128-SHA")
    server.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    b = make_board("stm324xg-eval", hw, guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    cryp_before, hash_before = b.counter("cryp"), b.counter("hash")
    out = board_client(b, ciphers="ECDHE-RSA-AES128-SHA")  # CBC suites: by configuration
    server.join()
    m = TLS_OK.search(out)
    assert m, f"handshake failed: {out} (server: {server.error!r})"
    assert server.error is None, server.error
    assert (m.group(2), server.cipher[0]) == ("TLSv1.2", "ECDHE-RSA-AES128-SHA"), out
    cryp, hashed = b.counter("cryp") - cryp_before, b.counter("hash") - hash_before
    if hw:
        assert cryp > 0 and hashed > 0, (cryp, hashed)
    else:
        assert cryp == hashed == 0, (cryp, hashed)


@pytest.mark.parametrize("board", ["stm324xg-eval", "stm324x9i-eval"])
@pytest.mark.parametrize("suite, version", [
    ("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2"),
    ("ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.2"),
    ("TLS_AES_128_GCM_SHA256", "TLSv1.3"),
])
def test_gcm_records_go_through_the_cryp(make_board, pki, suite, version, board):
    """AES-GCM suites on both hardware builds: every record (and TLS 1.3's encrypted
    handshake) is sealed and opened by mbedtls_gcm_crypt_and_tag / _auth_decrypt on the
    CRYP (tls.gcm_counts(): the F439's GCM engine, the F417's AES-CTR with software GHASH),
    none in software, and a 1001-byte line (a partial last block) goes out and comes back
    intact."""
    server = PyTlsServer(pki, ciphers=suite if version == "TLSv1.2" else None)
    if version == "TLSv1.2":
        server.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        server.ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    b = make_board(board, 1, guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    counts = "import tls; print('GCM-COUNTS', *tls.gcm_counts())"
    hw_before, sw_before = map(int, b.run(counts).split()[-2:])
    line = b"0123456789" * 100 + b"\n"
    out = board_client(b, ciphers=suite, request=line)
    server.join()
    m = TLS_OK.search(out)
    assert m, f"handshake failed: {out} (server: {server.error!r})"
    assert server.error is None, server.error
    assert (m.group(1), m.group(2), server.cipher[0]) == (suite, version, suite), out
    assert f"REPLY {b'pc:' + line!r}" in out, out[-300:]
    hw, sw = (int(v) - before for v, before in
              zip(b.run(counts).split()[-2:], (hw_before, sw_before)))
    assert sw == 0 and hw >= 4, (hw, sw)


# HMACs of one full TLS 1.2 handshake's PRF (mbedTLS, extended master secret): master
# secret (48 bytes), key block (mbedTLS always derives 256 bytes), two Finished (12 bytes);
# each 1 + 2 x ceil(n / hash size) HMACs. Where the HASH lacks the hash, each of the four
# PRF calls asks once and computes its HMACs in software.
PRF_HMACS = {"ECDHE-RSA-AES128-GCM-SHA256": 5 + 17 + 3 + 3,
             "ECDHE-RSA-AES256-GCM-SHA384": 3 + 13 + 3 + 3}
PRF_CALLS = 4


@pytest.mark.parametrize("board, hw", [("stm324x9i-eval", 1), ("stm324xg-eval", 1),
                                       ("stm324x9i-eval", 0)],
                         ids=["stm324x9i-eval-hwcrypto", "stm324xg-eval-hwcrypto",
                              "stm324x9i-eval-swcrypto"])
def test_tls12_prf_hmacs_on_the_hash_where_the_chip_has_sha256(make_board, pki, board, hw):
    """TLS 1.2 handshakes with Python's ssl on a SHA-256 and a SHA-384 suite (the PRF's
    hash): both work (Python checks the board's Finished, and the line the PC echoes comes
    back intact, so both sides derived the same keys). On the F439's hardware build every
    HMAC of the SHA-256 PRF goes through the HASH's HMAC mode (tls.hmac_counts()) and none
    of the SHA-384 PRF; on the F417, whose HASH has no SHA-256, all stay in software; the
    software build has no HMAC hook."""
    suites = list(PRF_HMACS)
    server = PyTlsServer(pki, ciphers=":".join(suites), n=len(suites))
    server.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    b = make_board(board, hw, guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    counts = "import tls; print('HMAC-COUNTS', *tls.hmac_counts())"
    hook = b.run("import tls; print('HOOK', hasattr(tls, 'hmac_counts'))")
    assert f"HOOK {bool(hw)}" in hook, hook
    for suite in suites:
        before = [int(v) for v in b.run(counts).split()[-2:]] if hw else None
        out = board_client(b, ciphers=suite)
        m = TLS_OK.search(out)
        assert m, f"handshake failed: {out} (server: {server.error!r})"
        assert (m.group(1), m.group(2)) == (suite, "TLSv1.2"), out
        assert "REPLY b'pc:hello from the board\\n'" in out, out
        if hw:
            on_hash, in_sw = (int(v) - w for v, w in zip(b.run(counts).split()[-2:], before))
            if board == "stm324x9i-eval" and suite.endswith("SHA256"):
                assert (on_hash, in_sw) == (PRF_HMACS[suite], 0), suite
            else:
                assert (on_hash, in_sw) == (0, PRF_CALLS), suite
    server.join()
    assert server.error is None, server.error


CCM_COUNTS = "import tls; print('CCM-COUNTS', *tls.ccm_counts())"


def ccm_counts(b: TlsBoard) -> tuple[int, int]:
    """(on the CRYP's CCM engine, in software): one-shot CCM operations since boot."""
    return tuple(map(int, b.run(CCM_COUNTS).split()[-2:]))


@pytest.mark.parametrize("suite, stem", [
    ("AES128-CCM", "server"),                   # TLS-RSA-WITH-AES-128-CCM
    ("ECDHE-ECDSA-AES128-CCM", "server-ec"),
    ("ECDHE-ECDSA-AES256-CCM8", "server-ec"),   # 8-byte tags
])
def test_board_client_ccm_records_go_through_the_f439_cryp(make_board, pki, suite, stem):
    """TLS 1.2 AES-CCM suites, the F439 as client of Python's ssl: every record is sealed
    and opened by mbedtls_ccm_encrypt_and_tag / _auth_decrypt on the CRYP's CCM engine
    (tls.ccm_counts()), none in software, and a 1001-byte line (a partial last block, the
    payload by DMA) goes out and comes back intact."""
    server = PyTlsServer(pki, stem=stem, ciphers=suite)
    server.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    b = make_board("stm324x9i-eval", 1, guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    hw_before, sw_before = ccm_counts(b)
    line = b"0123456789" * 100 + b"\n"
    out = board_client(b, ciphers=suite, request=line)
    server.join()
    m = TLS_OK.search(out)
    assert m, f"handshake failed: {out} (server: {server.error!r})"
    assert server.error is None, server.error
    assert (m.group(1), m.group(2), server.cipher[0]) == (suite, "TLSv1.2", suite), out
    assert f"REPLY {b'pc:' + line!r}" in out, out[-300:]
    hw, sw = ccm_counts(b)
    assert sw - sw_before == 0 and hw - hw_before >= 4, (hw - hw_before, sw - sw_before)


@pytest.mark.parametrize("board", ["stm324x9i-eval", "stm324xg-eval"])
@pytest.mark.parametrize("cipher, ciphersuites, version", [
    ("DHE-RSA-AES128-CCM", None, "TLSv1.2"),
    (None, "TLS_AES_128_CCM_SHA256", "TLSv1.3"),
])
def test_board_client_ccm_with_openssl(make_board, pki, cipher, ciphersuites, version, board):
    """DHE-RSA-AES128-CCM and TLS 1.3's TLS_AES_128_CCM_SHA256 against openssl s_server
    (Python's ssl cannot choose TLS 1.3 suites); on the F439 the records (and TLS 1.3's
    encrypted handshake) go through the CRYP's CCM engine, none in software; on the F417,
    which has no CCM engine, mbedTLS's CCM runs on the CRYP's AES."""
    suite = cipher or ciphersuites
    server = OpensslServer(pki, cipher=cipher, ciphersuites=ciphersuites)
    b = make_board(board, 1, guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    f439 = board == "stm324x9i-eval"
    before = ccm_counts(b) if f439 else None
    cryp_before = b.counter("cryp")
    out = board_client(b, ciphers=suite, request=b"GET / HTTP/1.0\r\n\r\n", www=True)
    peer = server.finish().decode(errors="replace")
    m = TLS_OK.search(out)
    assert m, f"handshake failed: {out}\n{peer[-2000:]}"
    assert (m.group(1), m.group(2)) == (suite, version), out
    assert f"PEER New, {version}, Cipher is {suite}\n" in out, out
    if f439:
        hw, sw = (now - was for now, was in zip(ccm_counts(b), before))
        assert sw == 0 and hw >= 4, (hw, sw)
    else:
        # mbedTLS's ccm.c (no CCM_ALT, so no counts) with its AES blocks on the CRYP
        assert b.run("import tls; print(hasattr(tls, 'ccm_counts'))").strip() == "False"
        assert b.counter("cryp") > cryp_before


def test_board_server_ccm_with_python_and_openssl_clients(make_board, pki):
    """The F439 as server offering AES128-CCM (TLS 1.2) and TLS_AES_128_CCM_SHA256 (TLS
    1.3): Python's ssl client negotiates the first, openssl s_client the second; the
    records of both go through the CRYP's CCM engine, none in software."""
    b = make_board("stm324x9i-eval", 1, hostfwd=["0:443"])
    setup_board(b, pki)
    b.run(f"CERT = {pki['board'].decode()!r}\nKEY = {pki['board.key'].decode()!r}")
    hw_before, sw_before = ccm_counts(b)
    b.start("server(CERT, KEY, n=2, ciphers='AES128-CCM:TLS_AES_128_CCM_SHA256')")
    b.con.expect(b"LISTENING", timeout=30)
    port = b.board.forwarded_port(443)
    cipher, reply = py_client(port, pki, ciphers="AES128-CCM")
    assert cipher[:2] == ("AES128-CCM", "TLSv1.2") and reply == b"board:hello from the pc\n", \
        (cipher, reply)
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
         str(pki["dir"] / "ca.pem"), "-verify_return_error", "-verify_ip", BOARD_IP,
         "-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256", "-ign_eof"],
        input=b"hello from openssl\n", capture_output=True, timeout=HANDSHAKE_TIMEOUT)
    text = result.stdout.decode(errors="replace")
    out = b.wait_prompt()
    assert "Verify return code: 0 (ok)" in text, text[-2000:]
    assert "board:hello from openssl" in text, text[-2000:]
    assert "Cipher is TLS_AES_128_CCM_SHA256" in text, text[-2000:]
    assert "TLS-OK ('AES128-CCM', 'TLSv1.2', 128)" in out, out
    assert "TLS-OK ('TLS_AES_128_CCM_SHA256', 'TLSv1.3', 128)" in out, out
    hw, sw = ccm_counts(b)
    assert sw - sw_before == 0 and hw - hw_before >= 8, (hw - hw_before, sw - sw_before)

@pytest.mark.parametrize("variant", VARIANTS)
def test_board_client_handshakes_with_python_server(make_board, pki, variant):
    board, hw = variant
    server = PyTlsServer(pki)
    b = make_board(board, hw, guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    cryp_before = b.counter("cryp")
    out = board_client(b)
    server.join()
    m = TLS_OK.search(out)
    assert m, f"handshake failed: {out} (server: {server.error!r})"
    assert server.error is None, server.error
    assert m.group(1) == server.cipher[0], (out, server.cipher)
    assert int(m.group(3)) == server.cipher[2]
    assert "REPLY b'pc:hello from the board\\n'" in out, out
    if hw:
        assert b.counter("cryp") > cryp_before, "the TLS records did not go through the CRYP"
    else:
        assert b.counter("cryp") == cryp_before


@pytest.mark.parametrize("variant", VARIANTS)
def test_board_server_serves_python_client(make_board, pki, variant):
    board, hw = variant
    b = make_board(board, hw, hostfwd=["0:443"])
    setup_board(b, pki)
    b.run(f"CERT = {pki['board'].decode()!r}\nKEY = {pki['board.key'].decode()!r}")
    b.start("server(CERT, KEY)")
    b.con.expect(b"LISTENING", timeout=30)
    cipher, reply = py_client(b.board.forwarded_port(443), pki)
    out = b.wait_prompt()
    assert reply == b"board:hello from the pc\n", (reply, out)
    m = re.search(r"TLS-OK \('([\w-]+)', 'TLSv1\.2', (\d+)\)", out)
    assert m and m.group(1) == cipher[0], (out, cipher)


def test_board_client_with_openssl_server_and_ecdsa(make_board, pki):
    server = OpensslServer(pki, stem="server-ec")
    b = make_board(guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    out = board_client(b, request=b"GET / HTTP/1.0\r\n\r\n", www=True)
    peer = server.finish().decode(errors="replace")
    m = TLS_OK.search(out)
    assert m, f"handshake failed: {out}\n{peer}"
    assert m.group(1).startswith("ECDHE-ECDSA-"), out
    assert f"PEER New, TLSv1.2, Cipher is {m.group(1)}\n" in out, out


@pytest.mark.parametrize("cipher, board_ciphers", [
    ("DHE-RSA-AES256-SHA256", None),                    # offered by default
    ("DHE-RSA-AES256-SHA", "DHE-RSA-AES256-SHA"),       # SHA-1 MAC: by configuration only
])
def test_board_client_negotiates_dhe_rsa_aes256_with_openssl(make_board, pki, cipher,
                                                            board_ciphers):
    """The original demo's suite family, when the server asks for it."""
    server = OpensslServer(pki, cipher=cipher)
    b = make_board(guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    kw = {"ciphers": board_ciphers} if board_ciphers else {}
    out = board_client(b, request=b"GET / HTTP/1.0\r\n\r\n", www=True, **kw)
    server.finish()
    m = TLS_OK.search(out)
    assert m, out
    assert m.group(1) == cipher and m.group(3) == "256", out
    assert m.group(4) == {"DHE-RSA-AES256-SHA256": "TLS-DHE-RSA-WITH-AES-256-CBC-SHA256",
                          "DHE-RSA-AES256-SHA": "TLS-DHE-RSA-WITH-AES-256-CBC-SHA"}[cipher]
    # (s_server names the suite's first protocol there: SSLv3 for the -SHA ones)
    assert re.search(rf"PEER New, \w+v[\d.]+, Cipher is {cipher}\n", out), out


def test_board_client_does_not_offer_sha1_suites_by_default(make_board, pki):
    """Forward secrecy and no SHA-1 MACs by default: a server that only has the original
    demo's DHE-RSA-AES256-SHA finds nothing in common with the board's default offer."""
    server = OpensslServer(pki, cipher="DHE-RSA-AES256-SHA")
    b = make_board(guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    out = board_client(b, request=b"GET / HTTP/1.0\r\n\r\n", www=True)
    peer = server.finish().decode(errors="replace")
    assert "TLS-OK" not in out and "TLS-ERROR SSLError" in out, out
    assert "no shared cipher" in peer or "no suitable" in peer or "alert" in peer, peer[-800:]


def test_board_server_with_openssl_client_and_dhe(make_board, pki):
    b = make_board(hostfwd=["0:443"])
    setup_board(b, pki)
    b.run(f"CERT = {pki['board'].decode()!r}\nKEY = {pki['board.key'].decode()!r}")
    b.start("server(CERT, KEY, n=2)")
    b.con.expect(b"LISTENING", timeout=30)
    port = b.board.forwarded_port(443)
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
         str(pki["dir"] / "ca.pem"), "-verify_return_error", "-verify_ip", BOARD_IP,
         "-tls1_2", "-ign_eof"], input=b"hello from openssl\n", capture_output=True,
        timeout=HANDSHAKE_TIMEOUT)
    text = result.stdout.decode(errors="replace")
    assert "Verify return code: 0 (ok)" in text, text[-2000:]
    assert "board:hello from openssl" in text, text[-2000:]
    suite = re.search(r"Cipher is ([\w-]+)", text).group(1)
    # the second connection asks for the demo's DHE-RSA-AES256-SHA256
    cipher, reply = py_client(port, pki, ciphers="DHE-RSA-AES256-SHA256")
    out = b.wait_prompt()
    assert f"TLS-OK ('{suite}', 'TLSv1.2'" in out, out
    assert cipher[0] == "DHE-RSA-AES256-SHA256" and reply == b"board:hello from the pc\n"
    assert "TLS-OK ('DHE-RSA-AES256-SHA256', 'TLSv1.2', 256)" in out, out


@pytest.mark.parametrize("stem, reason", [
    ("expired", "The certificate validity has expired"),
    ("untrusted", "The certificate is not correctly signed by the trusted CA"),
])
def test_board_client_refuses_bad_server_certificate(make_board, pki, stem, reason):
    server = PyTlsServer(pki, stem=stem)
    b = make_board(guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    out = board_client(b)
    server.join()
    assert "TLS-OK" not in out, out
    assert "TLS-ERROR SSLCertVerificationError" in out and "certificate verify failed" in out, out
    assert reason in out, out


def test_board_client_refuses_wrong_hostname(make_board, pki):
    server = PyTlsServer(pki)
    b = make_board(guestfwd=[f"443:{server.port}"])
    setup_board(b, pki)
    out = b.run("ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
                "ctx.load_verify_locations(cadata=CA)\n"
                "s = socket.socket()\n"
                "s.settimeout(60)\n"
                f"s.connect(('{PC_IP}', 443))\n"
                "try:\n"
                "    ctx.wrap_socket(s, server_hostname='other.lab')\n"
                "except Exception as e:\n"
                "    report(e)\n", timeout=HANDSHAKE_TIMEOUT)
    server.join()
    assert "TLS-ERROR SSLCertVerificationError" in out, out
    assert "Common Name (CN) does not match" in out, out


RELEASE_DATE = 1793491200   # STM32LAB_TLS_TIME_FLOOR in firmware/mbedtls/mbedtls_port.c


def test_unset_clock_runs_from_release_date(make_board, pki):
    """Without set_time the clock starts at the firmware's release date: a certificate
    issued after it is refused as not yet valid, with that reason; after set_time the same
    handshake passes."""
    assert time.time() > RELEASE_DATE + 2 * 86400, "the test certificates must postdate the release"
    server = PyTlsServer(pki, n=2)
    b = make_board(guestfwd=[f"443:{server.port}"])
    setup_board(b, pki, set_time=False)
    assert b.run(f"print(ssl.time_is_set(), ssl.time() - {RELEASE_DATE} < 600)").strip() == \
        "False True"
    out = board_client(b)
    assert "TLS-ERROR SSLCertVerificationError" in out, out
    assert "The certificate validity starts in the future" in out, out
    b.run(f"ssl.set_time({int(time.time())})")
    out = board_client(b)
    server.join()
    assert TLS_OK.search(out), out
    assert server.error is None and server.cipher, server.error


def test_rng_failure_fails_tls_context_instead_of_weak_seed(make_board):
    """mbedTLS's only entropy source is the RNG: a seed error fails the DRBG seeding."""
    b = make_board()
    b.board.engine.qmp("qom-set", path="/machine/soc/rng", property="seed-error", value=True)
    out = b.run("import ssl\ntry:\n    ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
                "except ssl.SSLError as e:\n    print('SSLError', e.args)\n")
    assert "SSLError (-52, 'CTR_DRBG - The entropy source failed (hardware RNG error)')" in out, out
    b.board.engine.qmp("qom-set", path="/machine/soc/rng", property="seed-error", value=False)
    assert b.run("print(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).verify_mode == ssl.CERT_REQUIRED)"
                 ).strip() == "True"
