#!/bin/sh
# Install everything vigil needs on Debian 12 (bookworm), as root.
# Idempotent: when every package is present at a suitable version it returns
# at once without touching apt.
#
# QEMU >= 9 is needed (its plugin API reads registers and guest memory);
# Debian 12 ships 7.2, so QEMU comes from the bookworm-backports suite, which
# is enabled by extending the Suites: line of the existing Debian entry.
set -eu

# Build and run.
PKGS="make gcc libc6-dev pkg-config libglib2.0-dev libjansson-dev nettle-dev nbdkit nbdkit-plugin-dev libnbd-bin python3-libnbd
      liblz4-dev libzstd-dev liblzma-dev zlib1g-dev
      busybox-static strace cpio kmod xz-utils lz4 zstd file e2fsprogs"
# Tests, fuzzing and peers.
PKGS="$PKGS clang libclang-rt-14-dev clang-format dwarves bpftool jq
      python3 iproute2 procps libsodium-dev libsqlite3-dev sqlite3 nftables
      clamav libhyperscan-dev"
QEMU_PKGS="qemu-system-x86 qemu-utils"
QEMU_SUITE=bookworm-backports

missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed$' || echo "$p"
    done
}

qemu_ok() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 || return 1
    v=$(qemu-system-x86_64 --version | awk 'NR==1 { print $4 }')
    [ "${v%%.*}" -ge 9 ] 2>/dev/null
}

# shellcheck disable=SC2086
need=$(missing $PKGS)
if [ -z "$need" ] && qemu_ok; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages ($need${need:+ }qemu>=9); run as root" >&2
    exit 1
fi

# Add the backports suite to the entry that already lists bookworm.
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
enable_backports() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        if awk -v s="$codename" '/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) f = 1 } END { exit !f }' "$f"; then
            grep -q "$QEMU_SUITE" "$f" && return 0
            sed -i "/^Suites:/{/[[:space:]]$codename\([[:space:]]\|\$\)/s/\$/ $QEMU_SUITE/}" "$f"
            return 0
        fi
    done
    # One-line format: repeat the main entry's line with the other suite.
    if [ -f /etc/apt/sources.list ]; then
        grep -q "[[:space:]]$QEMU_SUITE[[:space:]]" /etc/apt/sources.list && return 0
        line=$(awk -v s="$codename" '$1 == "deb" && $3 == s { print; exit }' /etc/apt/sources.list)
        [ -n "$line" ] || return 1
        echo "$line" | awk -v b="$QEMU_SUITE" '{ $3 = b; print }' >> /etc/apt/sources.list
        return 0
    fi
    return 1
}

export DEBIAN_FRONTEND=noninteractive
if ! qemu_ok; then
    enable_backports || {
        echo "setup: cannot find the Debian $codename entry in apt's sources" >&2
        exit 1
    }
fi
echo "setup: installing packages (apt-get)"
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PKGS >/dev/null
if ! qemu_ok; then
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends -t "$QEMU_SUITE" $QEMU_PKGS >/dev/null
fi
qemu_ok || { echo "setup: QEMU >= 9 could not be installed" >&2; exit 1; }
echo "setup: done ($(qemu-system-x86_64 --version | head -n 1))"
