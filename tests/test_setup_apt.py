"""scripts/setup-apt.sh: the trixie deb-src entry comes from the machine's own Debian
sources (their mirror and keyring), in either format apt reads.

Only --print-src runs here (it reads example sources through APT_ETC and OS_RELEASE and
changes nothing); the set-up itself runs in 'make setup' and CI.
"""

import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
SCRIPT = TOP / "scripts" / "setup-apt.sh"


def print_src(tmp_path, sources: dict, codename="bookworm"):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    for name, text in sources.items():
        (etc / name).write_text(text)
    os_release = tmp_path / "os-release"
    os_release.write_text(f'ID=debian\nVERSION_CODENAME={codename}\n')
    return subprocess.run(["bash", str(SCRIPT), "--print-src"], capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "APT_ETC": str(etc),
                                           "OS_RELEASE": str(os_release)})


def entry(uri, key=None):
    text = f"Types: deb-src\nURIs: {uri}\nSuites: trixie\nComponents: main\n"
    return text + (f"Signed-By: {key}\n" if key else "")


DEB822 = """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.corp.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/corp-debian.gpg

Types: deb
URIs: http://mirror.corp.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/corp-debian.gpg
"""


@pytest.mark.parametrize("sources, want", [
    ({"sources.list.d/debian.sources": DEB822},
     entry("http://mirror.corp.example/debian", "/usr/share/keyrings/corp-debian.gpg")),
    # neither the security archive nor a disabled stanza counts
    ({"sources.list.d/a.sources": DEB822.split("\n\n")[1] + "\n"
      + DEB822.split("\n\n")[0] + "\nEnabled: no\n\n"
      + DEB822.split("\n\n")[0].replace("corp", "other") + "\n"},
     entry("http://mirror.other.example/debian", "/usr/share/keyrings/other-debian.gpg")),
    ({"sources.list": "# the classic format\n"
                      "deb [arch=amd64 signed-by=/etc/apt/keyrings/deb.gpg] "
                      "https://deb.corp.example/debian bookworm main non-free\n"
                      "deb https://deb.corp.example/debian-security bookworm-security main\n"},
     entry("https://deb.corp.example/debian", "/etc/apt/keyrings/deb.gpg")),
    ({"sources.list": "deb http://ftp.corp.example/debian/ bookworm main\n"},
     entry("http://ftp.corp.example/debian/")),
])
def test_deb_src_entry_follows_the_machines_sources(tmp_path, sources, want):
    r = print_src(tmp_path, sources)
    assert r.returncode == 0, r.stderr
    assert r.stdout == want


def test_no_debian_source_is_a_clear_error(tmp_path):
    r = print_src(tmp_path, {"sources.list": "deb http://mirror.example/ubuntu jammy main\n"})
    assert r.returncode != 0 and r.stdout == ""
    assert "found no 'deb' source for this Debian release" in r.stderr
