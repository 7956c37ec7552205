"""QEMU's own style checker on every C file we own under qemu/: what a QEMU maintainer runs
first on a patch (scripts/checkpatch.pl from the QEMU source the build fetched)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("STM32LAB_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stm32-tls-lab")
OURS = sorted(p.relative_to(TOP / "qemu") for p in (TOP / "qemu").rglob("*.[ch]"))


@pytest.fixture(scope="module")
def checkpatch(qemu) -> Path:
    """checkpatch.pl of the QEMU source the lab's QEMU was built from (the qemu fixture
    makes sure that build, and so the source, exists)."""
    script = next(CACHE.glob("qemu-*-src/scripts/checkpatch.pl"), None)
    assert script, f"no QEMU source in {CACHE}: run 'make qemu'"
    assert shutil.which("perl"), "perl is needed for checkpatch.pl"
    return script


def test_we_own_c_files():
    assert len(OURS) > 20, OURS


@pytest.mark.parametrize("path", OURS, ids=str)
def test_checkpatch_clean(checkpatch, path):
    r = subprocess.run(["perl", str(checkpatch), "--no-tree", "-f", str(path)],
                       cwd=TOP / "qemu", capture_output=True, text=True)
    total = [line for line in r.stdout.splitlines() if line.startswith("total:")]
    assert total and total[0].startswith("total: 0 errors, 0 warnings"), r.stdout[-3000:]
