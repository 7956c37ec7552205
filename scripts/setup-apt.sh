#!/usr/bin/env bash
# Install what a fresh Debian bookworm machine lacks to build QEMU and the test programs,
# and add the trixie deb-src entry that `apt-get source` needs for QEMU 10.0.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

src=/etc/apt/sources.list.d/trixie-src.sources
if [ ! -f "$src" ]; then
    echo "setup-apt: adding deb-src for Debian trixie ($src)"
    $SUDO tee "$src" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

PKGS=(
    build-essential pkg-config ninja-build flex bison bzip2 xz-utils dpkg-dev rsync patch git openssl curl
    libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev
    gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
    testssl.sh
)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
stamp=/var/lib/apt/lists/.stm32-lab-updated
if [ ${#missing[@]} -gt 0 ] || [ ! -f "$stamp" ] || ! apt-cache showsrc qemu 2>/dev/null | grep -q '^Version: 1:10\.0'; then
    echo "setup-apt: apt-get update"
    $SUDO apt-get update -qq
    $SUDO touch "$stamp"
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-apt: installing ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup-apt: ok"
