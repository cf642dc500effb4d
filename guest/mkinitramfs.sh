#!/bin/sh
# Build the test guest's initramfs from Debian's packages and vigil's guest
# programs:  mkinitramfs.sh GUESTDIR OUTPUT
#   GUESTDIR/root/lib/modules/<release>/   kernel modules (from fetch-kernel.sh)
#   GUESTDIR/bin/*                         vigil's static guest programs
# The image holds busybox-static, strace with its shared libraries, the
# modules below with their dependencies (in load order), and guest/init.
set -eu
gdir=${1:?usage: mkinitramfs.sh GUESTDIR OUTPUT}
out=${2:?usage: mkinitramfs.sh GUESTDIR OUTPUT}
here=$(dirname "$0")

MODULES="virtio_pci virtio_blk virtio_net ata_piix sd_mod"

release=$(cat "$gdir/release")
moddir="$gdir/root/lib/modules/$release"
stage="$gdir/initramfs"
rm -rf "$stage"
mkdir -p "$stage"/bin "$stage"/sbin "$stage"/usr/bin "$stage"/usr/sbin \
    "$stage"/lib/modules "$stage"/etc "$stage"/proc "$stage"/sys \
    "$stage"/dev "$stage"/tmp "$stage"/root "$stage"/mnt "$stage"/run

# busybox and its applets.
bb=$(command -v busybox)
file -L "$bb" | grep -q 'statically linked' || {
    echo "mkinitramfs: $bb is not static (install busybox-static)" >&2
    exit 1
}
cp "$bb" "$stage/bin/busybox"
for applet in $("$bb" --list-full); do
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

# A dynamically linked program and the libraries ldd reports for it.
copy_with_libs() {
    prog=$1
    dest="$stage$prog"
    mkdir -p "$(dirname "$dest")"
    rm -f "$dest"
    cp "$prog" "$dest"
    ldd "$prog" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' |
        while read -r lib; do
            mkdir -p "$stage$(dirname "$lib")"
            cp -L "$lib" "$stage$lib"
        done
}
copy_with_libs "$(command -v strace)"

# Modules in dependency order: each one after everything it depends on.
find_mod() {
    find "$moddir/kernel" -name "$1.ko*" -o -name "$(echo "$1" | tr _ -).ko*" |
        head -n 1
}
order=""
add_mod() {
    case " $order " in *" $1 "*) return 0 ;; esac
    path=$(find_mod "$1")
    [ -n "$path" ] || { echo "mkinitramfs: module $1 not found" >&2; exit 1; }
    for dep in $(modinfo -F depends "$path" | tr , ' '); do
        add_mod "$(echo "$dep" | tr - _)"
    done
    case " $order " in *" $1 "*) return 0 ;; esac
    order="$order $1"
    # Look the file up again: the recursive calls above reused $path.
    path=$(find_mod "$1")
    case "$path" in
    *.ko.xz) xz -dc "$path" >"$stage/lib/modules/$1.ko" ;;
    *.ko.zst) zstd -qdc "$path" >"$stage/lib/modules/$1.ko" ;;
    *) cp "$path" "$stage/lib/modules/$1.ko" ;;
    esac
}
for m in $MODULES; do
    add_mod "$m"
done
echo "$order" | tr ' ' '\n' | sed '/^$/d' >"$stage/etc/modules"

# vigil's own guest programs.
for p in "$gdir"/bin/*; do
    [ -f "$p" ] && cp "$p" "$stage/usr/bin/"
done
# Its dynamically linked ones, with their libraries in /usr/lib/vigil.
mkdir -p "$stage/usr/lib/vigil"
for p in "$gdir"/dyn/*; do
    case $p in
    *.so) cp "$p" "$stage/usr/lib/vigil/" ;;
    *) [ -f "$p" ] && cp "$p" "$stage/usr/bin/" ;;
    esac
done

cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
    gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "  INITRD  $out ($(du -h "$out" | cut -f1), modules:$order)"
