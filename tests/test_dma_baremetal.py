"""DMA on the emulated CPU: tests/baremetal/dma_*.elf drive DMA1/DMA2 register by register
the way ST's HAL does (HAL_DMA_Init/Start_IT/PollForTransfer/IRQHandler,
HAL_UART_Transmit_DMA/Receive_DMA, HAL_CRYP_Encrypt_DMA/Decrypt_DMA,
HAL_HASH_*_Start_DMA/Finish, HAL_HMAC_*_Start_DMA) and report over the console; the host
computes what they must print (Python's `cryptography`, `hashlib`, `hmac`)."""
import hashlib
import hmac

import pytest
import serial
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    TripleDES = algorithms.TripleDES

from host_tools.board import Board
from lab_firmware import wait_console


@pytest.fixture(scope="module")
def programs(baremetal):
    return baremetal


def pattern(n: int, seed: int) -> bytes:
    """fill_pattern() of tests/baremetal/dma.c: xorshift32, each state little-endian."""
    out, x = bytearray(), seed
    for i in range(n):
        if i % 4 == 0:
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
        out.append((x >> (8 * (i % 4))) & 0xFF)
    return bytes(out)


def fnv1a(data: bytes) -> str:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return f"{h:08x}"


def lines(out: str) -> list[str]:
    return [line.rstrip("\r") for line in out.split("\n")]


def test_memory_to_memory(qemu, programs):
    with Board(programs / "dma_m2m.elf", emulator=qemu) as board:
        out = lines(wait_console(board, "\ndone"))
    fnv = fnv1a(pattern(1024, 0x2545F491))
    cases = [f"m2m {p}->{m} fth 3: ok fnv {fnv}"
             for p in ("byte", "half", "word") for m in ("byte", "half", "word")]
    cases += [f"m2m byte->word fth 1: ok fnv {fnv}", f"m2m word->byte fth 0: ok fnv {fnv}"]
    for case in cases:
        assert case in out, out
    assert "m2m flash polled: ok copied out of flash by DMA2, stream 0, polled for " \
           "completion" in out
    assert "m2m from ccm: transfer error, stream disabled, ndtr 4" in out


def test_usart3_transmit_and_receive_by_dma(qemu, programs):
    raw = pattern(1000, 0x9E3779B9)
    text = "".join("\n" if i % 50 == 49 else chr(32 + raw[i] % 95) for i in range(1000))
    with Board(programs / "dma_uart.elf", emulator=qemu) as board:
        with serial.serial_for_url(board.uart(), timeout=0.2) as port:
            out = wait_console(board, "send 16 bytes")
            port.write(b"DMA-received-16!")
            out = wait_console(board, "\ndone")
    assert "<<<" + text + ">>>" in out                     # the DMA'd bytes, untouched
    out = lines(out)
    assert "tx stream 3: half 1 errors 0 ndtr 0" in out
    assert "USART3_TX on DMA1 stream 4 channel 7" in out
    assert "rx: DMA-received-16! half 1 dmar 0" in out


def test_cryp_and_hash_by_dma(qemu, programs):
    with Board(programs / "dma_crypto.elf", emulator=qemu) as board:
        out = lines(wait_console(board, "\ndone"))
    plain = pattern(8192, 0xA5A5A5A5)
    key = pattern(32, 0x01234567)
    iv = pattern(16, 0x89ABCDEF)
    hkey = pattern(20, 0x0BADF00D)

    enc = Cipher(algorithms.AES(key[:16]), modes.CBC(iv)).encryptor()
    aes = enc.update(plain) + enc.finalize()
    assert f"aes-128-cbc encrypt 8192: fnv {fnv1a(aes)} head {aes[:16].hex()}" in out, out
    assert "aes-128-cbc decrypt 8192: match" in out

    enc = Cipher(TripleDES(key[:24]), modes.CBC(iv[:8])).encryptor()
    tdes = enc.update(plain[:2048]) + enc.finalize()
    assert f"tdes-cbc encrypt 2048: fnv {fnv1a(tdes)} head {tdes[:16].hex()}" in out, out
    assert "tdes-cbc decrypt 2048: match" in out

    assert f"sha1 1001: {hashlib.sha1(plain[:1001]).hexdigest()}" in out
    assert f"md5 1001: {hashlib.md5(plain[:1001]).hexdigest()}" in out
    assert f"sha1 64: {hashlib.sha1(plain[:64]).hexdigest()}" in out
    assert f"hmac-sha1 333: {hmac.new(hkey, plain[:333], 'sha1').hexdigest()}" in out
    assert f"hmac-md5 333: {hmac.new(hkey, plain[:333], 'md5').hexdigest()}" in out
    assert "dma errors 0" in out
