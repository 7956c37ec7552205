import pytest

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
