"""testssl.sh (Debian's `testssl` command) against the board's HTTPS server, as a user
auditing it would: protocols, cipher categories, every cipher offered, forward secrecy,
server preferences and the vulnerability checks.

    python bench/testssl_board.py                    # the STM324xG-EVAL, hardware crypto
    python bench/testssl_board.py --machine stm324x9i-eval --keep report.json

The board is started with the lab's RSA certificate and reached as stm32-board.lab on a
127.0.0.1 forward (testssl's --ip), with the lab CA added (--add-ca) so that the
certificate checks pass. Prints testssl's findings above INFO and a verdict against what
the firmware promises (exit status 1 if it falls short): TLS 1.3 and 1.2 offered, nothing
older; every suite offered with forward secrecy (ECDHE, DHE or TLS 1.3); no finding of the
vulnerability and cipher checks above LOW. It takes several minutes (testssl makes a few
hundred connections to the emulated board); tests/test_soak.py runs it as a slow test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP))

from host_tools import certs  # noqa: E402
from host_tools.board import Board  # noqa: E402

SEVERITIES = ["OK", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
# findings that are about the lab's own test PKI and name, not about TLS itself
PKI_IDS = ("cert_", "intermediate_cert", "DNS_CAArecord", "OCSP", "crl", "HSTS", "HPKP",
           "security_headers", "banner_", "cookie_", "X-Frame", "app_banner")


def check(findings: list) -> list:
    """The promises the report must keep; a list of what it does not."""
    by_id = {}
    for f in findings:
        by_id.setdefault(f.get("id", ""), []).append(f)

    def finding(i):
        return " ".join(f.get("finding", "") for f in by_id.get(i, []))

    problems = []
    for proto in ("TLS1_3", "TLS1_2"):
        if "offered" not in finding(proto) or "not offered" in finding(proto):
            problems.append(f"{proto}: {finding(proto) or 'not tested'}")
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        if "not offered" not in finding(proto):
            problems.append(f"{proto}: {finding(proto) or 'not tested'}")
    offered = [f for f in findings if f.get("id", "").startswith("cipher-tls")
               or f.get("id", "").startswith("cipher_x")]
    if not offered:
        problems.append("no per-cipher results (testssl's -e)")
    for f in offered:
        text = f.get("finding", "")
        if not any(k in text for k in ("ECDH", "DH ", "DHE", "TLS_AES", "TLS_CHACHA")):
            problems.append(f"suite without forward secrecy: {text}")
    for f in findings:
        fid = f.get("id", "")
        sev = f.get("severity", "INFO")
        if fid.startswith(PKI_IDS) or fid in ("scanProblem", "engine_problem"):
            continue
        if sev in SEVERITIES and SEVERITIES.index(sev) > SEVERITIES.index("LOW"):
            problems.append(f"{fid} {sev}: {f.get('finding', '')}")
    return problems


def run(machine: str = "stm324xg-eval", firmware: Path | None = None, keep: Path | None = None,
        out=print) -> dict:
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if not testssl:
        raise RuntimeError("testssl.sh is not installed: apt-get install testssl.sh "
                           "(scripts/setup-apt.sh installs it)")
    pki = certs.default_out()
    certs.make_pki(pki, report=lambda line: None)
    if firmware is None:
        firmware = Path(subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(TOP / "firmware"), "print-elf",
             f"BOARD={machine}"], capture_output=True, text=True, check=True).stdout.strip())
    config = {"role": "server", "cert": pki / "board-rsa.pem", "key": pki / "board-rsa.key.pem"}
    with tempfile.TemporaryDirectory() as tmp, \
            Board(firmware, machine=machine, hostfwd=["0:443"], config=config) as board:
        log = Path(board.logs()["console"])
        deadline = time.monotonic() + 120
        while b"Waiting for a remote connection" not in log.read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError("the board's HTTPS server did not start")
            time.sleep(0.2)
        port = board.forwarded_port(443)
        report = Path(tmp) / "testssl.json"
        cmd = [testssl, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
               "--ip", "127.0.0.1", "--add-ca", str(pki / "ca.pem"), "--jsonfile", str(report),
               "--connect-timeout", "60", "--openssl-timeout", "60",
               "-p", "-s", "-e", "-f", "-P", "-U", f"{certs.BOARD_NAME}:{port}"]
        out("testssl_board: " + " ".join(cmd))
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        findings = json.loads(report.read_text()) if report.exists() else []
        if keep:
            Path(keep).write_text(json.dumps(findings, indent=1))
        console = log.read_text(errors="replace")
    for f in findings:
        if f.get("severity") not in ("OK", "INFO"):
            out(f"  {f.get('severity'):8} {f.get('id')}: {f.get('finding')}")
    problems = check(findings)
    if "Traceback" in console or console.count("SSL/TLS lab: SSL server") > 1:
        problems.append("the board printed a traceback or restarted")
    out(f"testssl_board: {len(findings)} findings in {elapsed:.0f} s (testssl exit "
        f"{proc.returncode}); " + ("OK" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems)))
    return {"findings": findings, "problems": problems, "stdout": proc.stdout,
            "stderr": proc.stderr, "console": console}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--machine", default="stm324xg-eval",
                    choices=["stm324xg-eval", "stm324x9i-eval"])
    ap.add_argument("--firmware", type=Path, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="write testssl's JSON report here")
    args = ap.parse_args(argv)
    return 1 if run(args.machine, args.firmware, args.keep)["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
