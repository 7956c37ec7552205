#!/usr/bin/env bash
# Build qemu-system-arm with the lab's STM32F4 models.
#
# Debian trixie's qemu source package is fetched once (orig tarball only, no Debian patches),
# unpacked into the cache, our qemu/ tree is copied over it and qemu/patches/*.patch applied.
# The binary is installed at $CACHE/qemu-$VER-$HASH/qemu-system-arm where HASH covers the
# content of qemu/, so a rebuild only happens when our models change. The build directory
# is kept between builds, so a change to one model recompiles only that file.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${STM32LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stm32-tls-lab}
QEMU_PKG_VERSION=${QEMU_PKG_VERSION:-1:10.0.13+ds-0+deb13u1}
upstream=${QEMU_PKG_VERSION#*:}; upstream=${upstream%-*}          # 10.0.13+ds
ver=${upstream%+ds}                                                # 10.0.13
devices=stm32-lab   # qemu/configs/devices/arm-softmmu/stm32-lab.mak
# pixman and png: the LCD's screen as a PNG through QMP screendump (format png)
configure_args=(--target-list=arm-softmmu --without-default-devices
    --with-devices-arm="$devices"
    --without-default-features --enable-slirp --enable-tcg --enable-fdt=system
    --enable-pixman --enable-png
    --disable-docs --disable-tools --disable-install-blobs --disable-werror)
# The binary's name covers the content of qemu/ and the configure options; each set of
# options has its own build directory, so trees with different options do not reconfigure
# each other's.
options_hash=$(printf '%s\n' "${configure_args[@]}" | sha256sum | cut -c1-8)
hash_of() {
    (cd "$1" && { find . -type f ! -name README.md -print0 | sort -z | xargs -0 sha256sum;
                  echo "$options_hash"; } | sha256sum | cut -c1-16)
}
out="$CACHE/qemu-$ver-$(hash_of "$top/qemu")"
src="$CACHE/qemu-$ver-src"
build="$CACHE/qemu-$ver-build-$options_hash"

if [ "${1:-}" = "--print" ]; then
    echo "$out/qemu-system-arm"
    exit 0
fi
if [ -x "$out/qemu-system-arm" ]; then
    echo "build-qemu: up to date: $out/qemu-system-arm"
    exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/qemu-build.lock"
flock 9

# Build from a snapshot of qemu/ so the result matches the hash it is filed under even if
# the tree is edited meanwhile.
snap=$(mktemp -d)
stage=$(mktemp -d)
trap 'rm -rf "$snap" "$stage"' EXIT
rsync -r "$top/qemu/" "$snap/"
out="$CACHE/qemu-$ver-$(hash_of "$snap")"
if [ -x "$out/qemu-system-arm" ]; then
    echo "build-qemu: up to date: $out/qemu-system-arm"
    exit 0
fi

# 1. Fetch and unpack the pristine upstream source once.
if [ ! -f "$src/.unpacked" ]; then
    dl="$CACHE/downloads"
    mkdir -p "$dl"
    tarball="$dl/qemu_${upstream}.orig.tar.xz"
    if [ ! -f "$tarball" ]; then
        command -v apt-get >/dev/null || { echo "build-qemu: apt-get not found; run on Debian" >&2; exit 1; }
        echo "build-qemu: fetching Debian source package qemu=$QEMU_PKG_VERSION"
        (cd "$dl" && apt-get source --download-only "qemu=$QEMU_PKG_VERSION") || {
            echo "build-qemu: 'apt-get source' failed; run 'make setup' (adds the trixie deb-src entry)" >&2
            exit 1
        }
    fi
    echo "build-qemu: unpacking $tarball"
    rm -rf "$src" "$src.tmp"
    mkdir -p "$src.tmp"
    tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
    # The +ds tarball drops firmware blobs that meson still lists; empty bzip2 files do.
    for f in edk2-aarch64-code.fd edk2-arm-code.fd edk2-arm-vars.fd edk2-i386-code.fd \
             edk2-i386-secure-code.fd edk2-i386-vars.fd edk2-x86_64-code.fd \
             edk2-x86_64-secure-code.fd edk2-loongarch64-code.fd edk2-loongarch64-vars.fd \
             edk2-riscv-code.fd edk2-riscv-vars.fd; do
        [ -e "$src.tmp/pc-bios/$f.bz2" ] || : | bzip2 > "$src.tmp/pc-bios/$f.bz2"
    done
    (cd "$src.tmp" && git init -q && git add -A && git -c user.name=lab -c user.email=lab@localhost commit -qm pristine)
    mv "$src.tmp" "$src"
    touch "$src/.unpacked"
fi

# 2. Bring the tree to pristine + our overlay + our patches, writing only files whose
#    content changes: untouched mtimes keep meson from reconfiguring and ninja from
#    recompiling what did not change.
patched=$(cat "$snap"/patches/*.patch 2>/dev/null | sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' | sort -u)
for f in $patched; do
    mkdir -p "$stage/$(dirname "$f")"
    git -C "$src" show "HEAD:$f" > "$stage/$f"
done
rsync -r --exclude README.md --exclude patches "$snap/" "$stage/"
for p in "$snap"/patches/*.patch; do
    [ -e "$p" ] || continue
    (cd "$stage" && patch -s -p1 --no-backup-if-mismatch < "$p") || {
        echo "build-qemu: $p does not apply to QEMU $ver" >&2; exit 1; }
done
# Files an earlier overlay added or changed that this one no longer does go back to pristine
(cd "$src" && git status --porcelain --untracked-files=all) | while read -r state f; do
    [ "$f" = .unpacked ] && continue
    [ -e "$stage/$f" ] && continue
    if [ "$state" = "??" ]; then rm -f "$src/$f"; else git -C "$src" checkout -q -- "$f"; fi
done
rsync -rc "$stage/" "$src/"

# 3. Configure once, then build incrementally.
if [ ! -f "$build/build.ninja" ]; then
    python3 -c 'import mesonbuild' 2>/dev/null || python3 -m pip install -q 'meson==1.5.0' pycotap
    rm -rf "$build"; mkdir -p "$build"
    (cd "$build" && "$src/configure" --python="$(command -v python3)" "${configure_args[@]}") \
        > "$CACHE/qemu-configure.log" 2>&1 || { tail -30 "$CACHE/qemu-configure.log" >&2; echo "build-qemu: configure failed; log: $CACHE/qemu-configure.log" >&2; exit 1; }
fi
echo "build-qemu: building (log: $CACHE/qemu-build.log)"
ninja -C "$build" qemu-system-arm > "$CACHE/qemu-build.log" 2>&1 || {
    grep -E 'error|Error' "$CACHE/qemu-build.log" | head -40 >&2
    echo "build-qemu: build failed; log: $CACHE/qemu-build.log" >&2
    exit 1
}
mkdir -p "$out.tmp"
cp "$build/qemu-system-arm" "$out.tmp/"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "build-qemu: built $out/qemu-system-arm"
