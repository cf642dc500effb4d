# Sourced by scripts/setup.sh and scripts/build-image.sh: where Debian's
# archive is, read from the apt sources entry of the host's own release
# (never written into the project).
#   codename       the host's release (bookworm, trixie, ...)
#   archive_uri    prints the URI of that entry's archive; 1 if none
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")

archive_uri() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$codename" '
            /^[[:space:]]*$/ { if (hit && uri != "") { print uri; exit } hit = 0; uri = "" }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
            END { if (hit && uri != "") print uri }' "$f" | head -n 1 | grep . && return 0
    done
    [ -f /etc/apt/sources.list ] &&
        awk -v s="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i == s) { print $(i - 1); exit } }' \
            /etc/apt/sources.list | grep . && return 0
    return 1
}
