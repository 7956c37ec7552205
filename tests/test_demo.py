"""The README's first command: `make demo` runs host_tools/demo.py, the PC SSL server and the
emulated board as SSL client with both consoles shown."""
import subprocess
import sys
from pathlib import Path

from lab_firmware import build_firmware

TOP = Path(__file__).resolve().parent.parent


def test_demo_shows_both_consoles_and_a_successful_handshake(tmp_path):
    env = {"STM32LAB_CERTS": str(tmp_path / "pki")}
    result = subprocess.run([sys.executable, str(TOP / "host_tools" / "demo.py"),
                             "--connections", "1", "--timeout", "120"],
                            capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, **env})
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr
    assert "BOARD |   . Performing the SSL/TLS handshake... ok" in out
    assert "BOARD |     [ Ciphersuite is TLS-" in out
    assert "BOARD |   > Write to server:" in out and "BOARD |   < Read from server:" in out
    assert "PC    |   . Performing the SSL/TLS handshake... ok" in out
    assert "PC    |   < Read from client:" in out
    assert "demo: 1 successful SSL connection(s) from the board" in out
    assert (tmp_path / "pki" / "ca.pem").exists()


def test_demo_refuses_zero_connections():
    result = subprocess.run([sys.executable, str(TOP / "host_tools" / "demo.py"),
                             "--connections", "0"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "demo: --connections must be at least 1"


def test_nucleo_demo_shows_the_certificate_and_the_page(tmp_path):
    """demo.py --board nucleo-f411re (make demo BOARD=nucleo-f411re): the lab DNS, the PC
    server with the chain, the Nucleo's write-up client on both consoles."""
    env = {"STM32LAB_CERTS": str(tmp_path / "pki")}
    build_firmware("nucleo-f411re", 0)
    result = subprocess.run([sys.executable, str(TOP / "host_tools" / "demo.py"),
                             "--board", "nucleo-f411re", "--timeout", "120"],
                            capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, **env})
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr
    assert "BOARD | Press any key to continue...  <- demo: a key pressed" in out, out
    assert "BOARD | cert. version     : 3" in out
    assert "BOARD | issuer name       : O=STM32 TLS Lab (test only), CN=STM32 TLS Lab " \
           "Issuing CA" in out
    assert "BOARD | HTTP/1.0 200 OK" in out
    assert "PC    |     [ Protocol is TLSv1.2 ]" in out
    assert "demo: 1 successful SSL connection(s) from the board" in out
