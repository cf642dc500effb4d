#!/bin/sh
# Download the kernel package that Debian's linux-image-cloud-amd64 depends on
# in SUITE today, and unpack it into OUTDIR:
#   OUTDIR/vmlinuz   the bzImage
#   OUTDIR/root/     the package's files (lib/modules/<release>/...)
#   OUTDIR/release   the kernel release string
# The version is never written down here: it is whatever the archive says.
# For a suite other than the system's, apt runs against a temporary sources
# list built from the system's own Debian entry (same archive, other suite).
set -eu
suite=${1:?usage: fetch-kernel.sh SUITE OUTDIR}
out=${2:?usage: fetch-kernel.sh SUITE OUTDIR}

system_suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

apt_opts=""
if [ "$suite" != "$system_suite" ]; then
    # The archive URI is read from the system's configuration at run time.
    uri=$(awk -v s="$system_suite" '
        /^URIs:/ { u = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print u; exit } }
        ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk -v s="$system_suite" '$1 == "deb" && $3 == s { print $2; exit }' \
            /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || { echo "fetch-kernel: no Debian archive entry for $system_suite in apt's sources" >&2; exit 1; }
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
    cat > "$tmp/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main
EOS
    apt_opts="-o Dir::Etc::SourceList=$tmp/sources.list -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists=$tmp/lists -o Dir::Cache=$tmp/cache
        -o Dir::State::Status=/dev/null -o Debug::NoLocking=1"
    # shellcheck disable=SC2086
    apt-get $apt_opts -q update >"$tmp/update.log" 2>&1 || {
        cat "$tmp/update.log" >&2
        echo "fetch-kernel: apt-get update for suite $suite failed" >&2
        exit 1
    }
fi

# shellcheck disable=SC2086
pkg=$(apt-cache $apt_opts depends linux-image-cloud-amd64 |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-cloud-amd64 in $suite" >&2; exit 1; }
echo "  FETCH   $pkg ($suite)"
# shellcheck disable=SC2086
(cd "$tmp" && apt-get $apt_opts -q download "$pkg" >download.log 2>&1) || {
    cat "$tmp/download.log" >&2
    exit 1
}
rm -rf "$out/root"
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$out/root"
release=${pkg#linux-image-}
cp "$out/root/boot/vmlinuz-$release" "$out/vmlinuz.tmp"
echo "$release" > "$out/release"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
