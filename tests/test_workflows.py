"""The GitHub workflows (.github/workflows/ci.yml per commit, nightly.yml every night):
valid against GitHub's workflow schema, checked offline with the copy that the
check-jsonschema package ships (a test extra: `make setup` installs it), shaped as the
issue asks (cron and manual trigger, debian:bookworm, fail-fast off, the build cache,
artifacts and the job summary even on failure), and nothing they call is missing: every
`make` target, every script and every scripts/nightly.py option."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from scripts import nightly

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI, NIGHTLY = WORKFLOWS / "ci.yml", WORKFLOWS / "nightly.yml"
CACHE_DIR = "~/.cache/stm32-tls-lab"
SHELL_OPERATORS = {"&&", "||", ";", "|", "then", "do", "if", "(", ")", "{", "}"}


def load(path: Path) -> dict:
    # YAML 1.2 (ruamel), as GitHub reads it: `on` stays a key, not the boolean true.
    return YAML(typ="safe", pure=True).load(path.read_text())


def check_schema(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def run_lines(workflow: dict):
    """Each shell command line of the workflow's run: steps, continuations joined and
    ${{ }} expressions replaced by plausible values."""
    for _, _, step in steps(workflow):
        text = step.get("run")
        if not text:
            continue
        text = re.sub(r"\\\n\s*", " ", text)
        # a folded scalar (>-) is one line already; a literal block (|) is one per line
        text = re.sub(r"\$\{\{(.*?)\}\}",
                      lambda m: "100" if "budget" in m.group(1) else "x", text)
        for line in text.splitlines():
            if line.strip() and not line.strip().startswith("#"):
                yield line


def commands(line: str):
    """Simple commands of a shell line, as token lists."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    current = []
    for token in lexer:
        if token in SHELL_OPERATORS or set(token) <= set(";&|()"):
            if current:
                yield current
            current = []
        else:
            current.append(token)
    if current:
        yield current


def test_check_jsonschema_is_a_test_extra():
    import tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["test"]
    assert any(req.startswith("check-jsonschema") for req in extras)


def test_both_workflows_match_githubs_workflow_schema():
    assert CI.exists() and NIGHTLY.exists()
    result = check_schema(CI, NIGHTLY)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("broken", [
    # a job without runs-on
    "on: push\njobs:\n  a:\n    steps:\n      - run: echo\n",
    # a step is either run: or uses:, not both
    "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"
    "        uses: actions/checkout@v4\n",
    # an event GitHub does not have
    "on: [pusj]\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n",
])
def test_the_schema_check_rejects_a_broken_workflow(tmp_path, broken):
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    result = check_schema(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "broken.yml" in result.stdout + result.stderr


def test_every_job_runs_in_a_debian_bookworm_container():
    for path in (CI, NIGHTLY):
        for name, job in load(path)["jobs"].items():
            assert job.get("container") == "debian:bookworm", f"{path.name}: job {name}"


def test_ci_runs_ci_run_on_every_push():
    wf = load(CI)
    assert "push" in wf["on"] and "pull_request" in wf["on"]
    assert any(c == ["bash", ".ci/run"] for line in run_lines(wf) for c in commands(line))


def test_nightly_has_cron_and_manual_trigger_and_a_matrix_without_fail_fast():
    wf = load(NIGHTLY)
    assert wf["on"]["schedule"][0]["cron"].count(" ") == 4
    assert "workflow_dispatch" in wf["on"]
    matrix_jobs = [job for job in wf["jobs"].values() if "strategy" in job]
    assert matrix_jobs
    for job in matrix_jobs:
        assert job["strategy"]["fail-fast"] is False
    # the matrix comes from scripts/nightly.py --matrix, run by the job it needs
    run_job = wf["jobs"]["run"]
    assert run_job["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert run_job["needs"] == "plan"
    assert any("scripts/nightly.py --matrix" in line for line in run_lines(wf))


@pytest.mark.parametrize("path", [CI, NIGHTLY], ids=["ci", "nightly"])
def test_the_build_cache_is_keyed_on_qemu_firmware_patches_and_scripts(path):
    wf = load(path)
    caches = [(job, step) for _, job, step in steps(wf)
              if step.get("uses", "").startswith("actions/cache")
              and step["with"]["path"] == CACHE_DIR]
    restores = [s for _, s in caches if s["uses"].startswith("actions/cache/restore@")]
    saves = [s for _, s in caches if s["uses"].startswith("actions/cache/save@")]
    assert restores and saves
    for step in restores:
        key = step["with"]["key"]
        for pattern in ("'qemu/**'", "'firmware/patches/**'", "'scripts/**'"):
            assert pattern in key, key
        assert step.get("id")
    for step in saves:     # saved even when the tests failed, unless restored exactly
        assert step["if"].startswith("always()") and "cache-hit != 'true'" in step["if"]
    for pattern in ("qemu", "firmware/patches", "scripts"):
        assert (ROOT / pattern).is_dir()


@pytest.mark.parametrize("path", [CI, NIGHTLY], ids=["ci", "nightly"])
def test_results_are_uploaded_even_on_failure(path):
    uploads = [step for _, _, step in steps(load(path))
               if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads
    for step in uploads:
        assert step.get("if") == "always()", step


def test_the_nightly_summary_goes_to_the_job_summary_even_on_failure():
    wf = load(NIGHTLY)
    writers = [(name, step) for name, _, step in steps(wf)
               if "$GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert {name for name, _ in writers} == {"run", "report"}
    for _, step in writers:
        assert step.get("if") == "always()" and "summary.md" in step["run"]


def test_every_make_target_and_script_the_workflows_call_exists():
    seen_make, seen_scripts, seen_nightly = set(), set(), 0
    for path in (CI, NIGHTLY):
        for line in run_lines(load(path)):
            for cmd in commands(line):
                for i, token in enumerate(cmd):
                    if re.match(r"^(\.ci|scripts|host_tools|tests|robot)/[\w./-]+$", token):
                        assert (ROOT / token).exists(), f"{path.name}: {token} is missing"
                        seen_scripts.add(token)
                if cmd[0] == "make":
                    args = iter(cmd[1:])
                    for arg in args:
                        if arg in ("-C", "-f"):
                            pytest.fail(f"{path.name}: make {arg} {next(args)}: call the "
                                        "top-level Makefile's targets")
                        if arg.startswith("NIGHTLY_ARGS="):
                            nightly_args = shlex.split(arg.split("=", 1)[1])
                            try:
                                nightly.parser().parse_args(nightly_args)
                            except SystemExit:
                                pytest.fail(f"{path.name}: NIGHTLY_ARGS={shlex.join(nightly_args)}"
                                            ": not options nightly.py has")
                            seen_nightly += 1
                        elif not arg.startswith("-") and "=" not in arg:
                            assert nightly.make_has_target(arg), \
                                f"{path.name}: make {arg}: no such target in the Makefile"
                            seen_make.add(arg)
                if "scripts/nightly.py" in cmd:
                    args = [a for a in cmd[cmd.index("scripts/nightly.py") + 1:]
                            if not a.startswith("$")]
                    try:
                        nightly.parser().parse_args(args)
                    except SystemExit:
                        pytest.fail(f"{path.name}: scripts/nightly.py {shlex.join(args)}: "
                                    "not an option nightly.py has")
                    seen_nightly += 1
    assert {"setup", "nightly"} <= seen_make
    assert {".ci/run", "scripts/nightly.py"} <= seen_scripts
    assert seen_nightly >= 3


def test_make_has_target_reads_the_makefile():
    for target in ("setup", "qemu", "firmware", "test", "robot", "nightly", "print-qemu"):
        assert nightly.make_has_target(target), target
    for target in ("PYTHON", "no-such-target", "bench-of-nothing"):
        assert not nightly.make_has_target(target), target


def test_make_nightly_runs_the_script():
    result = subprocess.run(["make", "-n", "nightly", "NIGHTLY_ARGS=--list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "scripts/nightly.py --list" in result.stdout


def test_the_matrix_selects_steps_that_exist():
    out = subprocess.run([sys.executable, "scripts/nightly.py", "--matrix"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    jobs = json.loads(out.stdout)["include"]
    names = [job["name"] for job in jobs]
    assert len(names) == len(set(names)) and "F417-HW" in names and "F439-SW" in names
    for job in jobs:
        plan = subprocess.run([sys.executable, "scripts/nightly.py", "--list",
                               "--only", job["only"]], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert plan.returncode == 0, plan.stderr
        assert re.search(r"\brun$", plan.stdout, re.M), plan.stdout
