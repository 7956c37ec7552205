"""The Robot Framework library (robot/libraries/Stm32Lab.py) and suites, checked from pytest.

Libdoc must build and document every keyword; the front page's example must run as
written; the suites must parse (robot --dryrun); a suite that fails half-way without any
teardown must still leave no emulator process and no listening PC server behind; and the
keywords must fail with a clear message when used in the wrong order.
"""

import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

robot = pytest.importorskip("robot", reason="pip install robotframework")
from robot.api import ExecutionResult  # noqa: E402
from robot.libdocpkg import LibraryDocumentation  # noqa: E402

TOP = Path(__file__).resolve().parent.parent
LIBRARY = TOP / "robot" / "libraries" / "Stm32Lab.py"
sys.path.insert(0, str(LIBRARY.parent))
import Stm32Lab as stm32lab  # noqa: E402

KEYWORDS = {
    "Create Board", "Start Emulation", "Reset Emulation", "Clean Up Lab",
    "Create Terminal Tester", "Wait For Line On Uart", "Wait For Prompt On Uart",
    "Write Line To Uart", "Write Char On Uart", "Execute Python Command",
    "Execute Python Code", "Get Uart Lines", "Get LED State", "LED Should Be On",
    "LED Should Be Off", "Wait For LED State", "LED Should Be Blinking", "Set Ethernet Link",
    "Get Forwarded Port", "Fetch Board Page", "Fetch Page", "Ensure Test PKI",
    "Start PC SSL Server", "Stop PC SSL Server", "Get PC SSL Server Connections",
    "PC SSL Server Should Have Seen Request", "Collect Board Logs",
    # Renode's keywords that were missing
    "Wait For Next Line On Uart", "Should Not Be On Uart", "Test If Uart Is Idle",
    "Set Default Uart Timeout", "Set Default Tester", "Write To Uart", "Create LED Tester",
    "Assert LED State", "Assert LED Is Blinking", "Provides", "Requires",
    # push-buttons (Renode's monitor calls them Press/Release/PressAndRelease) and the LCD
    "Press Button", "Release Button", "Click Button", "Capture LCD",
    # the Nucleo's names come from the lab's DNS resolver
    "Start Lab DNS", "Stop Lab DNS",
}


def run_robot(suite: Path, outdir: Path, **options) -> ExecutionResult:
    """Run a suite in this process (so a leaked QEMU child would still be alive here:
    in a separate robot process, QEMU's parent-death signal would hide the leak)."""
    rc = robot.run(str(suite), outputdir=str(outdir), stdout=io.StringIO(),
                   stderr=io.StringIO(), report="NONE", log="NONE", **options)
    assert rc >= 0
    return ExecutionResult(str(outdir / "output.xml"))


def messages(item):
    for child in [*getattr(item, "suites", []), *getattr(item, "tests", [])]:
        yield from messages(child)
    for step in getattr(item, "body", []):
        if type(step).__name__ == "Message":
            yield step.message
        yield from messages(step)
    for fixture in ("setup", "teardown"):
        if getattr(item, fixture, None):
            yield from messages(getattr(item, fixture))


def test_libdoc_documents_every_keyword(tmp_path):
    doc = LibraryDocumentation(str(LIBRARY))
    names = {kw.name for kw in doc.keywords}
    assert KEYWORDS <= names, f"missing: {KEYWORDS - names}"
    assert names <= KEYWORDS, f"undocumented here: {names - KEYWORDS}"
    undocumented = [kw.name for kw in doc.keywords if len(kw.doc.strip()) < 40]
    assert not undocumented
    assert doc.scope == "SUITE"
    assert "= Example =" in doc.doc and "%TOC%" in doc.doc
    out = tmp_path / "Stm32Lab.html"
    rc = subprocess.run([sys.executable, "-m", "robot.libdoc", str(LIBRARY), str(out)],
                        capture_output=True, text=True)
    assert rc.returncode == 0, rc.stderr
    assert "Wait For Line On Uart" in out.read_text()


def test_timeouts_are_robot_time_strings():
    doc = LibraryDocumentation(str(LIBRARY))
    for kw in doc.keywords:
        for arg in kw.args:
            if arg.name in ("timeout", "within"):
                assert "timedelta" in str(arg.type), f"{kw.name}: {arg.name} is {arg.type}"


def test_suites_and_resources_parse(tmp_path):
    result = subprocess.run([sys.executable, "-m", "robot", "--dryrun", "--outputdir",
                             str(tmp_path), "--log", "NONE", "--report", "NONE",
                             str(TOP / "robot")], capture_output=True, text=True, cwd=TOP)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("content, regex, line, matches", [
    ("SYSCLK", False, "clock: SYSCLK 168000000 Hz", True),
    ("(HSE 25 MHz)", False, "from PLL (HSE 25 MHz)", True),
    (r"SYSCLK \d+ Hz", True, "clock: SYSCLK 168000000 Hz from PLL", True),
    (r"^clock:", True, "clock: SYSCLK", True),
    (r"^SYSCLK", True, "clock: SYSCLK", False),
    (r"MHz\)$", True, "from PLL (HSE 25 MHz)", True),
    (r"PLL$", True, "from PLL (HSE 25 MHz)", False),
])
def test_line_patterns_match_whole_lines(content, regex, line, matches):
    pattern = stm32lab._line_pattern(content, regex)
    found = pattern.search(f"before\r\n{line}\r\nafter\r\n")
    assert bool(found) == matches
    if found:
        assert found.group(0) == line


def test_unknown_board_variant_and_cert_kind_are_refused():
    for option, value, hint in (("board", "F999", "F417"), ("firmware_variant", "FAST", "HW"),
                                ("cert_kind", "DSA", "ECDSA")):
        with pytest.raises(AssertionError, match=hint):
            stm32lab.Stm32Lab(**{option: value})


def test_keywords_need_a_board_and_say_so():
    lab = stm32lab.Stm32Lab()
    with pytest.raises(AssertionError, match="No board is running; start one with Create"):
        lab.wait_for_line_on_uart("anything")
    with pytest.raises(AssertionError, match="No board is running"):
        lab.led_should_be_on("LED4")
    with pytest.raises(AssertionError, match="No PC SSL server runs for port 443"):
        lab.pc_ssl_server_should_have_seen_request()
    lab.clean_up_lab()      # nothing started: nothing to do, no error


def test_front_page_example_runs_as_written(tmp_path, qemu, hello_elf, monkeypatch):
    doc = stm32lab.Stm32Lab.__doc__
    block = doc.split("= Example =", 1)[1].split("Save it as", 1)[0]
    lines = [re.sub(r"^\s*\| ?", "", line) for line in block.splitlines()
             if line.strip().startswith("|")]
    suite = tmp_path / "example.robot"
    suite.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(TOP)   # the example's paths are relative to the repository root
    result = run_robot(suite, tmp_path / "out", pythonpath=str(TOP))
    stats = result.statistics.total
    assert (stats.passed, stats.failed) == (1, 0), [t.message for t in result.suite.tests]


FAILING_SUITE = """\
*** Settings ***
Library    {library}

*** Test Cases ***
Fails Half-Way With A Board And A Server Running
    Create Board    firmware={firmware}
    Start PC SSL Server
    Start Emulation
    Wait For Line On Uart    hello from stm324xg-eval
    Wait For Line On Uart    this never comes    timeout=0.3 s
"""


def test_a_failing_suite_without_teardown_leaves_nothing_running(tmp_path, qemu, hello_elf,
                                                                 monkeypatch):
    monkeypatch.setenv("STM32LAB_CERTS", str(tmp_path / "pki"))
    suite = tmp_path / "failing.robot"
    suite.write_text(FAILING_SUITE.format(library=LIBRARY, firmware=hello_elf))
    result = run_robot(suite, tmp_path / "out")
    test = result.suite.tests[0]
    assert test.status == "FAIL"
    assert "Expected a line containing 'this never comes'" in test.message
    assert "Last console lines:\n    hello from stm324xg-eval" in test.message
    logged = "\n".join(messages(result.suite))
    pid = int(re.search(r"QEMU pid (\d+)", logged).group(1))
    port = int(re.search(r"PC SSL server on 127\.0\.0\.1:(\d+)", logged).group(1))
    assert not Path(f"/proc/{pid}").exists(), f"QEMU pid {pid} still exists"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert (tmp_path / "out" / "stm32lab-logs").is_dir()


# ---- Renode compatibility -------------------------------------------------------------------

# Renode 1.16's keyword signatures (src/Renode/RobotFrameworkEngine/*.cs, as listed in
# ../shared/reference/renode-facts.md): the leading positional arguments, in order
RENODE_SIGNATURES = {
    "Create Terminal Tester": ["uart", "timeout", "machine", "endLineOption",
                               "defaultPauseEmulation", "defaultWaitForEcho",
                               "defaultMatchNextLine", "binaryMode"],
    "Wait For Line On Uart": ["content", "timeout", "testerId", "treatAsRegex",
                              "includeUnfinishedLine", "pauseEmulation", "matchNextLine"],
    "Wait For Prompt On Uart": ["prompt", "testerId", "timeout", "treatAsRegex",
                                "pauseEmulation"],
    "Write Line To Uart": ["content", "testerId", "waitForEcho", "pauseEmulation"],
    "Create LED Tester": ["led", "defaultTimeout", "machine"],
    "Assert LED State": ["state", "timeout", "testerId", "pauseEmulation"],
    "Assert LED Is Blinking": ["testDuration", "onDuration", "offDuration", "tolerance",
                               "testerId", "pauseEmulation"],
    "Provides": ["state", "type"],
    "Requires": ["state"],
}


@pytest.mark.parametrize("name", sorted(RENODE_SIGNATURES))
def test_keywords_take_renodes_arguments_in_renodes_order(name):
    doc = LibraryDocumentation(str(LIBRARY))
    kw = next(k for k in doc.keywords if k.name == name)
    positional = [a.name for a in kw.args if a.kind in ("POSITIONAL_OR_NAMED",
                                                        "POSITIONAL_ONLY")]
    want = RENODE_SIGNATURES[name]
    assert positional[:len(want)] == want, positional
    defaults = {a.name: a.default for a in kw.args}
    if name == "Write Line To Uart":
        assert defaults["waitForEcho"] is None      # None: the tester's default, true
    if name == "Assert LED Is Blinking":
        assert defaults["tolerance"] == 0.05


@pytest.mark.parametrize("content, regex, unfinished, nxt, text, line", [
    ("ok", False, False, False, "a\r\nnot ok\r\n", "not ok"),
    ("ok", False, False, False, "a\r\nnot ok", None),           # no line end yet
    ("ok", False, True, False, "a\r\nnot ok", "not ok"),        # includeUnfinishedLine
    ("ok", False, False, True, "\r\nfirst\r\nnot ok\r\n", None),  # matchNextLine: 'first'
    ("fir", False, False, True, "\r\nfirst\r\nnot ok\r\n", "first"),
    (r"(\d+) of (\d+)", True, False, False, "x\r\n3 of 7\r\n", "3 of 7"),
])
def test_line_pattern_options(content, regex, unfinished, nxt, text, line):
    m = stm32lab._line_pattern(content, regex, unfinished, nxt).search(text)
    assert (m.group("line") if m else None) == line


def test_results_are_strings_with_renodes_attributes():
    r = stm32lab.UartResult("3 of 7", ("3", "7"), 1.5)
    assert r == "3 of 7" and "of" in r
    assert (r.Line, r.Groups, r.Timestamp) == ("3 of 7", ["3", "7"], 1.5)


RENODE_STYLE_SUITE = """\
*** Settings ***
Library           {library}
Suite Teardown    Clean Up Lab

*** Test Cases ***
Terminal Tester With Renode Arguments And Results
    Create Board    firmware={firmware}
    ${{id}}=    Create Terminal Tester    sysbus.usart3    timeout=10
    Should Be Equal As Integers    ${{id}}    0
    Start Emulation
    ${{r}}=    Wait For Line On Uart    ^clock: SYSCLK (\\\\d+) Hz from (\\\\w+)    testerId=${{id}}    treatAsRegex=true
    Should Be Equal    ${{r.Groups[0]}}    168000000
    Should Be Equal    ${{r.Groups[1]}}    PLL
    Should Start With    ${{r.Line}}    clock: SYSCLK
    Write Line To Uart    hello renode    ${{id}}
    Write Line To Uart    second line    testerId=${{id}}    waitForEcho=false
    ${{n}}=    Wait For Next Line On Uart    testerId=${{id}}
    Should Be Equal    ${{n.Line}}    second line
    Should Not Be On Uart    Traceback    timeout=0.5    testerId=${{id}}
    Test If Uart Is Idle    0.5
    Write Line To Uart    oops    waitForEcho=false
    Run Keyword And Expect Error    Expected no line containing 'oops'*
    ...    Should Not Be On Uart    oops    timeout=2    includeUnfinishedLine=true

LED Tester With Renode Arguments
    ${{led}}=    Create LED Tester    sysbus.gpioPortC.led4    defaultTimeout=2
    Assert LED State    true    testerId=${{led}}
    Assert LED State    false    testerId=${{led}}
    # host time on a loaded machine: the guest's 200 ms stretches (see the keyword's doc)
    Assert LED Is Blinking    testDuration=3    onDuration=0.2    offDuration=0.2    tolerance=3    testerId=${{led}}
    Run Keyword And Expect Error    Expected LED4 (blue) on for 1000 ms and off for 1000 ms*
    ...    Assert LED Is Blinking    testDuration=3    onDuration=1    offDuration=1    tolerance=0.05    testerId=${{led}}
    ${{led1}}=    Create LED Tester    sysbus.gpioPortG.led1
    Run Keyword And Expect Error    Expected LED1 (green) to be on within 300 milliseconds*
    ...    Assert LED State    true    timeout=0.3    testerId=${{led1}}
    Run Keyword And Expect Error    Expected LED1 (green) to blink within 1 second*
    ...    Assert LED Is Blinking    testDuration=1    onDuration=0.2    offDuration=0.2    testerId=${{led1}}
    Provides    echoing-board

Requires Brings Back The Running Board
    Requires    echoing-board
    Start Emulation
    Write Line To Uart    after the restore
    ${{led}}=    Create LED Tester    sysbus.gpioPortC.led4    defaultTimeout=2
    Assert LED State    true
    Assert LED State    false

Requires Of An Unknown State Fails Clearly
    Run Keyword And Expect Error    No state 'never-provided' was provided*
    ...    Requires    never-provided
"""


def test_a_renode_style_suite_passes_on_qemu(tmp_path, qemu, hello_elf):
    suite = tmp_path / "renode_style.robot"
    suite.write_text(RENODE_STYLE_SUITE.format(library=LIBRARY, firmware=hello_elf))
    result = run_robot(suite, tmp_path / "out")
    failed = {t.name: t.message for t in result.suite.tests if t.status != "PASS"}
    assert not failed, failed
    assert result.statistics.total.passed == 4
