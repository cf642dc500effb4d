#!/bin/sh
# Install everything vigil needs on Debian 12 (bookworm), as root.
# Idempotent: when every package is present and QEMU is set up it returns at
# once without touching apt.
#
# QEMU >= 11.1 is needed: its plugin API 7 lets vigil's plugin change what a
# guest call does (write registers and memory, set the PC). Debian ships it
# for Debian 13 in trixie-backports, built against a newer glibc than Debian
# 12's. On Debian 12 it is therefore installed into a minimal Debian 13 root
# under /var/cache/vigil (debootstrap, from the archive of the existing apt
# sources entry), which `vigil run` starts through bubblewrap; on Debian 13
# and later it comes from the host's own backports suite.
set -eu

# Build and run.
PKGS="make gcc libc6-dev pkg-config libglib2.0-dev libjansson-dev nettle-dev libgmp-dev nbdkit nbdkit-plugin-dev libnbd-bin python3-libnbd
      liblz4-dev libzstd-dev liblzma-dev zlib1g-dev
      busybox-static strace cpio kmod xz-utils lz4 zstd file e2fsprogs
      bubblewrap debootstrap minisign
      qemu-utils"
# Tests, fuzzing and peers.
PKGS="$PKGS clang libclang-rt-14-dev clang-format dwarves bpftool jq
      python3 iproute2 procps libsodium-dev libsqlite3-dev sqlite3 nftables
      postgresql libpq-dev
      clamav libhyperscan-dev"
QEMU_MIN=11.1
ROOT=${VIGIL_QEMU_ROOT:-/var/cache/vigil/qemu-root}
ROOT_SUITE=trixie

missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed$' || echo "$p"
    done
}

# Whether the QEMU that `$@ --version` runs is at least $QEMU_MIN.
new_enough() {
    v=$("$@" --version 2>/dev/null | awk 'NR==1 { print $4 }')
    [ -n "$v" ] || return 1
    printf '%s\n%s\n' "$QEMU_MIN" "$v" | sort -V -C
}

host_qemu_ok() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 && new_enough qemu-system-x86_64
}

root_qemu_ok() {
    [ -x "$ROOT/usr/bin/qemu-system-x86_64" ] && command -v bwrap >/dev/null &&
        new_enough bwrap --dev-bind / / --ro-bind "$ROOT/usr" /usr \
            --ro-bind "$ROOT/etc/ld.so.cache" /etc/ld.so.cache -- \
            qemu-system-x86_64
}

qemu_ok() { host_qemu_ok || root_qemu_ok; }

. "$(dirname "$0")/archive.sh"

# shellcheck disable=SC2086
need=$(missing $PKGS)
if [ -z "$need" ] && qemu_ok; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages ($need${need:+ }qemu>=$QEMU_MIN); run as root" >&2
    exit 1
fi


# Add SUITE to the entry that already lists the host's release.
enable_suite() {
    suite=$1
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        if awk -v s="$codename" '/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) f = 1 } END { exit !f }' "$f"; then
            grep -q "[[:space:]]$suite\([[:space:]]\|\$\)" "$f" && return 0
            sed -i "/^Suites:/{/[[:space:]]$codename\([[:space:]]\|\$\)/s/\$/ $suite/}" "$f"
            return 0
        fi
    done
    # One-line format: repeat the main entry's line with the other suite.
    if [ -f /etc/apt/sources.list ]; then
        grep -q "[[:space:]]$suite[[:space:]]" /etc/apt/sources.list && return 0
        line=$(awk -v s="$codename" '$1 == "deb" && $3 == s { print; exit }' /etc/apt/sources.list)
        [ -n "$line" ] || return 1
        echo "$line" | awk -v b="$suite" '{ $3 = b; print }' >> /etc/apt/sources.list
        return 0
    fi
    return 1
}

# Debian 13's QEMU in a minimal Debian 13 root, built beside ROOT and
# renamed into place only when complete.
build_root() {
    uri=$(archive_uri) || {
        echo "setup: cannot find the Debian $codename entry in apt's sources" >&2
        exit 1
    }
    new=$ROOT.new
    if mountpoint -q "$new/proc" 2>/dev/null; then umount "$new/proc"; fi
    rm -rf "$new"
    mkdir -p "$(dirname "$ROOT")"
    echo "setup: building a Debian 13 root for QEMU $QEMU_MIN in $ROOT (debootstrap)"
    debootstrap --variant=minbase "$ROOT_SUITE" "$new" "$uri" >"$new.log" 2>&1 || {
        tail -n 20 "$new.log" >&2
        echo "setup: debootstrap failed (log: $new.log)" >&2
        exit 1
    }
    echo "deb $uri $ROOT_SUITE-backports main" >"$new/etc/apt/sources.list.d/backports.list"
    mount -t proc proc "$new/proc"
    trap 'umount "$new/proc" 2>/dev/null || true' EXIT
    if ! { chroot "$new" apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive chroot "$new" apt-get install -y -q \
            --no-install-recommends -t "$ROOT_SUITE-backports" qemu-system-x86 &&
        chroot "$new" apt-get clean; } >>"$new.log" 2>&1; then
        tail -n 20 "$new.log" >&2
        echo "setup: installing QEMU in the root failed (log: $new.log)" >&2
        exit 1
    fi
    umount "$new/proc"
    trap - EXIT
    rm -rf "$ROOT" "$new.log"
    mv "$new" "$ROOT"
}

export DEBIAN_FRONTEND=noninteractive
if [ -n "$need" ]; then
    echo "setup: installing packages (apt-get)"
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $PKGS >/dev/null
fi
if ! qemu_ok; then
    if [ "$codename" = bookworm ]; then
        build_root
    else
        apt-get install -y -q --no-install-recommends qemu-system-x86 >/dev/null || true
        if ! host_qemu_ok; then
            enable_suite "$codename-backports" || {
                echo "setup: cannot find the Debian $codename entry in apt's sources" >&2
                exit 1
            }
            apt-get update -q >/dev/null
            apt-get install -y -q --no-install-recommends -t "$codename-backports" \
                qemu-system-x86 >/dev/null
        fi
    fi
fi
qemu_ok || { echo "setup: QEMU >= $QEMU_MIN could not be set up" >&2; exit 1; }
if host_qemu_ok; then
    echo "setup: done ($(qemu-system-x86_64 --version | head -n 1))"
else
    echo "setup: done (QEMU in $ROOT)"
fi
