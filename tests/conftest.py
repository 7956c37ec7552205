from pathlib import Path

import pytest

from host_tools import certs
from lab_firmware import build_baremetal, build_firmware
from lab_qtest import QTest, qemu_binary



@pytest.fixture(scope="session")
def qemu():
    return qemu_binary()


@pytest.fixture
def qts(qemu):
    """A fresh board in qtest mode, no network."""
    with QTest(qemu) as q:
        yield q
        assert q.alive(), f"QEMU died: {q.stderr()}"


@pytest.fixture(scope="session")
def baremetal() -> Path:
    """tests/baremetal/build/: the bare-metal test programs, built once."""
    return build_baremetal()


@pytest.fixture(scope="session")
def hello_elf(baremetal) -> Path:
    """tests/baremetal/build/hello.elf: 168 MHz bring-up, console banner, echo, LED4 blink."""
    return baremetal / "hello.elf"


@pytest.fixture(scope="session")
def firmware_elf() -> Path:
    """The MicroPython firmware of the default board (STM324xG-EVAL, hardware crypto)."""
    return build_firmware("stm324xg-eval")


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    """The lab's test PKI (host_tools/certs.py), made once in a temp dir."""
    out = tmp_path_factory.mktemp("pki")
    certs.make_pki(out, report=lambda line: None)
    return out
