#!/usr/bin/env bash
# Fetch the firmware's third-party sources from Debian trixie source packages and unpack them.
#
# MicroPython, lwIP and mbedTLS come from `apt-get source --download-only` (the deb-src entry
# is added by scripts/setup-apt.sh). Only the ORIG tarballs are unpacked: Debian's patches
# adapt the packages to a hosted Linux build (micropython's 0006 swaps the bundled bare-metal
# mbedTLS build for the system library), which is not what a firmware wants.
#
#   bash scripts/fetch-firmware-sources.sh           fetch and unpack what is missing
#   bash scripts/fetch-firmware-sources.sh --print   print the unpacked source directories
#
# Trees land in $CACHE/<name>-<upstream version>-<patch hash>/. The firmware's own small
# patches, firmware/patches/<name>/*.patch (patch -p1, in name order), are applied after
# unpacking; the directory name carries a hash of them, so a second run does nothing, a
# changed patch set gets a tree of its own, and worktrees with different patch sets can
# share the cache without unpacking over each other's build. The firmware Makefile calls
# this script.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${STM32LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stm32-tls-lab}
MICROPYTHON_PKG_VERSION=${MICROPYTHON_PKG_VERSION:-1.25.0+ds-1}
LWIP_PKG_VERSION=${LWIP_PKG_VERSION:-2.2.1+dfsg1-1+deb13u1}
MBEDTLS_PKG_VERSION=${MBEDTLS_PKG_VERSION:-3.6.6-0.1~deb13u1}
dl="$CACHE/downloads"

# upstream version of a Debian version: drop the epoch and the Debian revision
upstream_of() {
    local v=${1#*:}
    echo "${v%-*}"
}

# a hash of the firmware's patches for a package (empty patch set: "none")
patches_hash() {
    local dir="$top/firmware/patches/$1"
    if ls "$dir"/*.patch >/dev/null 2>&1; then
        cat "$dir"/*.patch | sha256sum | cut -c1-16
    else
        echo none
    fi
}

# the unpacked tree of a package with this checkout's patches: $CACHE/<name>-<upstream>-<hash>
tree_of() {
    echo "$CACHE/$1-$(upstream_of "$2")-$(patches_hash "$1")"
}

fetch() {
    local name=$1 version=$2
    local upstream tree tarball stamp p
    upstream=$(upstream_of "$version")
    tree=$(tree_of "$name" "$version")
    stamp="$version patches:$(patches_hash "$name")"
    if [ -f "$tree/.unpacked" ] && [ "$(cat "$tree/.unpacked")" = "$stamp" ]; then
        echo "fetch-firmware-sources: up to date: $tree"
        return 0
    fi
    mkdir -p "$dl"
    tarball=$(ls "$dl/${name}_${upstream}.orig.tar."* 2>/dev/null | head -1 || true)
    if [ -z "$tarball" ]; then
        command -v apt-get >/dev/null || { echo "fetch-firmware-sources: apt-get not found; run on Debian" >&2; exit 1; }
        echo "fetch-firmware-sources: fetching Debian source package $name=$version into $dl"
        (cd "$dl" && apt-get source --download-only "$name=$version") || {
            echo "fetch-firmware-sources: 'apt-get source $name=$version' failed; run 'make setup' (adds the trixie deb-src entry)" >&2
            exit 1
        }
        tarball=$(ls "$dl/${name}_${upstream}.orig.tar."* 2>/dev/null | head -1 || true)
        [ -n "$tarball" ] || { echo "fetch-firmware-sources: no orig tarball for $name $upstream in $dl" >&2; exit 1; }
    fi
    echo "fetch-firmware-sources: unpacking $tarball (orig only, no Debian patches) into $tree"
    rm -rf "$tree" "$tree.tmp"
    mkdir -p "$tree.tmp"
    tar -xf "$tarball" -C "$tree.tmp" --strip-components=1
    for p in "$top/firmware/patches/$name"/*.patch; do
        [ -e "$p" ] || continue
        echo "fetch-firmware-sources: applying firmware/patches/$name/$(basename "$p")"
        (cd "$tree.tmp" && patch -s -p1 --no-backup-if-mismatch < "$p") || {
            echo "fetch-firmware-sources: $p does not apply to $name $upstream" >&2; exit 1; }
    done
    echo "$stamp" > "$tree.tmp/.unpacked"
    mv "$tree.tmp" "$tree"
}

if [ "${1:-}" = "--print" ]; then
    echo "MICROPY_DIR=$(tree_of micropython "$MICROPYTHON_PKG_VERSION")"
    echo "LWIP_DIR=$(tree_of lwip "$LWIP_PKG_VERSION")"
    echo "MBEDTLS_DIR=$(tree_of mbedtls "$MBEDTLS_PKG_VERSION")"
    exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/firmware-sources.lock"
flock 9
fetch micropython "$MICROPYTHON_PKG_VERSION"
fetch lwip "$LWIP_PKG_VERSION"
fetch mbedtls "$MBEDTLS_PKG_VERSION"
echo "fetch-firmware-sources: ok"
