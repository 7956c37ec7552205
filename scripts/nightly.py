#!/usr/bin/env python3
"""The nightly run: every board and variant, the long checks, one report.

    make nightly NIGHTLY_ARGS='--budget 60 --previous results/nightly'
    python3 scripts/nightly.py [--budget MIN] [--only SEL,...] [--skip SEL,...]
                               [--previous DIR|FILE] [--out DIR] [--no-build] [--list]
    python3 scripts/nightly.py --merge RUN_DIR... --out DIR     # one report from several runs
    python3 scripts/nightly.py --matrix                         # the CI matrix, as JSON

What runs is discovered from the tree, not listed here: the boards, firmware variants and
certificate kinds the Robot library knows (robot/libraries/Stm32Lab.py), the firmware boards
(firmware/boards/), pytest's `slow` marker when it is registered (one step per file of slow
tests), `make bench` when the Makefile has it. Each step has a time estimate (a built-in
one, or its duration in the previous night's summary); steps run in priority order while
their estimate fits in what is left of the budget, and the summary says what was skipped
and why. A step still running when the budget ends is stopped (SIGINT, as Ctrl-C: Robot and
pytest write their results), and reported as stopped.

Output (results/nightly/<UTC timestamp>/, git-ignored):
    summary.md, summary.html, summary.json   the one-page summary, and the same for machines
    robot/report.html, robot/log.html        every Robot run merged by rebot (output.xml)
    junit/*.xml                              pytest --junitxml and robot --xunit, per step
    failures/<step>/<test>/                  console logs, QEMU stderr, pcaps of failed tests
    replay/, bench/                          the --deterministic replay logs, bench JSON/plots
    steps/<step>.log, nightly.log            each step's output, this script's own lines
Exit status: 0 when no step failed (skips and budget stops are not failures), 1 otherwise,
2 on bad arguments.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import html
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_ROOT = REPO / "results" / "nightly"
FORMAT = 1                       # summary.json layout version

# Built-in estimates (seconds), measured on the 2-core lab machine; the previous night's
# durations replace them when --previous is given.
ESTIMATES = {
    "qemu": 30, "qemu-fresh": 600, "baremetal": 15, "firmware": 45, "firmware-fresh": 240,
    "replay": 30, "robot-full": 200, "robot-cert": 130, "robot-smoke": 60,
    "pytest": 480, "pytest-slow-file": 600, "bench": 900,
}
# The board's console must end a replay window within this much wall time.
REPLAY_WALL_TIMEOUT = 60.0
STOP_GRACE = 60.0                # after SIGINT at the budget, before SIGTERM
# tests/baremetal's programs are built for the STM324xG-EVAL (stm32f417.ld, USART3 console)
REPLAY_MACHINES = ("stm324xg-eval",)
FIGURE_ROWS = 60                 # figures shown in the summary (all are in summary.json)


# -- output ------------------------------------------------------------------------------

class Console:
    """This script's own progress lines: stdout and <run>/nightly.log."""

    def __init__(self, quiet: bool = False):
        self.quiet, self.file = quiet, None

    def open(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, text: str, always: bool = False) -> None:
        line = f"[{datetime.now().strftime('%H:%M:%S')}] {text}"
        if always or not self.quiet:
            print(line, flush=True)
        if self.file:
            self.file.write(line + "\n")
            self.file.flush()


say = Console()


def fmt_secs(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    h, m = divmod(minutes, 60)
    return f"{h}h{m:02d}m"


def safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "x"


# -- what the tree holds ------------------------------------------------------------------

@dataclass
class Tree:
    boards: dict            # robot BOARD value -> QEMU machine / firmware BOARD=
    variants: dict          # robot FIRMWARE_VARIANT value -> HW_CRYPTO value
    cert_kinds: list        # robot CERT_KIND values
    firmware_boards: set
    notes: list = field(default_factory=list)


def _literal_dict(source: str, name: str):
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return None
    return None


def _machine_table(repo: Path) -> dict | None:
    """{short: machine} from host_tools/lab.py's MACHINES (the Robot library's BOARDS is
    built from it), read without importing it; boards without Ethernet are left out (the
    nightly Robot suites are the SSL client and server over the board's network)."""
    lab = repo / "host_tools" / "lab.py"
    if not lab.exists():
        return None
    text = lab.read_text()
    table = {}
    for block in re.split(r"\bMachine\(", text)[1:]:
        m = re.match(r'\s*name="([^"]+)",\s*short="([^"]+)"', block)
        # the Robot suites need the board's Ethernet (SSL client/server over lwIP)
        if m and not re.search(r"\bethernet=False\b", block.split("Machine(")[0]):
            table[m.group(2)] = m.group(1)
    return table or None


def discover_tree(repo: Path = REPO) -> Tree:
    """Boards, variants and certificate kinds from the Robot library's tables (read, not
    imported), firmware boards from firmware/boards/."""
    lib = repo / "robot" / "libraries" / "Stm32Lab.py"
    source = lib.read_text() if lib.exists() else ""
    boards = _literal_dict(source, "BOARDS") or _machine_table(repo) \
        or {"F417": "stm324xg-eval"}
    variants_all = _literal_dict(source, "VARIANTS") or {"HW": 1}
    kinds_all = _literal_dict(source, "CERT_KINDS") or {"RSA": "rsa"}
    # One name per value: HW/HARDWARE are the same build, ECDSA/EC the same certificates.
    variants, kinds, seen = {}, [], set()
    for name, value in variants_all.items():
        if value not in variants.values():
            variants[name] = value
    for name, value in kinds_all.items():
        if value not in seen:
            seen.add(value)
            kinds.append(name)
    fw = {p.parent.name for p in (repo / "firmware" / "boards").glob("*/mpconfigboard.h")}
    tree = Tree(boards=dict(boards), variants=variants, cert_kinds=kinds, firmware_boards=fw)
    for name, machine in boards.items():
        if machine not in fw:
            tree.notes.append(f"Robot board {name} ({machine}) has no firmware/boards/{machine}")
    return tree


def pytest_markers(repo: Path = REPO) -> set:
    """Registered pytest markers (pytest --markers), so `slow` is used only if declared."""
    try:
        out = subprocess.run([PYTHON, "-m", "pytest", "--markers", "-p", "no:cacheprovider"],
                             cwd=repo, capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(re.findall(r"^@pytest\.mark\.([A-Za-z_][\w]*)", out, re.M))


def slow_test_files(repo: Path = REPO) -> tuple[dict, str]:
    """{test file: number of slow tests} from `pytest -m slow --collect-only -q`."""
    try:
        proc = subprocess.run([PYTHON, "-m", "pytest", "-m", "slow", "--collect-only", "-q",
                               "-p", "no:cacheprovider"],
                              cwd=repo, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        return {}, f"collecting slow tests failed: {error}"
    files: dict = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(\S+?\.py)::", line)
        if m:
            files[m.group(1)] = files.get(m.group(1), 0) + 1
    if proc.returncode not in (0, 5):
        return files, f"pytest --collect-only -m slow exited {proc.returncode}: " + \
            " ".join(proc.stdout.splitlines()[-3:])
    return files, ""


def make_has_target(target: str, repo: Path = REPO) -> bool:
    """Whether the top-level Makefile defines target (read, not run: `make -n` would run
    recursive makes and the firmware Makefile's source fetch)."""
    text = (repo / "Makefile").read_text() if (repo / "Makefile").exists() else ""
    for m in re.finditer(r"^([^\s#:=][^:=\n]*?)\s*::?(?!=)", text, re.M):
        if target in m.group(1).split():
            return True
    return False


# -- steps ---------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    title: str
    status: str = "not run"        # passed, failed, stopped, skipped
    reason: str = ""
    started: str = ""
    duration_s: float | None = None
    estimate_s: float | None = None
    command: str = ""
    log: str = ""
    counts: dict = field(default_factory=dict)       # passed / failed / skipped tests
    figures: dict = field(default_factory=dict)
    tests: dict = field(default_factory=dict)        # test id -> PASS / FAIL / SKIP
    failures: list = field(default_factory=list)     # {id, message, files}
    skips: list = field(default_factory=list)        # {id, reason}
    artifacts: list = field(default_factory=list)


@dataclass
class Step:
    name: str
    title: str
    priority: int
    estimate: float
    run: Callable[["Run", "Step", Result], None]
    tags: set = field(default_factory=set)
    needs: list = field(default_factory=list)        # names of build steps
    default: bool = True                             # in the plan without --only
    artifact: Callable[[], Path | None] | None = None   # what a build step makes
    params: dict = field(default_factory=dict)
    unavailable: str = ""                            # why it cannot run on this tree

    def matches(self, selector: str) -> bool:
        return fnmatch.fnmatchcase(self.name, selector) or selector in self.tags


def firmware_elf(machine: str, hw: int) -> Path:
    build = f"build-{machine}" + ("" if hw else "-swcrypto")
    return REPO / "firmware" / build / "firmware.elf"


def qemu_path() -> Path | None:
    try:
        out = subprocess.run(["bash", str(REPO / "scripts" / "build-qemu.sh"), "--print"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out) if out else None


def build_steps(tree: Tree, args, markers: set, slow_files: dict, slow_note: str,
                has_bench: bool) -> list[Step]:
    steps: list[Step] = []
    qemu = qemu_path()
    steps.append(Step("qemu", "Build QEMU with the lab's models (make qemu)", 0,
                      ESTIMATES["qemu" if qemu and qemu.exists() else "qemu-fresh"],
                      run_make, {"build"}, params={"targets": ["qemu"]},
                      artifact=qemu_path))
    steps.append(Step("baremetal", "Build the bare-metal test programs (make baremetal)", 1,
                      ESTIMATES["baremetal"], run_make, {"build"},
                      params={"targets": ["baremetal"]},
                      artifact=lambda: REPO / "tests" / "baremetal" / "build" / "hello.elf"))

    board_order = list(tree.boards)
    for b_index, (board, machine) in enumerate(tree.boards.items()):
        for v_index, (variant, hw) in enumerate(tree.variants.items()):
            fw_name = f"firmware-{board}-{variant}"
            elf = firmware_elf(machine, int(hw))
            steps.append(Step(
                fw_name, f"Build the firmware: BOARD={machine} HW_CRYPTO={int(hw)}",
                2 + b_index * 2 + v_index,
                ESTIMATES["firmware" if elf.exists() else "firmware-fresh"], run_firmware,
                {"build", board, variant}, params={"machine": machine, "hw": int(hw)},
                artifact=lambda elf=elf: elf,
                unavailable="" if machine in tree.firmware_boards
                else f"no firmware/boards/{machine}"))
            for c_index, cert in enumerate(tree.cert_kinds):
                full = c_index == 0
                # The matrix in priority order: every board and variant with the first
                # certificate kind (all suites), then the long checks, then the other
                # certificate kinds (the suites whose tests present certificates).
                prio = (20 + (v_index * len(board_order) + b_index) * 2) if full \
                    else (80 + (c_index * 10) + v_index * len(board_order) + b_index)
                steps.append(Step(
                    f"robot-{board}-{variant}-{cert}",
                    f"Robot: {'every suite' if full else 'client and server suites'}, "
                    f"BOARD:{board} FIRMWARE_VARIANT:{variant} CERT_KIND:{cert}",
                    prio, ESTIMATES["robot-full" if full else "robot-cert"], run_robot,
                    {"robot", "matrix", board, variant, cert},
                    needs=["qemu", "baremetal", fw_name],
                    params={"vars": {"BOARD": board, "FIRMWARE_VARIANT": variant,
                                     "CERT_KIND": cert},
                            "include": [] if full else ["client", "server"]},
                    unavailable="" if machine in tree.firmware_boards
                    else f"no firmware/boards/{machine}"))

    first_board, first_variant = next(iter(tree.boards)), next(iter(tree.variants))
    steps.append(Step(
        "robot-smoke", f"Robot: the smoke-tagged tests on {first_board} {first_variant}", 15,
        ESTIMATES["robot-smoke"], run_robot, {"robot", "smoke"},
        needs=["qemu", "baremetal", f"firmware-{first_board}-{first_variant}"],
        params={"vars": {"BOARD": first_board, "FIRMWARE_VARIANT": first_variant,
                         "CERT_KIND": tree.cert_kinds[0]}, "include": ["smoke"],
                "label": "smoke"},
        default=False))

    for r_index, (board, machine) in enumerate(tree.boards.items()):
        replay_c = REPO / "tests" / "baremetal" / "replay.c"
        why = ""
        if not replay_c.exists():
            why = "no tests/baremetal/replay.c in the tree"
        elif machine not in REPLAY_MACHINES:
            why = (f"tests/baremetal's programs are built for {', '.join(REPLAY_MACHINES)} "
                   f"(stm32f417.ld, USART3 console), not {machine}")
        steps.append(Step(
            f"replay-{board}", f"--deterministic replay on {machine}: same seed twice, "
            "byte for byte; another seed must differ", 10 + r_index,
            ESTIMATES["replay"], run_replay, {"replay", "smoke", "long", board},
            needs=["qemu", "baremetal"], params={"machine": machine, "seed": args.seed},
            unavailable=why))

    slow = "slow" in markers
    steps.append(Step(
        "pytest", "pytest: the per-commit suite" + (" without slow tests" if slow else ""),
        95, ESTIMATES["pytest"], run_pytest, {"pytest"},
        needs=["qemu", "baremetal", f"firmware-{first_board}-{first_variant}"],
        params={"marker": "not slow" if slow else None, "junit": "pytest.xml",
                "parallel": True}))
    if slow and slow_files:
        for i, (path, count) in enumerate(sorted(slow_files.items())):
            stem = Path(path).stem
            steps.append(Step(
                f"pytest-slow-{stem}", f"pytest -m slow {path} ({count} tests)", 60 + i,
                ESTIMATES["pytest-slow-file"], run_pytest, {"pytest", "slow", "long"},
                needs=["qemu", "baremetal", f"firmware-{first_board}-{first_variant}"],
                params={"marker": "slow", "paths": [path],
                        "junit": f"pytest-slow-{stem}.xml"}))
    else:
        why = ("pytest has no `slow` marker registered" if not slow else
               slow_note or "no test is marked slow")
        steps.append(Step("pytest-slow", "pytest -m slow: the long checks", 60, 0,
                          run_pytest, {"pytest", "slow", "long"}, unavailable=why))
    steps.append(Step("bench", "make bench: benchmark figures", 70, ESTIMATES["bench"],
                      run_bench, {"bench", "long"}, needs=["qemu"],
                      unavailable="" if has_bench else "the Makefile has no `bench` target"))
    return steps


# -- running ---------------------------------------------------------------------------------

class Budget(Exception):
    pass


class Run:
    def __init__(self, args, out: Path, steps: list[Step], previous: dict | None):
        self.args, self.out, self.previous = args, out, previous
        self.steps = {s.name: s for s in steps}
        self.order = sorted(steps, key=lambda s: (s.priority, s.name))
        self.results: dict[str, Result] = {}
        self.t0 = time.monotonic()
        self.started = datetime.now(timezone.utc)
        self.deadline = self.t0 + args.budget * 60
        self.reserve = 20.0 if args.budget >= 5 else 5.0     # merging and the summary
        self.interrupted = False
        self.current: subprocess.Popen | None = None

    # time
    def left(self) -> float:
        return self.deadline - self.reserve - time.monotonic()

    def estimate(self, step: Step) -> float:
        prev = (self.previous or {}).get("steps_by_name", {}).get(step.name)
        if prev and prev.get("status") == "passed" and prev.get("duration_s"):
            return float(prev["duration_s"])
        return float(step.estimate)

    # selection
    def selected(self, step: Step) -> str:
        """'' if the step is in the plan, else why not."""
        only, skip = self.args.only, self.args.skip
        if only and not any(step.matches(s) for s in only):
            return f"not selected (--only {','.join(only)})"
        if not only and not step.default:
            return "not in the default plan (select it with --only)"
        hit = [s for s in skip if step.matches(s)]
        if hit:
            return f"--skip {','.join(hit)}"
        return ""

    def plan(self) -> list[Step]:
        return [s for s in self.order if "build" not in s.tags and not self.selected(s)] + \
            [s for s in self.order if "build" in s.tags and self.args.only and
             any(s.matches(x) for x in self.args.only)]

    # the loop
    def execute(self) -> None:
        for step in self.plan():
            if step.name in self.results:
                continue
            result = Result(step.name, step.title, estimate_s=self.estimate(step))
            self.results[step.name] = result
            if self.interrupted:
                self._skip(result, "interrupted")
                continue
            if step.unavailable:
                self._skip(result, step.unavailable)
                continue
            missing = self._dependencies(step)
            if missing is not None:
                self._skip(result, missing)
                continue
            if self.estimate(step) > self.left():
                self._skip(result, f"budget: needs about {fmt_secs(self.estimate(step))}, "
                                   f"{fmt_secs(max(0, self.left()))} left")
                continue
            self._run(step, result)

    def _dependencies(self, step: Step) -> str | None:
        """Builds what step needs (when it fits in the budget with the step); None when all
        is there, else why the step cannot run."""
        todo = []
        for dep_name in step.needs:
            dep = self.steps[dep_name]
            done = self.results.get(dep_name)
            if done is not None:
                if done.status != "passed":
                    return f"needs {dep_name}, which {_status_phrase(done)}"
                continue
            if dep.unavailable:
                return f"needs {dep_name}: {dep.unavailable}"
            skipped_by = [x for x in self.args.skip if dep.matches(x)]
            if self.args.no_build or skipped_by:
                path = dep.artifact() if dep.artifact else None
                if path is None or not Path(path).exists():
                    why = "--no-build" if self.args.no_build else f"--skip {skipped_by[0]}"
                    return f"needs {dep_name}, not built ({why}; run 'make {_make_hint(dep)}')"
                continue
            todo.append(dep)
        need = sum(self.estimate(d) for d in todo) + self.estimate(step)
        if todo and need > self.left():
            return (f"budget: needs about {fmt_secs(need)} with "
                    f"{', '.join(d.name for d in todo)}, {fmt_secs(max(0, self.left()))} left")
        for dep in todo:
            result = Result(dep.name, dep.title, estimate_s=self.estimate(dep))
            self.results[dep.name] = result
            self._run(dep, result)
            if result.status != "passed":
                return f"needs {dep.name}, which {_status_phrase(result)}"
        return None

    def _skip(self, result: Result, reason: str) -> None:
        result.status, result.reason = "skipped", reason
        say(f"{result.name}: skipped: {reason}")

    def _run(self, step: Step, result: Result) -> None:
        say(f"{step.name}: {step.title} (estimate {fmt_secs(self.estimate(step))}, "
            f"{fmt_secs(self.left())} left)")
        result.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        t = time.monotonic()
        try:
            step.run(self, step, result)
        except Budget:
            result.status = "stopped"
            result.reason = "stopped at the end of the time budget; results so far kept"
        except KeyboardInterrupt:
            self.interrupted = True
            result.status, result.reason = "stopped", "interrupted (Ctrl-C)"
        except Exception as error:      # a bug here must not lose the night's report
            result.status, result.reason = "failed", f"nightly.py error: {error!r}"
        result.duration_s = round(time.monotonic() - t, 1)
        counts = ", ".join(f"{v} {k}" for k, v in result.counts.items() if v)
        say(f"{step.name}: {result.status} in {fmt_secs(result.duration_s)}"
            + (f" ({counts})" if counts else "") + (f": {result.reason}" if result.reason else ""),
            always=result.status != "passed")

    # processes
    def command(self, result: Result, cmd: list[str], log_name: str | None = None,
                env: dict | None = None) -> int:
        """Runs cmd from the repository root with its output in steps/<name>.log; at the
        budget's end: SIGINT, then SIGTERM, then SIGKILL to its process group."""
        logs = self.out / "steps"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{log_name or result.name}.log"
        result.log = str(log.relative_to(self.out))
        result.command = (result.command + " && " if result.command else "") + shlex.join(cmd)
        with log.open("ab") as f:
            f.write(f"$ {shlex.join(cmd)}\n".encode())
            f.flush()
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, **(env or {})})
            self.current = proc
            try:
                return proc.wait(timeout=max(1.0, self.left() + self.reserve / 2))
            except subprocess.TimeoutExpired:
                say(f"{result.name}: the budget is spent; stopping it (SIGINT)", always=True)
                self._stop(proc)
                raise Budget()
            except KeyboardInterrupt:
                self._stop(proc)
                raise
            finally:
                self.current = None

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        for sig, wait in ((signal.SIGINT, STOP_GRACE), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


def _status_phrase(result: Result) -> str:
    return {"failed": "failed", "stopped": "was stopped", "skipped": "was skipped"}.get(
        result.status, result.status) + (f" ({result.reason})" if result.reason else "")


def _make_hint(step: Step) -> str:
    if step.name.startswith("firmware-"):
        return f"firmware BOARD={step.params['machine']} HW_CRYPTO={step.params['hw']}"
    return " ".join(step.params.get("targets", [step.name]))


# -- step kinds ----------------------------------------------------------------------------

def run_make(run: Run, step: Step, result: Result) -> None:
    rc = run.command(result, ["make", *step.params["targets"]])
    result.status = "passed" if rc == 0 else "failed"
    if rc:
        result.reason = f"make exited {rc}; see {result.log}"


def run_firmware(run: Run, step: Step, result: Result) -> None:
    machine, hw = step.params["machine"], step.params["hw"]
    rc = run.command(result, ["make", "firmware", f"BOARD={machine}", f"HW_CRYPTO={hw}"])
    elf = firmware_elf(machine, hw)
    if rc or not elf.exists():
        result.status, result.reason = "failed", f"make exited {rc}; see {result.log}"
        return
    result.status = "passed"
    try:
        out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True,
                             text=True, timeout=30).stdout.splitlines()
        text, data, bss = (int(x) for x in out[1].split()[:3])
        result.figures.update({"text_bytes": text, "data_bytes": data, "bss_bytes": bss,
                               "flash_bytes": text + data})
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        pass


def run_robot(run: Run, step: Step, result: Result) -> None:
    label = step.params.get("label") or "-".join(step.params["vars"].values())
    out = run.out / "robot"
    out.mkdir(parents=True, exist_ok=True)
    junit = run.out / "junit" / f"robot-{label}.xml"
    junit.parent.mkdir(exist_ok=True)
    output = out / f"output-{label}.xml"
    cmd = [PYTHON, "-m", "robot", "--outputdir", str(out), "--output", output.name,
           "--log", f"log-{label}.html", "--report", "NONE", "--xunit", str(junit),
           "--name", " ".join(step.params["vars"].values()) if not step.params.get("label")
           else f"Smoke {' '.join(step.params['vars'].values())}",
           "--consolecolors", "off", "--consolemarkers", "off"]
    for name, value in step.params["vars"].items():
        cmd += ["-v", f"{name}:{value}"]
    for tag in step.params.get("include", []):
        cmd += ["--include", tag]
    cmd.append("robot/")
    stopped = False
    try:
        rc = run.command(result, cmd)
    except Budget:
        stopped, rc = True, None
    result.artifacts += [str(p.relative_to(run.out)) for p in (output, junit) if p.exists()]
    if not output.exists():
        result.status = "stopped" if stopped else "failed"
        result.reason = f"robot wrote no output.xml (exit {rc}); see {result.log}"
        if stopped:
            raise Budget()
        return
    read_robot_output(run, step, result, output)
    if stopped:
        raise Budget()
    failed = result.counts.get("failed", 0)
    result.status = "failed" if failed or rc not in (0, None) else "passed"
    if rc and not failed:
        result.reason = f"robot exited {rc}; see {result.log}"


def read_robot_output(run: Run, step: Step, result: Result, output: Path) -> None:
    from robot.api import ExecutionResult, ResultVisitor

    class Links(ResultVisitor):
        """Files the Stm32Lab library linked into the log of each failed test."""

        def __init__(self):
            self.test, self.links = None, {}

        def start_test(self, test):
            self.test = test if test.status == "FAIL" else None

        def end_test(self, test):
            self.test = None

        def visit_message(self, msg):
            if self.test is not None and msg.html:
                for href in re.findall(r'href="([^"]+)"', msg.message):
                    self.links.setdefault(_full_name(self.test), []).append(html.unescape(href))

    res = ExecutionResult(str(output))
    links = Links()
    res.visit(links)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for test in res.suite.all_tests:
        tid = f"{step.name}::{_full_name(test)}"
        status = {"PASS": "PASS", "FAIL": "FAIL"}.get(test.status, "SKIP")
        result.tests[tid] = status
        counts[{"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}[status]] += 1
        if status == "FAIL":
            files = collect_failure_files(run, step, test, links.links.get(_full_name(test), []),
                                          output.parent)
            result.failures.append({"id": tid, "message": _first_lines(test.message),
                                    "files": files})
        elif status == "SKIP":
            result.skips.append({"id": tid, "reason": _first_lines(test.message or
                                                                   test.status, 1)})
    result.counts = counts
    result.figures["tests"] = sum(counts.values())
    result.figures["robot_elapsed_s"] = round(res.suite.elapsed_time.total_seconds(), 1)


def _full_name(test) -> str:
    return getattr(test, "full_name", None) or test.longname


def _first_lines(text: str, n: int = 3) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return "\n".join(lines[:n])[:600]


def collect_failure_files(run: Run, step: Step, test, hrefs: list, base: Path) -> list:
    """Copies the files a failed test's log links to (console log, QEMU stderr, pcap, PC
    server log) into failures/<step>/<test>/."""
    dest = run.out / "failures" / step.name / safe(test.name)
    copied, seen = [], set()
    for href in dict.fromkeys(hrefs):
        if "://" in href and not href.startswith("file://"):
            continue
        src = Path(href[len("file://"):]) if href.startswith("file://") else base / href
        if not src.is_file() or src.resolve() in seen:
            continue
        seen.add(src.resolve())
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / src.name
        n = 2
        while target.exists():
            target = dest / f"{src.stem}-{n}{src.suffix}"
            n += 1
        shutil.copy2(src, target)
        copied.append(str(target.relative_to(run.out)))
    return copied


def run_pytest(run: Run, step: Step, result: Result) -> None:
    junit = run.out / "junit" / step.params["junit"]
    junit.parent.mkdir(parents=True, exist_ok=True)
    cmd = [PYTHON, "-m", "pytest", "-q", "-rfEs", f"--junitxml={junit}",
           "-o", "junit_family=xunit1"]   # xunit1 keeps record_property
    if step.params.get("marker"):
        cmd += ["-m", step.params["marker"]]
    # The per-commit suite as `make test` runs it: PYTEST_JOBS processes, a test file each
    # at a time (the Makefile's comment says why); the slow files one by one.
    jobs = int(os.environ.get("PYTEST_JOBS", "2")) if step.params.get("parallel") else 0
    if jobs > 0:
        cmd += ["-n", str(jobs), "--dist", "loadfile"]
    cmd += step.params.get("paths", [])
    stopped = False
    try:
        rc = run.command(result, cmd)
    except Budget:
        stopped, rc = True, None
    if junit.exists():
        result.artifacts.append(str(junit.relative_to(run.out)))
        read_junit(step, result, junit)
    if stopped:
        raise Budget()
    if rc == 5:
        result.status, result.reason = "skipped", "pytest collected no test"
    elif rc == 0:
        result.status = "passed"
    else:
        result.status = "failed"
        if not result.counts.get("failed"):
            result.reason = f"pytest exited {rc}; see {result.log}"


def read_junit(step: Step, result: Result, path: Path) -> None:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        result.reason = f"unreadable {path.name}: {error}"
        return
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    total_time = 0.0
    for case in root.iter("testcase"):
        tid = f"{step.name}::{case.get('classname', '')}::{case.get('name', '')}"
        total_time += float(case.get("time") or 0)
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            result.tests[tid] = "FAIL"
            counts["failed"] += 1
            result.failures.append({"id": tid, "message": _first_lines(
                failure.get("message") or failure.text or ""), "files": []})
        elif skipped is not None:
            result.tests[tid] = "SKIP"
            counts["skipped"] += 1
            result.skips.append({"id": tid, "reason": _first_lines(
                skipped.get("message") or "", 1)})
        else:
            result.tests[tid] = "PASS"
            counts["passed"] += 1
        # record_property("name", number) in a test becomes a figure of this step
        for prop in case.iter("property"):
            try:
                value = float(prop.get("value"))
            except (TypeError, ValueError):
                continue
            result.figures[f"{case.get('name')}.{prop.get('name')}"] = value
    result.counts = counts
    result.figures["tests"] = sum(counts.values())


def run_bench(run: Run, step: Step, result: Result) -> None:
    started = time.time()
    rc = run.command(result, ["make", "bench"])
    dest = run.out / "bench"
    for src in sorted((REPO / "bench").rglob("*")):
        if src.suffix.lower() not in (".json", ".png", ".svg", ".csv") or not src.is_file():
            continue
        if src.stat().st_mtime < started - 1:       # only what this run wrote
            continue
        target = dest / src.relative_to(REPO / "bench")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        result.artifacts.append(str(target.relative_to(run.out)))
        if src.suffix.lower() == ".json":
            try:
                flatten(json.loads(src.read_text()), f"{src.stem}", result.figures)
            except (ValueError, UnicodeDecodeError):
                pass
    result.status = "passed" if rc == 0 else "failed"
    if rc:
        result.reason = f"make bench exited {rc}; see {result.log}"
    elif not result.artifacts:
        result.reason = "make bench wrote no JSON or plot under bench/"


def flatten(value, prefix: str, into: dict, limit: int = 400) -> None:
    if len(into) >= limit:
        return
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        into[prefix] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}", into, limit)
    elif isinstance(value, list) and len(value) <= 50:
        for i, v in enumerate(value):
            flatten(v, f"{prefix}[{i}]", into, limit)


def run_replay(run: Run, step: Step, result: Result) -> None:
    """The launcher twice with the same firmware and seed, then with the next seed; the
    program (tests/baremetal/replay.c) ends its own window of guest time with
    'replay: end', so the console logs must match byte for byte, and differ for the other
    seed (else the check could not fail)."""
    machine, seed = step.params["machine"], step.params["seed"]
    elf = REPO / "tests" / "baremetal" / "build" / "replay.elf"
    if not elf.exists():
        rc = run.command(result, ["make", "-C", "tests/baremetal"])
        if rc or not elf.exists():
            result.status, result.reason = "failed", f"cannot build {elf.name}; see {result.log}"
            return
    dest = run.out / "replay" / machine
    runs = [("a", seed), ("b", seed), ("other-seed", seed + 1)]
    logs = {}
    for label, s in runs:
        log_dir = dest / f"seed-{s}-{label}"
        if log_dir.exists():
            shutil.rmtree(log_dir)
        log_dir.mkdir(parents=True)
        text, error = replay_once(run, result, elf, machine, s, log_dir)
        if error:
            result.status, result.reason = "failed", f"seed {s} ({label}): {error}"
            return
        logs[label] = text
        result.artifacts.append(str((log_dir / "console.log").relative_to(run.out)))
    a, b, other = logs["a"], logs["b"], logs["other-seed"]
    result.figures["window_bytes"] = len(a)
    turns = [int(x) for x in re.findall(rb"slice \d+: (\d+) turns", a)]
    if turns:
        result.figures["loop_turns_per_10ms"] = turns[-1]
    tid = f"{step.name}::same seed twice gives the same console bytes"
    tid2 = f"{step.name}::another seed gives other console bytes"
    result.counts = {"passed": 0, "failed": 0, "skipped": 0}
    if a == b:
        result.tests[tid] = "PASS"
        result.counts["passed"] += 1
    else:
        result.tests[tid] = "FAIL"
        result.counts["failed"] += 1
        result.failures.append({"id": tid, "message": first_difference(a, b), "files":
                                result.artifacts[:2]})
    if other != a:
        result.tests[tid2] = "PASS"
        result.counts["passed"] += 1
    else:
        result.tests[tid2] = "FAIL"
        result.counts["failed"] += 1
        result.failures.append({"id": tid2, "message": f"seeds {seed} and {seed + 1} printed "
                                "the same bytes: the check cannot tell runs apart",
                                "files": result.artifacts})
    result.status = "failed" if result.counts["failed"] else "passed"


def replay_once(run: Run, result: Result, elf: Path, machine: str, seed: int,
                log_dir: Path) -> tuple[bytes, str]:
    cmd = [PYTHON, "host_tools/board.py", "--firmware", str(elf), "--machine", machine,
           "--deterministic", "--seed", str(seed), "--log-dir", str(log_dir), "-q"]
    steps_dir = run.out / "steps"
    steps_dir.mkdir(parents=True, exist_ok=True)
    result.log = str((steps_dir / f"{result.name}.log").relative_to(run.out))
    result.command = shlex.join(cmd)
    console = log_dir / "console.log"
    with (steps_dir / f"{result.name}.log").open("ab") as f:
        f.write(f"$ {shlex.join(cmd)}\n".encode())
        f.flush()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        t_end = time.monotonic() + min(REPLAY_WALL_TIMEOUT, max(5.0, run.left()))
        ended = False
        try:
            while time.monotonic() < t_end and proc.poll() is None:
                if console.exists() and re.search(rb"replay: end after \d+ ms\r?\n",
                                                  console.read_bytes()):
                    ended = True
                    break
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)     # the launcher's Ctrl-C: QEMU quits
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    Run._stop(proc)
    text = console.read_bytes() if console.exists() else b""
    if not ended:
        if proc.returncode not in (0, None, -signal.SIGINT):
            return text, f"the launcher exited {proc.returncode}; see {result.log}"
        return text, (f"no 'replay: end' on the console within {REPLAY_WALL_TIMEOUT:.0f} s; "
                      f"it printed {len(text)} bytes")
    return text, ""


def first_difference(a: bytes, b: bytes) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1} differs: {x[:120]!r} vs {y[:120]!r}"
    return f"one log is longer: {len(a)} vs {len(b)} bytes"


# -- reports ---------------------------------------------------------------------------------

def rebot(out: Path, outputs: list[Path], name: str) -> str:
    """Merges Robot outputs into robot/output.xml, log.html, report.html; '' or an error."""
    if not outputs:
        return "no Robot output to merge"
    robot_dir = out / "robot"
    robot_dir.mkdir(parents=True, exist_ok=True)
    cmd = [PYTHON, "-m", "robot.rebot", "--outputdir", str(robot_dir), "--output",
           "output.xml", "--log", "log.html", "--report", "report.html", "--name", name,
           *[str(p) for p in outputs]]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    # rebot's exit status is the number of failed tests; only a missing file is an error
    if not (robot_dir / "report.html").exists():
        return f"rebot failed ({proc.returncode}): {proc.stderr.strip()[-400:]}"
    return ""


def git_info() -> dict:
    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def host_info() -> dict:
    info = {"hostname": socket.gethostname(), "cpus": os.cpu_count(),
            "python": platform.python_version()}
    try:
        info["load_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    q = qemu_path()
    if q and q.exists():
        try:
            info["qemu"] = subprocess.run([str(q), "--version"], capture_output=True,
                                          text=True, timeout=30).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            pass
    return info


def summarize(meta: dict, results: list[Result], previous: dict | None) -> dict:
    steps = [asdict(r) for r in results]
    figures, tests = {}, {}
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for r in results:
        for k, v in r.figures.items():
            figures[f"{r.name}.{k}"] = v
        if r.duration_s is not None and r.status in ("passed", "failed"):
            figures[f"{r.name}.duration_s"] = r.duration_s
        tests.update(r.tests)
        for k in totals:
            totals[k] += r.counts.get(k, 0)
    for k, v in totals.items():
        figures[f"total.tests_{k}"] = v
    failed = [r.name for r in results if r.status == "failed"]
    summary = {**meta, "format": FORMAT, "status": "failed" if failed else "passed",
               "totals": totals, "steps": steps, "figures": figures, "tests": tests}
    if previous:
        summary["comparison"] = compare(previous, summary)
    return summary


def compare(prev: dict, now: dict) -> dict:
    """How the night moved against the previous one: step status changes, tests newly
    failing or fixed (among steps that ran both nights), and every common figure."""
    prev_steps = {s["name"]: s for s in prev.get("steps", [])}
    ran = {"passed", "failed", "stopped"}
    steps = []
    for s in now.get("steps", []):
        p = prev_steps.get(s["name"])
        if p and p["status"] != s["status"]:
            steps.append({"name": s["name"], "was": p["status"], "now": s["status"]})
    both = {s["name"] for s in now.get("steps", []) if s["status"] in ran} & \
        {n for n, s in prev_steps.items() if s["status"] in ran}
    pt, nt = prev.get("tests", {}), now.get("tests", {})
    mine = lambda tid: tid.split("::", 1)[0] in both      # noqa: E731
    newly_failing = sorted(t for t, st in nt.items() if st == "FAIL" and mine(t)
                           and pt.get(t) != "FAIL")
    fixed = sorted(t for t, st in nt.items() if st == "PASS" and pt.get(t) == "FAIL")
    new = sorted(t for t in nt if mine(t) and t not in pt)
    gone = sorted(t for t in pt if mine(t) and t not in nt)
    figures = []
    pf, nf = prev.get("figures", {}), now.get("figures", {})
    for key in sorted(set(pf) & set(nf)):
        a, b = pf[key], nf[key]
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            continue
        pct = None if a == 0 else round((b - a) * 100.0 / abs(a), 1)
        figures.append({"figure": key, "was": a, "now": b, "change": round(b - a, 3),
                        "percent": pct})
    return {"previous": {"started": prev.get("started"), "commit":
                         prev.get("git", {}).get("commit"), "status": prev.get("status")},
            "steps": steps, "newly_failing": newly_failing, "fixed": fixed,
            "new_tests": new, "gone_tests": gone, "figures": figures,
            "new_figures": sorted(set(nf) - set(pf)), "gone_figures": sorted(set(pf) - set(nf))}


class Doc:
    """A small document model rendered to Markdown and to HTML (one source, two pages)."""

    def __init__(self):
        self.blocks = []

    def h(self, level, text):
        self.blocks.append(("h", level, text))

    def p(self, text):
        self.blocks.append(("p", text))

    def ul(self, items):
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, head, rows):
        if rows:
            self.blocks.append(("table", head, rows))

    @staticmethod
    def _md(cell) -> str:
        if isinstance(cell, Link):
            return f"[{cell.text}]({cell.href})"
        return str(cell).replace("|", "\\|").replace("\n", "<br>")

    @staticmethod
    def _html(cell) -> str:
        if isinstance(cell, Link):
            return f'<a href="{html.escape(cell.href)}">{html.escape(cell.text)}</a>'
        if isinstance(cell, Status):
            return f'<span class="{cell.status.replace(" ", "-")}">{html.escape(cell.text)}</span>'
        return _inline_html(str(cell)).replace("\n", "<br>")

    def markdown(self) -> str:
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + _plain(b[2]))
            elif b[0] == "p":
                out.append(_inline_md(b[1]))
            elif b[0] == "ul":
                out.append("\n".join(f"- {_inline_md(i)}" for i in b[1]))
            else:
                out.append("| " + " | ".join(b[1]) + " |\n|" + "---|" * len(b[1]))
                out[-1] += "".join("\n| " + " | ".join(self._md(c) for c in row) + " |"
                                   for row in b[2])
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        body = []
        for b in self.blocks:
            if b[0] == "h":
                body.append(f"<h{b[1]}>{_inline_html(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                body.append(f"<p>{_inline_html(b[1])}</p>")
            elif b[0] == "ul":
                body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b[1])
                            + "</ul>")
            else:
                rows = "".join("<tr>" + "".join(f"<td>{self._html(c)}</td>" for c in row)
                               + "</tr>" for row in b[2])
                body.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
                            + f"</tr>{rows}</table>")
        style = ("body{font-family:sans-serif;max-width:72em;margin:1em auto;padding:0 1em}"
                 "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
                 "padding:.2em .5em;text-align:left;vertical-align:top;font-size:90%}"
                 "td:first-child{white-space:nowrap}th{background:#eee}.passed{color:#070}"
                 ".failed{color:#b00;font-weight:bold}"
                 ".stopped{color:#a60}.skipped,.not-run{color:#666}code{background:#f4f4f4}")
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
                f"{html.escape(title)}</title><style>{style}</style></head><body>\n"
                + "\n".join(body) + "\n</body></html>\n")


@dataclass
class Link:
    text: str
    href: str

    def __str__(self):
        return self.text


@dataclass
class Status:
    status: str
    text: str

    def __str__(self):
        return self.text


def _plain(x) -> str:
    return x.text if isinstance(x, (Link, Status)) else str(x)


def _inline_md(x) -> str:
    if isinstance(x, list):
        return "".join(_inline_md(i) for i in x)
    if isinstance(x, Link):
        return f"[{x.text}]({x.href})"
    return str(x)


def _inline_html(x) -> str:
    if isinstance(x, list):
        return "".join(_inline_html(i) for i in x)
    if isinstance(x, (Link, Status)):
        return Doc._html(x)
    # `code` spans from the Markdown text
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(x)))


def _num(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.1f}"
    return f"{int(v):,}"


def render(summary: dict, out: Path) -> Doc:
    doc = Doc()
    started = summary["started"][:16].replace("T", " ")
    doc.h(1, f"Nightly {started} UTC: {summary['status'].upper()}")
    g, host = summary.get("git", {}), summary.get("host", {})
    t = summary["totals"]
    doc.p(f"Commit `{(g.get('commit') or '?')[:12]}` ({g.get('branch', '?')}"
          f"{', with uncommitted changes' if g.get('dirty') else ''}) on "
          f"{host.get('hostname', '?')} ({host.get('cpus', '?')} CPUs, "
          f"load {host.get('load_at_start', '?')} at start); "
          f"{host.get('qemu', 'QEMU not built')}.")
    doc.p(f"Budget {summary['budget_min']:g} min, ran {fmt_secs(summary['elapsed_s'])}. "
          f"Tests: {t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped. "
          f"Selection: {summary.get('selection') or 'the default plan'}.")
    links = []
    if (out / "robot" / "report.html").exists():
        links += [Link("Robot report", "robot/report.html"), " · ",
                  Link("Robot log", "robot/log.html"), " · "]
    if (out / "junit").exists():
        links += [Link("JUnit/xUnit files", "junit/"), " · "]
    if (out / "failures").exists():
        links += [Link("failure logs and pcaps", "failures/"), " · "]
    if (out / "bench").exists():
        links += [Link("bench results", "bench/"), " · "]
    links += [Link("summary.json", "summary.json"), " · ", Link("nightly.log", "nightly.log")]
    doc.p(links)
    if summary.get("notes"):
        doc.ul(summary["notes"])

    doc.h(2, "Steps")
    rows = []
    for s in summary["steps"]:
        c = s.get("counts") or {}
        tests = f"{c.get('passed', 0)} / {c.get('failed', 0)} / {c.get('skipped', 0)}" if c else ""
        rows.append([s["name"], Status(s["status"], s["status"]),
                     fmt_secs(s["duration_s"]), fmt_secs(s["estimate_s"]), tests,
                     Link("log", s["log"]) if s.get("log") else "",
                     s.get("reason") or ""])
    doc.table(["step", "status", "took", "estimate", "tests pass / fail / skip", "output",
               "note"], rows)

    failures = [(s["name"], f) for s in summary["steps"] for f in s.get("failures", [])]
    doc.h(2, f"Failed ({len(failures)} tests, "
             f"{sum(1 for s in summary['steps'] if s['status'] == 'failed')} steps)")
    if not failures and summary["status"] == "passed":
        doc.p("Nothing failed.")
    doc.ul([[f"`{f['id']}`: {f['message'].splitlines()[0] if f['message'] else ''}"]
            + sum(([" ", Link(Path(p).name, p)] for p in f.get("files", [])), [])
            for _, f in failures[:80]])
    for s in summary["steps"]:
        if s["status"] == "failed" and not s.get("failures"):
            doc.ul([f"step `{s['name']}`: {s.get('reason') or 'failed'}"])

    doc.h(2, "Skipped and why")
    not_run = [s for s in summary["steps"] if s["status"] == "skipped"]
    doc.ul([f"`{s['name']}` ({s['title']}): {s['reason']}" for s in not_run])
    groups: dict = {}
    for name, why in summary.get("not_selected", []):
        groups.setdefault(why, []).append(name)
    doc.ul([f"{why}: " + ", ".join(f"`{n}`" for n in names) for why, names in groups.items()])
    if summary.get("unavailable"):
        doc.p("Long checks and boards this tree does not have yet:")
        doc.ul([f"`{n}`: {why}" for n, why in summary["unavailable"]])
    by_reason: dict = {}
    for s in summary["steps"]:
        for k in s.get("skips", []):
            by_reason.setdefault(k["reason"] or "(no reason given)", []).append(k["id"])
    if by_reason:
        doc.p("Skipped tests, by reason:")
        doc.ul([f"{len(ids)} × {reason} (e.g. `{ids[0]}`)" for reason, ids in
                sorted(by_reason.items(), key=lambda x: -len(x[1]))])
    if not not_run and not by_reason:
        doc.p("Nothing skipped.")

    cmp_ = summary.get("comparison")
    doc.h(2, "Against the previous night")
    if not cmp_:
        doc.p("No previous summary given (`--previous DIR|FILE`).")
    else:
        p = cmp_["previous"]
        doc.p(f"Previous: {(p.get('started') or '?')[:16]}, commit "
              f"`{(p.get('commit') or '?')[:12]}`, {p.get('status')}.")
        doc.ul([f"step `{c['name']}`: {c['was']} → {c['now']}" for c in cmp_["steps"]])
        doc.ul([f"newly failing: `{t}`" for t in cmp_["newly_failing"][:40]])
        doc.ul([f"fixed: `{t}`" for t in cmp_["fixed"][:40]])
        if cmp_["new_tests"] or cmp_["gone_tests"]:
            doc.p(f"{len(cmp_['new_tests'])} new tests, {len(cmp_['gone_tests'])} gone "
                  "(among steps that ran both nights).")
        moved = sorted(cmp_["figures"], key=lambda f: -abs(f["percent"] or 0))
        doc.table(["figure", "previous", "now", "change"],
                  [[f["figure"], _num(f["was"]), _num(f["now"]),
                    (f"{f['change']:+,g}" + (f" ({f['percent']:+.1f}%)" if f["percent"] is not None
                                            else "")) if f["change"] else "same"]
                   for f in moved[:FIGURE_ROWS]])
        if len(moved) > FIGURE_ROWS:
            doc.p(f"{len(moved) - FIGURE_ROWS} more figures in summary.json. ")
        doc.p("Durations are wall time on a shared machine and move with its load; test "
              "counts, sizes and guest-instruction figures do not.")

    figs = summary["figures"]
    if cmp_:     # the common figures are in the comparison above
        figs = {k: v for k, v in figs.items() if k in set(cmp_["new_figures"])}
    doc.h(2, "New figures" if cmp_ else "Figures")
    doc.table(["figure", "value"], [[k, _num(v)] for k, v in list(figs.items())[:FIGURE_ROWS]])
    if not figs:
        doc.p("None.")
    if len(figs) > FIGURE_ROWS:
        doc.p(f"{len(figs) - FIGURE_ROWS} more in summary.json.")
    return doc


def write_reports(out: Path, summary: dict) -> None:
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    doc = render(summary, out)
    (out / "summary.md").write_text(doc.markdown())
    (out / "summary.html").write_text(doc.html(f"Nightly {summary['started'][:16]}"))


def load_previous(spec: str | None, exclude: Path | None = None) -> dict | None:
    """A summary.json, a run directory, or a directory of runs (the newest other run)."""
    if not spec:
        return None
    path = Path(spec)
    if path.is_dir() and not (path / "summary.json").exists():
        runs = sorted((p for p in path.iterdir() if (p / "summary.json").exists()
                       and not p.is_symlink() and (exclude is None or p.resolve()
                                                   != exclude.resolve())),
                      key=lambda p: p.name)
        if not runs:
            raise SystemExit(f"nightly: no previous summary under {path}")
        path = runs[-1]
    if path.is_dir():
        path = path / "summary.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"nightly: cannot read the previous summary {path}: {error}")
    if data.get("format") != FORMAT:
        raise SystemExit(f"nightly: {path} is not a nightly summary (format {FORMAT})")
    data["steps_by_name"] = {s["name"]: s for s in data.get("steps", [])}
    data["_path"] = str(path)
    return data


# -- main ------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nightly.py", description="The nightly run: the whole matrix, the long checks, "
        "one report (see the module docstring or README.md, 'make nightly').")
    p.add_argument("--budget", type=float, default=60.0, metavar="MINUTES",
                   help="stop starting steps that do not fit, and stop a running one, after "
                        "this many minutes (default %(default)g)")
    p.add_argument("--only", default="", metavar="SEL,...",
                   help="run only steps whose name matches a pattern (robot-F439-*) or that "
                        "carry a tag (smoke, robot, long, slow, bench, replay, pytest, F439, "
                        "SW, ECDSA); their builds come along")
    p.add_argument("--skip", default="", metavar="SEL,...", help="leave these steps out")
    p.add_argument("--previous", metavar="DIR|FILE",
                   help="compare with this summary.json, run directory, or the newest run "
                        "in this directory (e.g. results/nightly)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="output directory (default results/nightly/<UTC timestamp>)")
    p.add_argument("--no-build", action="store_true",
                   help="use what is built; skip steps whose builds are missing")
    p.add_argument("--seed", type=int, default=1, metavar="N",
                   help="RNG seed of the --deterministic replay (and N+1 for the control run)")
    p.add_argument("--list", action="store_true", help="print the plan and exit")
    p.add_argument("--matrix", action="store_true",
                   help="print the CI matrix (JSON: one entry per board and variant, one "
                        "for the long checks) and exit")
    p.add_argument("--merge", nargs="+", type=Path, metavar="RUN_DIR",
                   help="merge finished runs (e.g. CI matrix jobs) into one report in --out")
    p.add_argument("-q", "--quiet", action="store_true", help="only failures and the end")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.only = [s for s in args.only.split(",") if s.strip()]
    args.skip = [s for s in args.skip.split(",") if s.strip()]
    say.quiet = args.quiet
    if args.budget < 0:
        print("nightly: --budget must be >= 0", file=sys.stderr)
        return 2
    if args.matrix:
        tree = discover_tree()
        jobs = [{"name": f"{b}-{v}", "only": f"robot-{b}-{v}-*"}
                for b, m in tree.boards.items() if m in tree.firmware_boards
                for v in tree.variants]
        jobs.append({"name": "checks", "only": "long,pytest"})
        print(json.dumps({"include": jobs}))
        return 0
    if args.merge:
        return merge(args)

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%SZ")
    out = (args.out or DEFAULT_ROOT / stamp).resolve()
    previous = load_previous(args.previous, exclude=out)

    tree = discover_tree()
    markers = pytest_markers()
    slow_files, slow_note = slow_test_files() if "slow" in markers else ({}, "")
    has_bench = make_has_target("bench")
    steps = build_steps(tree, args, markers, slow_files, slow_note, has_bench)
    unknown = [s for s in args.only + args.skip if not any(st.matches(s) for st in steps)]
    if unknown:
        print(f"nightly: no step matches {', '.join(unknown)}; steps: "
              f"{', '.join(s.name for s in steps)}", file=sys.stderr)
        return 2
    run = Run(args, out, steps, previous)

    if args.list:
        print(f"{'step':28} {'prio':>4} {'estimate':>9}  plan")
        planned = {s.name for s in run.plan()}
        for s in run.order:
            why = s.unavailable or ("" if s.name in planned else
                                    (run.selected(s) or "built when a step needs it"))
            print(f"{s.name:28} {s.priority:4} {fmt_secs(run.estimate(s)):>9}  "
                  f"{'run' if not why else why}")
        return 0

    if (out / "summary.json").exists() or (out / "nightly.log").exists():
        print(f"nightly: {out} already holds a run; choose another --out or remove it",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    say.open(out / "nightly.log")
    if args.out is None:
        latest = DEFAULT_ROOT / "latest"
        try:
            if latest.is_symlink() or not latest.exists():
                latest.unlink(missing_ok=True)
                latest.symlink_to(out.name)
        except OSError:
            pass
    say(f"nightly: {out} (budget {args.budget:g} min"
        + (f", previous {previous['_path']}" if previous else "") + ")", always=True)
    for note in tree.notes:
        say(f"note: {note}")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        run.execute()
    except KeyboardInterrupt:
        run.interrupted = True
        say("interrupted: writing the report of what ran", always=True)

    results = [run.results[s.name] for s in run.order if s.name in run.results]
    not_selected = [(s.name, run.selected(s)) for s in run.order
                    if s.name not in run.results and "build" not in s.tags
                    and not s.unavailable]
    unavailable = [(s.name, s.unavailable) for s in run.order
                   if s.unavailable and s.name not in run.results]
    outputs = sorted((out / "robot").glob("output-*.xml"))
    notes = list(tree.notes)
    if outputs:
        error = rebot(out, outputs, f"Nightly {stamp}")
        if error:
            notes.append(error)
    meta = {"started": run.started.isoformat(timespec="seconds"),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "budget_min": args.budget, "elapsed_s": round(time.monotonic() - run.t0, 1),
            "selection": " ".join(filter(None, [
                f"--only {','.join(args.only)}" if args.only else "",
                f"--skip {','.join(args.skip)}" if args.skip else "",
                "--no-build" if args.no_build else ""])),
            "git": git_info(), "host": host_info(), "notes": notes,
            "not_selected": not_selected, "unavailable": unavailable, "out": str(out)}
    summary = summarize(meta, results, previous)
    write_reports(out, summary)
    print_end(summary, out)
    return 1 if summary["status"] == "failed" else 0


def print_end(summary: dict, out: Path) -> None:
    t = summary["totals"]
    say(f"nightly: {summary['status'].upper()}: {t['passed']} tests passed, {t['failed']} "
        f"failed, {t['skipped']} skipped in {fmt_secs(summary['elapsed_s'])}", always=True)
    for s in summary["steps"]:
        if s["status"] != "passed":
            say(f"  {s['name']}: {s['status']}" + (f": {s['reason']}" if s["reason"] else ""),
                always=True)
    say(f"summary: {out / 'summary.html'} (and summary.md, summary.json)", always=True)
    if (out / "robot" / "report.html").exists():
        say(f"robot:   {out / 'robot' / 'report.html'}", always=True)


def merge(args) -> int:
    """One report from several finished runs (the CI matrix jobs): their files side by
    side, every Robot output merged again, one summary."""
    if args.out is None:
        print("nightly: --merge needs --out DIR", file=sys.stderr)
        return 2
    out = args.out.resolve()
    if (out / "summary.json").exists():
        print(f"nightly: {out} already holds a run; choose another --out or remove it",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    say.open(out / "nightly.log")
    results, seen, notes, summaries = [], set(), [], []
    for run_dir in args.merge:
        path = run_dir / "summary.json"
        if not path.exists():
            notes.append(f"{run_dir}: no summary.json (the job died before its report)")
            continue
        data = json.loads(path.read_text())
        summaries.append(data)
        for sub in ("robot", "junit", "failures", "replay", "bench", "steps"):
            if (run_dir / sub).is_dir():
                shutil.copytree(run_dir / sub, out / sub, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("output.xml", "log.html",
                                                              "report.html"))
        for s in data.get("steps", []):
            if s["name"] in seen:       # builds repeat in every job: keep the first
                continue
            seen.add(s["name"])
            fields = Result.__dataclass_fields__
            results.append(Result(**{k: v for k, v in s.items() if k in fields}))
        notes += data.get("notes", [])
    if not summaries:
        print("nightly: nothing to merge", file=sys.stderr)
        return 2
    previous = load_previous(args.previous, exclude=out)
    outputs = sorted((out / "robot").glob("output-*.xml"))
    if outputs:
        error = rebot(out, outputs, "Nightly")
        if error:
            notes.append(error)
    first = min(summaries, key=lambda d: d["started"])
    meta = {"started": first["started"],
            "finished": max(d["finished"] for d in summaries),
            "budget_min": max(d["budget_min"] for d in summaries),
            "elapsed_s": max(d["elapsed_s"] for d in summaries),
            "selection": f"merged from {len(summaries)} runs",
            "git": first.get("git", {}), "host": first.get("host", {}),
            "notes": sorted(set(notes)), "not_selected": [],
            "unavailable": sorted({tuple(u) for d in summaries
                                   for u in d.get("unavailable", [])}),
            "out": str(out)}
    summary = summarize(meta, results, previous)
    write_reports(out, summary)
    print_end(summary, out)
    return 1 if summary["status"] == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
