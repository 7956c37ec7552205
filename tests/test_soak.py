"""Long runs against the board's HTTPS server, marked slow (deselected by default; run
them with `python3 -m pytest -m slow tests/test_soak.py`, about 15-40 minutes on a loaded
machine): the 1,000-handshake heap soak (bench/heap_soak.py) and testssl.sh
(bench/testssl_board.py). Both print their figures; these tests check the same promises as
their scripts' exit status.
"""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
def test_heap_is_stable_over_1000_handshakes_good_and_hostile():
    lines = []
    def out(line):
        print(line)
        lines.append(line)

    result = bench("heap_soak").run(handshakes=1000, every=50, out=out)
    assert not result["problems"], "\n".join(lines[-30:])
    assert result["good"] == 600 and result["bad"] == 400
    assert len(result["curve"]) == 20


@pytest.mark.slow
@pytest.mark.timeout(2 * 3600)
def test_testssl_finds_modern_tls_only():
    result = bench("testssl_board").run(out=print)
    assert result["findings"], result["stderr"][-2000:]
    assert not result["problems"], "\n".join(result["problems"])
