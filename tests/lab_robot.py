"""Robot suites written by a test: the lab's library, a teardown that stops the board,
the test cases given, run by `python -m robot` in tmp_path."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
LIBRARY = TOP / "robot" / "libraries" / "Stm32Lab.py"


def run_robot(tmp_path: Path, name: str, test_cases: str) -> Path:
    """Runs a suite of test_cases (the text after '*** Test Cases ***') and asserts that
    every case passed; returns the suite's output.xml."""
    suite = tmp_path / f"{name}.robot"
    suite.write_text(f"*** Settings ***\nLibrary    {LIBRARY}\nTest Teardown    Reset Emulation\n"
                     f"\n*** Test Cases ***\n{test_cases}")
    r = subprocess.run([sys.executable, "-m", "robot", "--outputdir", str(tmp_path),
                        str(suite)], capture_output=True, text=True, cwd=TOP)
    assert r.returncode == 0, r.stdout[-3000:]
    return tmp_path / "output.xml"
