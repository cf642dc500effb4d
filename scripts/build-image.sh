#!/bin/sh
# Build vigil's test image of a Debian system and print its path.
#
#   scripts/build-image.sh [SUITE]      SUITE: bookworm (default) or trixie
#
# The image is a raw, unpartitioned ext4 file system (the whole disk is the
# root file system, so the guest boots with root=/dev/vda) holding a minimal
# Debian with systemd, the distribution's cloud kernel and initrd in /boot,
# and the QEMU guest agent.  It is made with debootstrap from the archive of
# the host's existing apt sources entry and `mkfs.ext4 -d` (no mount, no loop
# device), and cached under $VIGIL_IMAGE_CACHE (/var/cache/vigil/images) by
# suite and a key of everything below that shapes it: an image that exists
# is printed at once.  Run as root.
#
# Safe to interrupt and to run twice at once: it builds beside the cache
# entry, under a lock, and renames the image into place only when complete.
#
# Exit status: 0 with the path on stdout; 3 when the archive cannot be
# reached (tests skip on it); 1 on any other failure.
set -eu

SUITE=${1:-bookworm}
CACHE=${VIGIL_IMAGE_CACHE:-/var/cache/vigil/images}
SIZE=1200M

# Kept small: tests build the image in CI.  strace is for the in-guest
# comparison of call sequences.
PKGS="systemd-sysv udev dbus linux-image-cloud-amd64 qemu-guest-agent
      procps iproute2 cron strace"
# Bump when configure() changes what the image holds.
CONFIG_VERSION=2

die() {
    echo "build-image: $*" >&2
    exit 1
}

case $SUITE in
bookworm) num=12 ;;
trixie) num=13 ;;
*) die "unknown suite '$SUITE' (bookworm or trixie)" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
for t in debootstrap mkfs.ext4 flock sha256sum; do
    command -v "$t" >/dev/null || die "$t is missing (run scripts/setup.sh)"
done

key=$(printf '%s\n' "$SUITE" "$PKGS" "$CONFIG_VERSION" "$SIZE" |
    tr -s ' \n' '  ' | sha256sum | cut -c1-12)
IMG=$CACHE/debian-$num-$key.raw
if [ -s "$IMG" ]; then
    echo "$IMG"
    exit 0
fi

# The image comes from the archive of the host's own release.
. "$(dirname "$0")/archive.sh"

# Unmount whatever debootstrap left mounted under $1 (an interrupted run
# leaves proc and sys there), deepest first, then remove it without ever
# crossing into another file system.
unmount_under() {
    awk -v d="$1/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts |
        sort -r | while read -r m; do umount -l "$m" || true; done
}
remove_tree() {
    [ -e "$1" ] || return 0
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}

# What turns a debootstrapped tree into a test guest.
configure() {
    d=$1
    echo "vigil-$num" >"$d/etc/hostname"
    # The whole disk is the root file system; the kernel mounts it rw.
    echo "/dev/vda / ext4 defaults 0 0" >"$d/etc/fstab"
    # A fresh machine id on first boot.
    : >"$d/etc/machine-id"
    chroot "$d" passwd -d root >/dev/null
    # Root is logged in on the serial console.
    mkdir -p "$d/etc/systemd/system/serial-getty@ttyS0.service.d"
    cat >"$d/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM
EOF
    # A oneshot service for tests, started only when the kernel command
    # line asks for it: it writes a file carrying vigil's test signature
    # to the root file system.  The signature is assembled at run time so
    # that the image itself does not carry it.
    mkdir -p "$d/usr/local/sbin"
    cat >"$d/usr/local/sbin/vigil-test-write" <<'EOF'
#!/bin/sh
# Write a file with the test signature and push it to the disk: fsync
# (sync FILE) reports a write the disk refused.
mkdir -p /var/lib/vigil-test
f=/var/lib/vigil-test/sig.txt
a=VIGIL-TEST
b=SIGNATURE-ONE
if printf 'oneshot %s-%s end\n' "$a" "$b" >"$f" && sync "$f"; then
    echo "vigil-test-write: written"
else
    echo "vigil-test-write: write failed"
    exit 1
fi
EOF
    chmod 755 "$d/usr/local/sbin/vigil-test-write"
    cat >"$d/etc/systemd/system/vigil-test-write.service" <<'EOF'
[Unit]
Description=vigil test: write a file carrying the test signature
ConditionKernelCommandLine=vigil.test=write
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vigil-test-write
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
    ln -sf /etc/systemd/system/vigil-test-write.service \
        "$d/etc/systemd/system/multi-user.target.wants/vigil-test-write.service"
    # Nothing downloaded stays in the image.
    rm -f "$d"/var/cache/apt/archives/*.deb "$d"/var/lib/apt/lists/*_* 2>/dev/null || true
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
# Another run may have built it while we waited.
if [ -s "$IMG" ]; then
    echo "$IMG"
    exit 0
fi

uri=$(archive_uri) || die "cannot find the Debian $codename entry in apt's sources"
if command -v wget >/dev/null &&
    ! wget -q -T 20 -t 2 -O /dev/null "$uri/dists/$SUITE/Release"; then
    echo "build-image: cannot reach the archive of apt's sources entry" >&2
    exit 3
fi

tree=$CACHE/.tree-$SUITE-$key
new=$IMG.new
log=$CACHE/.build-$SUITE-$key.log
trap 'remove_tree "$tree"; rm -f "$new"' EXIT
trap 'exit 130' INT TERM HUP
remove_tree "$tree"
rm -f "$new"
echo "build-image: building Debian $num ($SUITE) into $IMG (debootstrap, a few minutes)" >&2
# shellcheck disable=SC2086 # split on purpose: one name per word
inc=$(echo $PKGS | tr ' ' ,)
if ! debootstrap --variant=minbase --include="$inc" "$SUITE" "$tree" "$uri" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "debootstrap failed (log: $log)"
fi
unmount_under "$tree"
configure "$tree"
ls "$tree"/boot/vmlinuz-* >/dev/null 2>&1 || die "no kernel in the built tree's /boot"
ls "$tree"/boot/initrd.img-* >/dev/null 2>&1 || die "no initrd in the built tree's /boot"
mkfs.ext4 -q -F -L vigil-root -d "$tree" "$new" "$SIZE" >>"$log" 2>&1 ||
    die "mkfs.ext4 failed (log: $log)"
mv "$new" "$IMG"
rm -f "$log"
echo "$IMG"
