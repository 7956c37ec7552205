"""scripts/nightly.py (`make nightly`): a smoke run of the script itself with a tiny budget
(the smoke-tagged steps: the --deterministic replay and Robot's smoke tests, with what
`make test` built), the budget, the selection, the comparison with a previous night, the
merge of CI jobs, and the collection of a failed test's files."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from scripts import nightly

ROOT = Path(__file__).resolve().parents[1]


def nightly_run(out: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "nightly",
                           f"NIGHTLY_ARGS=--out {out} --no-build {' '.join(args)}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """make nightly NIGHTLY_ARGS='--budget 2 --only smoke --no-build --out DIR', once."""
    out = tmp_path_factory.mktemp("nightly") / "smoke"
    result = nightly_run(out, "--budget 2", "--only smoke")
    return out, result


def test_smoke_run_passes_and_writes_every_report(smoke):
    out, result = smoke
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(out)
    steps = {s["name"]: s for s in summary["steps"]}
    assert summary["status"] == "passed"
    replay = steps["replay-F417"]
    assert replay["status"] == "passed", replay
    assert set(replay["tests"].values()) == {"PASS"} and len(replay["tests"]) == 2
    assert replay["figures"]["loop_turns_per_10ms"] > 0
    a = (out / "replay" / "stm324xg-eval" / "seed-1-a" / "console.log").read_bytes()
    b = (out / "replay" / "stm324xg-eval" / "seed-1-b" / "console.log").read_bytes()
    other = (out / "replay" / "stm324xg-eval" / "seed-2-other-seed" / "console.log").read_bytes()
    assert a == b and a != other and a.rstrip().endswith(b"ms")
    for name in ("summary.md", "summary.html", "nightly.log"):
        assert (out / name).stat().st_size > 0
    md = (out / "summary.md").read_text()
    assert "PASSED" in md and "## Skipped and why" in md and "replay-F417" in md


def test_smoke_run_robot_step_is_merged_or_says_why_not(smoke):
    out, _ = smoke
    robot = {s["name"]: s for s in summary_of(out)["steps"]}["robot-smoke"]
    firmware = nightly.firmware_elf("stm324xg-eval", 1)
    if not firmware.exists():       # nothing built: the step says so instead of failing
        assert robot["status"] == "skipped" and "--no-build" in robot["reason"]
        return
    # Under a heavy load the 2-minute budget may stop it; that is reported, not hidden.
    assert robot["status"] in ("passed", "stopped"), robot
    if robot["status"] == "stopped":
        assert "budget" in robot["reason"]
        return
    assert robot["counts"]["passed"] > 0 and robot["counts"]["failed"] == 0
    assert (out / "junit" / "robot-smoke.xml").exists()
    assert (out / "robot" / "report.html").exists() and (out / "robot" / "log.html").exists()
    assert (out / "robot" / "output.xml").exists()


def test_smoke_run_lists_what_it_did_not_select(smoke):
    out, _ = smoke
    summary = summary_of(out)
    reasons = dict(summary["not_selected"])
    assert reasons["robot-F439-SW-ECDSA"] == "not selected (--only smoke)"
    assert reasons["pytest"] == "not selected (--only smoke)"


def test_zero_budget_runs_nothing_and_says_why(tmp_path):
    out = tmp_path / "zero"
    result = nightly_run(out, "--budget 0", "--only smoke", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = {s["name"]: s for s in summary_of(out)["steps"]}
    assert steps["replay-F417"]["status"] == "skipped"
    assert steps["replay-F417"]["reason"].startswith("budget: needs about")
    assert "budget: needs about" in (out / "summary.md").read_text()
    assert "budget: needs about" in result.stdout


def test_a_directory_holding_a_run_is_not_overwritten(smoke):
    out, _ = smoke
    before = (out / "summary.json").read_bytes()
    result = nightly_run(out, "--budget 0", "--only smoke", timeout=300)
    assert result.returncode != 0
    assert "already holds a run" in result.stderr
    assert (out / "summary.json").read_bytes() == before


def test_unknown_selector_is_refused():
    result = subprocess.run([sys.executable, "scripts/nightly.py", "--list",
                             "--only", "no-such-step"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2
    assert "no step matches no-such-step" in result.stderr


def test_list_orders_the_matrix_before_the_long_checks_and_pytest_last():
    result = subprocess.run([sys.executable, "scripts/nightly.py", "--list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert names.index("robot-F417-HW-RSA") < names.index("robot-F439-SW-RSA") \
        < names.index("bench") < names.index("robot-F417-HW-ECDSA") < names.index("pytest")
    assert names[:2] == ["qemu", "baremetal"]


def test_long_checks_are_discovered_not_listed():
    # pytest's slow marker and `make bench` are used when the tree has them
    plan = subprocess.run([sys.executable, "scripts/nightly.py", "--list"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300).stdout
    if "slow" in nightly.pytest_markers():
        assert "pytest has no `slow` marker registered" not in plan
    else:
        assert "pytest has no `slow` marker registered" in plan
    if nightly.make_has_target("bench"):
        assert "no `bench` target" not in plan
    else:
        assert "the Makefile has no `bench` target" in plan


def test_boards_without_ethernet_get_no_robot_ssl_runs():
    """The real tree: the Nucleo-F411RE (no Ethernet) is in the launcher's table but not
    among the boards the nightly runs the SSL client/server suites on."""
    tree = nightly.discover_tree()
    assert tree.boards == {"F417": "stm324xg-eval", "F439": "stm324x9i-eval"}
    assert "nucleo-f411re" in tree.firmware_boards


def test_discover_tree_reads_the_robot_librarys_tables(tmp_path):
    lib = tmp_path / "robot" / "libraries"
    lib.mkdir(parents=True)
    (lib / "Stm32Lab.py").write_text(
        'BOARDS = {"F417": "stm324xg-eval", "NUCLEO": "nucleo-f411re"}\n'
        'VARIANTS = {"HW": 1, "HARDWARE": 1, "SW": 0}\n'
        'CERT_KINDS = {"RSA": "rsa", "ECDSA": "ec", "EC": "ec"}\n')
    for board in ("stm324xg-eval", "nucleo-f411re"):
        (tmp_path / "firmware" / "boards" / board).mkdir(parents=True)
        (tmp_path / "firmware" / "boards" / board / "mpconfigboard.h").write_text("")
    tree = nightly.discover_tree(tmp_path)
    assert tree.boards == {"F417": "stm324xg-eval", "NUCLEO": "nucleo-f411re"}
    assert tree.variants == {"HW": 1, "SW": 0} and tree.cert_kinds == ["RSA", "ECDSA"]
    assert tree.firmware_boards == {"stm324xg-eval", "nucleo-f411re"} and not tree.notes


def summary(status, tests, figures, steps=("robot-a", "pytest")):
    return {"format": nightly.FORMAT, "started": "2025-01-01T02:00:00+00:00", "status": status,
            "git": {"commit": "abc"}, "tests": tests, "figures": figures,
            "steps": [{"name": n, "status": "passed"} for n in steps]}


def test_compare_finds_regressions_fixes_and_moved_figures():
    prev = summary("failed", {"robot-a::x": "PASS", "robot-a::y": "FAIL", "pytest::z": "PASS"},
                   {"fw.text_bytes": 1000, "robot-a.duration_s": 100.0, "gone": 1})
    now = summary("failed", {"robot-a::x": "FAIL", "robot-a::y": "PASS", "robot-a::new": "PASS"},
                  {"fw.text_bytes": 1100, "robot-a.duration_s": 100.0}, steps=("robot-a",))
    now["steps"].append({"name": "pytest", "status": "skipped"})
    result = nightly.compare(prev, now)
    assert result["newly_failing"] == ["robot-a::x"]
    assert result["fixed"] == ["robot-a::y"]
    assert result["new_tests"] == ["robot-a::new"]
    # pytest did not run tonight: its tests are not "gone"
    assert result["gone_tests"] == []
    assert result["steps"] == [{"name": "pytest", "was": "passed", "now": "skipped"}]
    moved = {f["figure"]: f for f in result["figures"]}
    assert moved["fw.text_bytes"]["change"] == 100 and moved["fw.text_bytes"]["percent"] == 10.0
    assert moved["robot-a.duration_s"]["change"] == 0
    assert result["gone_figures"] == ["gone"]


def test_summary_page_shows_the_comparison(tmp_path):
    prev = summary("passed", {"robot-a::x": "PASS"}, {"fw.text_bytes": 1000})
    results = [nightly.Result("robot-a", "Robot", status="failed", duration_s=5,
                              tests={"robot-a::x": "FAIL"},
                              counts={"passed": 0, "failed": 1, "skipped": 0},
                              failures=[{"id": "robot-a::x", "message": "boom", "files": []}],
                              figures={"text_bytes": 1200})]
    meta = {"started": "2025-01-02T02:00:00+00:00", "finished": "x", "budget_min": 60,
            "elapsed_s": 5, "selection": "", "git": {}, "host": {}, "notes": [],
            "not_selected": [], "unavailable": [["bench", "the Makefile has no `bench` target"]]}
    data = nightly.summarize(meta, results, prev)
    assert data["status"] == "failed"
    nightly.write_reports(tmp_path, data)
    md = (tmp_path / "summary.md").read_text()
    assert "newly failing: `robot-a::x`" in md
    assert "`robot-a::x`: boom" in md
    assert "the Makefile has no `bench` target" in md
    page = (tmp_path / "summary.html").read_text()
    assert "<table>" in page and 'class="failed"' in page


def test_previous_may_be_a_directory_of_runs(tmp_path):
    for name, status in (("20250101-020000Z", "passed"), ("20250102-020000Z", "failed")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(summary(status, {}, {})))
    assert nightly.load_previous(str(tmp_path))["status"] == "failed"
    assert nightly.load_previous(str(tmp_path), exclude=tmp_path / "20250102-020000Z")[
        "status"] == "passed"
    with pytest.raises(SystemExit):
        nightly.load_previous(str(tmp_path / "nothing-here"))


def test_merge_of_two_runs_gives_one_report(smoke, tmp_path):
    out, _ = smoke
    zero = tmp_path / "zero"
    nightly_run(zero, "--budget 0", "--only replay-F417", timeout=300)
    merged = tmp_path / "merged"
    result = subprocess.run([sys.executable, "scripts/nightly.py", "--merge", str(out), str(zero),
                             str(tmp_path / "died"), "--out", str(merged)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    data = summary_of(merged)
    names = [s["name"] for s in data["steps"]]
    assert names.count("replay-F417") == 1 and "robot-smoke" in names
    assert any("died: no summary.json" in n for n in data["notes"])
    if (out / "robot" / "output-smoke.xml").exists():
        assert (merged / "robot" / "report.html").exists()


def test_a_failed_robot_test_brings_its_linked_files(tmp_path):
    suite = tmp_path / "fails.robot"
    suite.write_text(
        "*** Settings ***\nLibrary    OperatingSystem\n\n*** Test Cases ***\n"
        "Board Prints Nothing\n"
        "    Create File    ${OUTPUT DIR}/stm32lab-logs/s/t/console.log    last words\n"
        "    Log    <a href=\"stm32lab-logs/s/t/console.log\">console.log</a>    html=True\n"
        "    Fail    no banner\n"
        "Board Passes\n    No Operation\n")
    out = tmp_path / "robot"
    subprocess.run([sys.executable, "-m", "robot", "--outputdir", str(out), "--output",
                    "output-x.xml", "--log", "NONE", "--report", "NONE", str(suite)],
                   capture_output=True, timeout=120)
    run = SimpleNamespace(out=tmp_path)
    step = SimpleNamespace(name="robot-x")
    result = nightly.Result("robot-x", "x")
    nightly.read_robot_output(run, step, result, out / "output-x.xml")
    assert result.counts == {"passed": 1, "failed": 1, "skipped": 0}
    (failure,) = result.failures
    assert failure["message"] == "no banner"
    assert failure["files"] == ["failures/robot-x/Board_Prints_Nothing/console.log"]
    assert (tmp_path / failure["files"][0]).read_text() == "last words"


def test_first_difference_names_the_line():
    assert nightly.first_difference(b"a\nb\nc\n", b"a\nx\nc\n").startswith("line 2 differs")
    assert "longer" in nightly.first_difference(b"a\n", b"a\nb\n")


def test_pytest_results_and_recorded_figures_come_from_junit(tmp_path):
    # what the pytest and pytest-slow-* steps read: a real pytest run's --junitxml
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "def test_ok(record_property):\n    record_property('heap_min_bytes', 4096)\n"
        "def test_bad():\n    assert 1 == 2, 'heap grew'\n"
        "@pytest.mark.skip(reason='needs testssl.sh')\ndef test_later():\n    pass\n")
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={junit}", "-o", "junit_family=xunit1",
                    str(tmp_path / "test_sample.py")],
                   cwd=tmp_path, capture_output=True, timeout=120)
    result = nightly.Result("pytest-slow-x", "x")
    nightly.read_junit(SimpleNamespace(name="pytest-slow-x"), result, junit)
    assert result.counts == {"passed": 1, "failed": 1, "skipped": 1}
    assert result.figures["test_ok.heap_min_bytes"] == 4096
    (failure,) = result.failures
    assert failure["id"].endswith("::test_bad") and "heap grew" in failure["message"]
    assert result.skips[0]["reason"].endswith("needs testssl.sh")


def test_bench_json_numbers_become_figures():
    figures = {}
    nightly.flatten({"sha1": {"hw_kib_s": 900, "sw_kib_s": 34000.5, "note": "x"},
                     "ok": True, "runs": [1, 2]}, "crypto", figures)
    assert figures == {"crypto.sha1.hw_kib_s": 900, "crypto.sha1.sw_kib_s": 34000.5,
                       "crypto.runs[0]": 1, "crypto.runs[1]": 2}
