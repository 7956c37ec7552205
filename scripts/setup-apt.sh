#!/usr/bin/env bash
# Install what a fresh Debian bookworm machine lacks to build QEMU and the test programs,
# and add the trixie deb-src entry that `apt-get source` needs for QEMU 10.0.
#
# The deb-src entry uses the machine's own Debian mirror and keyring (the "deb" source of
# its release in /etc/apt/sources.list.d/*.sources or sources.list), so it works behind a
# corporate mirror. Another apt running holds the apt locks: we wait for them (up to
# APT_LOCK_WAIT seconds) instead of failing. Nothing is fetched when nothing is missing.
# Safe to run again: a second run changes nothing.
#
#   bash scripts/setup-apt.sh               set up (as root, or with sudo)
#   bash scripts/setup-apt.sh --print-src   print the deb-src entry it would write, change nothing
#
# APT_ETC and OS_RELEASE (default /etc/apt, /etc/os-release) are read for the machine's
# sources; tests point them at examples.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}
APT_ETC=${APT_ETC:-/etc/apt}
OS_RELEASE=${OS_RELEASE:-/etc/os-release}
SRC_SUITE=trixie
src=$APT_ETC/sources.list.d/${SRC_SUITE}-src.sources

PKGS=(
    build-essential pkg-config ninja-build flex bison bzip2 xz-utils dpkg-dev rsync patch git openssl curl
    libglib2.0-dev libpixman-1-dev libpng-dev libslirp-dev libfdt-dev
    gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
    testssl.sh
    perl        # QEMU's scripts/checkpatch.pl (tests/test_qemu_style.py)
    bind9-dnsutils  # dig, the real client that tests/test_lab_dns.py asks
)

# The machine's Debian archive for its own release: "URI<TAB>keyring" (keyring may be
# empty), from the first enabled "deb" source whose suite is the release's codename and
# whose components include main.
own_debian_source() {
    local codename
    codename=$(. "$OS_RELEASE" && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || { echo "setup-apt: no VERSION_CODENAME in $OS_RELEASE" >&2; return 1; }
    {
        for f in "$APT_ETC"/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            # deb822: stanzas separated by blank lines; "Key: value", continuations indented
            awk -v want="$codename" '
                function has(list, word,   n, i, a) { n = split(list, a, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (a[i] == word) return 1; return 0 }
                function flush() {
                    if (has(f["types"], "deb") && has(f["suites"], want) &&
                        has(f["components"], "main") && tolower(f["enabled"]) != "no" &&
                        f["uris"] != "") { split(f["uris"], u, /[ \t]+/)
                        key = (f["signed-by"] ~ /^\//) ? f["signed-by"] : ""
                        print u[1] "\t" key }
                    delete f; last = "" }
                /^#/ { next }
                /^[ \t]*$/ { flush(); next }
                /^[ \t]/ { next }                       # a continuation (an inline key)
                { k = tolower($0); sub(/:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
                  sub(/[ \t]+$/, "", v); f[k] = v }
                END { flush() }' "$f"
        done
        for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            # one-line style: deb [opt=value ...] URI SUITE COMPONENT...
            awk -v want="$codename" '
                /^[ \t]*deb[ \t]/ { key = ""; i = 2
                    if ($2 ~ /^\[/) { for (; i <= NF; i++) {
                        if ($i ~ /^\[?signed-by=/) { key = $i; sub(/^\[?signed-by=/, "", key); sub(/\]$/, "", key) }
                        if ($i ~ /\]$/) { i++; break } } }
                    uri = $i; suite = $(i + 1); main = 0
                    for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
                    if (suite == want && main) print uri "\t" key }' "$f"
        done
    } | awk 'NR == 1'      # reads everything: no SIGPIPE for pipefail to report
}

wanted_src_entry() {
    local line uri key
    line=$(own_debian_source) || return 1
    if [ -z "$line" ]; then
        echo "setup-apt: found no 'deb' source for this Debian release (with main) in" \
             "$APT_ETC/sources.list or $APT_ETC/sources.list.d/; add one, or add a" \
             "'deb-src' entry for $SRC_SUITE main as $src yourself" >&2
        return 1
    fi
    uri=${line%%$'\t'*}
    key=${line#*$'\t'}
    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' "$uri" "$SRC_SUITE"
    [ -z "$key" ] || printf 'Signed-By: %s\n' "$key"
}

# apt-get, waiting while another apt or dpkg holds its locks (DPkg::Lock::Timeout covers
# dpkg's lock only; apt-get update gives up at once on the lists lock).
apt_get() {
    local deadline=$((SECONDS + APT_LOCK_WAIT)) err rc
    err=$(mktemp)
    while true; do
        rc=0
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" \
            "$@" 2>"$err" || rc=$?
        if [ "$rc" -ne 0 ] && grep -qE 'Could not get lock|Unable to lock' "$err" &&
                [ "$SECONDS" -lt "$deadline" ]; then
            [ -n "${waiting:-}" ] || echo "setup-apt: another apt is running; waiting up to" \
                "${APT_LOCK_WAIT} s for its lock" >&2
            waiting=1
            sleep 5
            continue
        fi
        cat "$err" >&2
        rm -f "$err"
        return "$rc"
    done
}

want=$(wanted_src_entry)
if [ "${1:-}" = "--print-src" ]; then
    printf '%s\n' "$want"
    exit 0
fi
update=0
if [ ! -f "$src" ] || [ "$(cat "$src")" != "$want" ]; then
    echo "setup-apt: deb-src for Debian $SRC_SUITE from this machine's mirror ($src)"
    printf '%s\n' "$want" | $SUDO tee "$src" >/dev/null
    update=1
fi

installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PKGS[@]}" 2>/dev/null || true) "
missing=()
for p in "${PKGS[@]}"; do
    [[ "$installed" == *" $p:installed "* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || update=1
if [ "$update" -eq 0 ] && ! apt-cache showsrc qemu 2>/dev/null | grep '^Version: 1:10\.0' >/dev/null; then
    update=1
fi

if [ "$update" -eq 1 ]; then
    echo "setup-apt: apt-get update"
    apt_get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-apt: installing ${missing[*]}"
    apt_get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup-apt: ok"
