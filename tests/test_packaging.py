"""A non-editable install (pip install .) in a fresh virtualenv, used away from the checkout.

The package is built from a copy of the files pyproject.toml names (so nothing of the
checkout can leak in), offline (--no-index --no-build-isolation: setuptools and wheel come
from the machine, as 'make setup' installs them; the project's own dependencies come in
through --system-site-packages), and its commands run from an empty directory with their
own cache. They must work there, or fail with one line saying what to do.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
COMMANDS = ("stm32lab-board", "stm32lab-console", "stm32lab-certs", "stm32lab-ssl-server",
            "stm32lab-ssl-client", "stm32lab-demo")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin dir, environment) of a fresh virtualenv with the project installed from a
    copy of its package files."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    src.mkdir()
    shutil.copy(TOP / "pyproject.toml", src)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(TOP / "host_tools", src / "host_tools", ignore=ignore)
    shutil.copytree(TOP / "robot" / "libraries", src / "robot" / "libraries", ignore=ignore)
    venv = root / "venv"
    # --without-pip: the machine's pip (and its setuptools and wheel) do the install
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    r = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index",
                        "--no-build-isolation", "--disable-pip-version-check", str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"pip install failed (run 'make setup'):\n{r.stderr}"
    work = root / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("STM32LAB_") and k != "PYTHONPATH"}
    env.update(STM32LAB_CACHE=str(root / "cache"), HOME=str(root / "home"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return venv / "bin", env, work


def run(installed, *cmd, **kw):
    bin_dir, env, work = installed
    return subprocess.run([str(bin_dir / cmd[0]), *cmd[1:]], cwd=work, env=env,
                          capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


def test_commands_are_installed_and_import_the_installed_package(installed):
    bin_dir, _, _ = installed
    for command in COMMANDS:
        assert (bin_dir / command).is_file(), command
    r = run(installed, "python", "-c", "import host_tools, stm32lab_robot.Stm32Lab as lib; "
                                       "print(host_tools.__file__); print(lib.Stm32Lab)")
    assert r.returncode == 0, r.stderr
    where, library = r.stdout.splitlines()
    assert where.startswith(str(bin_dir.parent)) and "site-packages" in where
    assert library == "<class 'stm32lab_robot.Stm32Lab.Stm32Lab'>"


def test_certs_makes_the_pki_in_the_cache(installed):
    _, env, _ = installed
    r = run(installed, "stm32lab-certs")
    assert r.returncode == 0, r.stderr
    out = Path(env["STM32LAB_CACHE"]) / "certs"
    assert (out / "ca.pem").is_file() and (out / "server-rsa.key.pem").is_file()
    again = run(installed, "stm32lab-certs")
    assert again.returncode == 0 and "nothing changed" in again.stdout


def test_ssl_server_listens_on_loopback_and_stops(installed):
    _, env, work = installed
    bin_dir = installed[0]
    proc = subprocess.Popen([str(bin_dir / "stm32lab-ssl-server"), "--port", "0"], cwd=work,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        assert lines and "listening on 127.0.0.1:" in lines[-1], lines
        port = int(lines[-1].split("127.0.0.1:")[1].split()[0])
        ca = Path(env["STM32LAB_CACHE"]) / "certs" / "ca.pem"
        ctx = ssl.create_default_context(cafile=str(ca))
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="ssl-server.lab") as tls:
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                assert tls.recv(4096).startswith(b"HTTP/1.0 200 OK")
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and "stopped after 1 connection(s)" in rest, rest


def test_the_native_relay_builds_from_the_installed_package(installed):
    """The guestfwd relay's C source ships with the package and builds into the cache."""
    _, env, _ = installed
    r = run(installed, "python", "-c", "from host_tools import relay; "
                                       "print(relay.NATIVE_SOURCE); print(relay.native_helper())")
    assert r.returncode == 0, r.stderr
    source, helper = r.stdout.splitlines()
    assert "site-packages" in source
    assert helper.startswith(str(Path(env["STM32LAB_CACHE"]) / "relay" / "stm32lab-relay-"))
    refused = subprocess.run([helper, "10.0.0.1:443"], capture_output=True, text=True,
                             timeout=30)
    assert refused.returncode == 1 and "loopback" in refused.stderr


def test_board_help_names_the_installed_command(installed):
    r = run(installed, "stm32lab-board", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: stm32lab-board ")
    for option in ("--firmware", "--machine", "--guestfwd", "--hostfwd"):
        assert option in r.stdout


def test_without_a_checkout_the_missing_parts_are_one_line_each(installed, hello_elf):
    """No QEMU in the (empty) cache and no firmware build: each says what to do."""
    r = run(installed, "stm32lab-board", "--firmware", str(hello_elf))
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("board: no lab QEMU in ") and "make qemu" in r.stderr
    r = run(installed, "stm32lab-board")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "no firmware given" in r.stderr and "--firmware" in r.stderr
    r = run(installed, "stm32lab-demo")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "make firmware" in r.stderr and "--firmware" in r.stderr
