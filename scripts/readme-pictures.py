#!/usr/bin/env python3
"""Make the two pictures of the README's first screen from the real firmware:

  docs/lcd-ssl-client.png  the STM324xG-EVAL's LCD while the board runs the SSL client demo
                           against the PC SSL server (saved as `board.py --screenshot` does)
  docs/board-page.png      the board's HTTPS page (HTTPS server role) in headless Chromium

Usage: python3 scripts/readme-pictures.py [--out DIR]   (after `make firmware`)

Chromium runs with background networking off and a resolver rule that resolves no name at
all, and is given only https://127.0.0.1:PORT/ (the launcher's hostfwd): the network rule
holds. The lab CA is not in Chromium's store, so it is told to accept the board's
certificate (--ignore-certificate-errors); nothing else is visited.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP))

from host_tools import certs  # noqa: E402
from host_tools.board import Board, default_firmware  # noqa: E402
from host_tools.ssl_server import SslServer  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
    "--no-first-run", "--no-default-browser-check", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    "--disable-default-apps", "--disable-domain-reliability", "--disable-extensions",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--ignore-certificate-errors", "--window-size=640,560",
]


def wait_for(board, text: bytes, timeout: float = 120.0) -> None:
    console = Path(board.logs()["console"])
    deadline = time.monotonic() + timeout
    while text not in console.read_bytes():
        if time.monotonic() > deadline or not board.is_running():
            sys.exit(f"readme-pictures: no {text.decode()!r} on the console "
                     f"({console.read_bytes()[-500:]!r})")
        time.sleep(0.2)


def lcd_picture(firmware: Path, out: Path) -> None:
    with SslServer(cert=certs.path("server-rsa"), port=0, echo=False) as server:
        config = {"role": "client", "ca": certs.path("ca"), "period": 60}
        with Board(firmware, config=config, guestfwd=[f"443:{server.port}"]).start() as b:
            wait_for(b, b"Read from server")
            time.sleep(1)
            b.screenshot(out)
    print(f"readme-pictures: {out}")


def page_picture(firmware: Path, out: Path, chromium: str) -> None:
    config = {"role": "server", "cert": certs.path("board-rsa"),
              "key": certs.key_path("board-rsa")}
    with Board(firmware, config=config, hostfwd=["0:443"]).start() as b:
        wait_for(b, b"Waiting for a remote connection")
        url = f"https://127.0.0.1:{b.forwarded_port(443)}/"
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                            f"--screenshot={out}", url],
                           check=True, capture_output=True, timeout=120)
        wait_for(b, b"Successfully write")
    print(f"readme-pictures: {out}")


def main() -> int:
    p = argparse.ArgumentParser(prog="readme-pictures.py", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=TOP / "docs")
    args = p.parse_args()
    firmware = default_firmware("stm324xg-eval")
    if firmware is None:
        sys.exit("readme-pictures: no firmware; run 'make firmware' first")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("readme-pictures: chromium not found; install it (apt-get install chromium)")
    certs.make_pki()
    args.out.mkdir(parents=True, exist_ok=True)
    lcd_picture(firmware, (args.out / "lcd-ssl-client.png").resolve())
    page_picture(firmware, (args.out / "board-page.png").resolve(), chromium)
    return 0


if __name__ == "__main__":
    sys.exit(main())
