# Shared by the --image tests (after tests/functions.sh).
#   test_image SUITE NAME   build (or take from the cache) the Debian SUITE
#                           image of scripts/build-image.sh and copy it to
#                           $TMP/NAME, set as IMG (the guest writes to it),
#                           and IMG_CACHED to the cached original (never
#                           written); skips without root or the archive
test_image() {
    [ "$(id -u)" = 0 ] || {
        echo "requires root (scripts/build-image.sh runs debootstrap)"
        exit 77
    }
    _ti_img=$(scripts/build-image.sh "$1")
    _ti_rc=$?
    [ "$_ti_rc" != 3 ] || {
        echo "requires the archive of apt's sources entry (unreachable)"
        exit 77
    }
    [ "$_ti_rc" = 0 ] && [ -s "$_ti_img" ] ||
        fail "scripts/build-image.sh $1 failed ($_ti_rc)"
    IMG=$TMP/$2
    IMG_CACHED=$_ti_img
    cp --sparse=always "$_ti_img" "$IMG"
}
