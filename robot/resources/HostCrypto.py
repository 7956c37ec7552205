"""Host-side reference results for robot/hwcrypto.robot: what the board's stm32crypto
module must return, computed with Python's hashlib/hmac and the cryptography package.

Every keyword takes and returns hex strings, so the suite can paste the same values into
the board's REPL (binascii.unhexlify) and compare the board's hex output with them.
"""

import hashlib
import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
from robot.api.deco import keyword, library

_AES_MODES = {"ECB": lambda iv: modes.ECB(), "CBC": modes.CBC, "CTR": modes.CTR}
_DES_MODES = {"ECB": lambda iv: modes.ECB(), "CBC": modes.CBC}


def _bytes(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text or "")


@library(scope="GLOBAL", auto_keywords=False)
class HostCrypto:
    """Reference cryptography on the host (hex in, hex out)."""

    @keyword("Test Data")
    def test_data(self, length: int, seed: int = 0) -> str:
        """``length`` bytes of deterministic test data (hex): byte i is (i*7 + seed) % 256."""
        return bytes((i * 7 + int(seed)) % 256 for i in range(int(length))).hex()

    @keyword("Host AES Encrypt")
    def host_aes_encrypt(self, mode: str, key: str, iv: str, data: str) -> str:
        """AES in ``mode`` (ECB, CBC or CTR; ``iv`` empty for ECB), as the CRYP computes it."""
        cipher = Cipher(algorithms.AES(_bytes(key)), _AES_MODES[mode.upper()](_bytes(iv)))
        enc = cipher.encryptor()
        return (enc.update(_bytes(data)) + enc.finalize()).hex()

    @keyword("Host DES Encrypt")
    def host_des_encrypt(self, mode: str, key: str, iv: str, data: str) -> str:
        """DES (8-byte key, run as TDES with K1=K2=K3) or TDES (16/24-byte key) in ECB/CBC."""
        raw = _bytes(key)
        if len(raw) == 8:
            raw = raw * 3            # DES = TDES with K1 = K2 = K3
        elif len(raw) == 16:
            raw = raw + raw[:8]      # two-key TDES: K3 = K1
        cipher = Cipher(TripleDES(raw), _DES_MODES[mode.upper()](_bytes(iv)))
        enc = cipher.encryptor()
        return (enc.update(_bytes(data)) + enc.finalize()).hex()

    @keyword("Host Digest")
    def host_digest(self, algorithm: str, data: str) -> str:
        """hashlib's digest of ``data`` (sha1, md5, sha224, sha256)."""
        return hashlib.new(algorithm.lower(), _bytes(data)).hexdigest()

    @keyword("Host HMAC")
    def host_hmac(self, algorithm: str, key: str, data: str) -> str:
        """hmac's HMAC of ``data`` with ``key`` and ``algorithm``."""
        return hmac.new(_bytes(key), _bytes(data), algorithm.lower()).hexdigest()

    @keyword("Host AES GCM Encrypt")
    def host_aes_gcm_encrypt(self, key: str, iv: str, data: str, aad: str = "") -> str:
        """AES-GCM ciphertext followed by the 16-byte tag (hex)."""
        return AESGCM(_bytes(key)).encrypt(_bytes(iv), _bytes(data), _bytes(aad) or None).hex()

    @keyword("Host AES CCM Encrypt")
    def host_aes_ccm_encrypt(self, key: str, nonce: str, data: str, aad: str = "",
                             tag_length: int = 16) -> str:
        """AES-CCM ciphertext followed by the ``tag_length``-byte tag (hex)."""
        ccm = AESCCM(_bytes(key), tag_length=int(tag_length))
        return ccm.encrypt(_bytes(nonce), _bytes(data), _bytes(aad) or None).hex()
