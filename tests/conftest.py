import subprocess
from pathlib import Path

import pytest

from lab_qtest import QTest, qemu_binary

BAREMETAL = Path(__file__).resolve().parent / "baremetal"


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
    result = subprocess.run(["make", "-C", str(BAREMETAL)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"cannot build {BAREMETAL}; run 'make baremetal':\n{result.stderr}")
    return BAREMETAL / "build"


@pytest.fixture(scope="session")
def hello_elf(baremetal) -> Path:
    """tests/baremetal/build/hello.elf: 168 MHz bring-up, console banner, echo, LED4 blink."""
    return baremetal / "hello.elf"
