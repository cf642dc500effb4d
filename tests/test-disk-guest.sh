#!/bin/sh
# A real guest writes files holding a signature on an ext2 file system, over
# each disk path (IDE with transfers forced to PIO, IDE with DMA, virtio-blk)
# and under each policy; the test checks what the guest saw (success, EIO,
# its network link) and reads the files back on the host with debugfs.
#
# Every run writes two files with vigil-diskwrite:
#   buffered  4096 bytes, the signature at 500 (across a sector boundary),
#             written in two write() calls split inside the signature
#   direct    8192 bytes with O_DIRECT, the signature at 4084, split over
#             two write() calls and so over two disk requests
. tests/functions.sh
requires_qemu; requires nbdkit mkfs.ext2 debugfs python3
requires_file "$VIGIL" "$VIGIL_BUILD/nbdkit-vigil-filter.so" \
    "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" "$GUEST/bin/vigil-diskwrite"
DB=tests/data/nbd/test.ndb
SIG=VIGIL-TEST-SIGNATURE-ONE

# expected SIZE AT FILL: the file vigil-diskwrite writes, with the
# signature's bytes replaced by FILL (sig: as written, zero: zeros, zero@K:
# zeros from file offset K on).
expected() {
    python3 tests/disk_expected.py "$@" "$SIG"
}
expected 4096 500 sig >"$TMP/buffered.sig"
expected 4096 500 zero >"$TMP/buffered.zero"
expected 8192 4084 sig >"$TMP/direct.sig"
# The filter zeroes the part of a match in the request that completes it:
# the second of the two disk requests.
expected 8192 4084 zero@4096 >"$TMP/direct.zero"

# guest_run NAME IF DEV POLICY [APPEND]: fresh file system, one boot.
guest_run() {
    name=$1 iface=$2 dev=$3 policy=$4
    img="$TMP/$name.img"
    rm -f "$img" "$TMP/$name.jsonl"
    truncate -s 16M "$img"
    mkfs.ext2 -q -b 4096 -F "$img"
    "$VIGIL" run --timeout 300 --net user ${5:+--append "$5"} \
        --disk "$img,if=$iface,scan=$policy,events=$TMP/$name.jsonl" \
        --db "$DB" -- sh -c "
ip link set eth0 up
echo xfer=\$(cat /sys/class/ata_device/dev1.0/xfer_mode 2>/dev/null)
mount -t ext2 $dev /mnt || exit 1
vigil-diskwrite /mnt/buffered 4096 500 $SIG 510
vigil-diskwrite --direct /mnt/direct 8192 4084 $SIG 4096
echo carrier=\$(cat /sys/class/net/eth0/carrier)
umount /mnt && echo unmounted" >"$TMP/$name.out" 2>"$TMP/$name.err"
    expect_eq "$name: vigil run status" "$?" 0
    check "$name: file system unmounted" grep -qx unmounted "$TMP/$name.out"
}

# on_host NAME FILE: the file as the host reads it from the image.
on_host() {
    debugfs -R "dump /$2 $TMP/$1.$2" "$TMP/$1.img" 2>/dev/null
    cat "$TMP/$1.$2" 2>/dev/null
}
saw() { grep -qx "$2" "$TMP/$1.out"; }
# Distinct matches with action $2: IDE retries a failed write (libata and
# SCSI, up to 5 times), and every retry is refused and recorded again.
events() {
    grep "\"action\":\"$2\"" "$TMP/$1.jsonl" 2>/dev/null |
        grep -o '"offset":[0-9]*' | sort -u | wc -l | tr -d ' '
}

all_ok() {
    n=$1
    check "$n: every write and fsync succeeded" \
        sh -c "! grep -v -e ' ok\$' -e '^carrier=' -e '^configured' \
            -e '^xfer=' -e '^unmounted\$' '$TMP/$n.out'"
}

for path in pio dma virtio; do
    case $path in
    pio) iface=ide dev=/dev/sda append=libata.force=pio4 ;;
    dma) iface=ide dev=/dev/sda append= ;;
    virtio) iface=virtio dev=/dev/vda append= ;;
    esac
    for policy in alert deny zero cut-net; do
        n=$path-$policy
        guest_run "$n" "$iface" "$dev" "$policy" "$append"
        case $path in
        pio) check "$n: the disk used PIO" saw "$n" xfer=XFER_PIO_4 ;;
        dma) check "$n: the disk used DMA" grep -Eq \
            '^xfer=XFER_(MW_DMA|UDMA)_' "$TMP/$n.out" ;;
        esac
        check "$n: warning on the console" \
            grep -q "detection on disk ${dev#/dev/}: signature Vigil.Test.One" \
            "$TMP/$n.err"
        case $policy in
        alert | cut-net)
            all_ok "$n"
            check "$n: buffered file intact" cmp -s "$TMP/buffered.sig" \
                "$(on_host "$n" buffered >"$TMP/got" && echo "$TMP/got")"
            check "$n: direct file intact" cmp -s "$TMP/direct.sig" \
                "$(on_host "$n" direct >"$TMP/got" && echo "$TMP/got")"
            ;;
        deny)
            check "$n: buffered: both writes reached the page cache" \
                sh -c "saw() { grep -qx \"\$1\" '$TMP/$n.out'; };
                    saw 'write 0+510 ok' && saw 'write 510+3586 ok'"
            check "$n: buffered: fsync failed with EIO" \
                saw "$n" "fsync Input/output error"
            check "$n: direct: first request written" \
                saw "$n" "write 0+4096 ok"
            check "$n: direct: second request failed with EIO" \
                saw "$n" "write 4096+4096 Input/output error"
            check "$n: the signature is nowhere in the image" \
                sh -c "! grep -q $SIG '$TMP/$n.img'"
            on_host "$n" direct | head -c 4084 >"$TMP/got"
            head -c 4084 "$TMP/direct.sig" >"$TMP/want"
            check "$n: direct: data before the signature kept" \
                cmp -s "$TMP/want" "$TMP/got"
            ;;
        zero)
            all_ok "$n"
            check "$n: buffered file with the signature zeroed" cmp -s \
                "$TMP/buffered.zero" \
                "$(on_host "$n" buffered >"$TMP/got" && echo "$TMP/got")"
            check "$n: direct file with the second request's part zeroed" \
                cmp -s "$TMP/direct.zero" \
                "$(on_host "$n" direct >"$TMP/got" && echo "$TMP/got")"
            ;;
        esac
        action=$(case $policy in alert) echo alerted ;; deny) echo denied ;;
            zero) echo zeroed ;; cut-net) echo network-cut ;; esac)
        expect_eq "$n: '$action' events for both files" "$(events "$n" "$action")" 2
        if [ "$policy" = cut-net ]; then
            check "$n: the guest lost its link" saw "$n" carrier=0
        else
            check "$n: the guest kept its link" saw "$n" carrier=1
        fi
    done
done

done_testing
