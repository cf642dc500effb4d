#!/bin/sh
# The demo behind `make demo`: a real Debian guest kernel booted under QEMU,
# with vigil's plugin attached from outside, running a command; then a whole
# Debian system booted from its disk image (scripts/demo-image.sh).
# Every boot is bounded by --timeout: the test guest's take seconds.
set -u
cd "$(dirname "$0")/.." || exit 1
vigil=build/vigil
guest=build/guest
RUN_S=180

echo "== vigil profile: kernel facts derived from the bzImage alone"
if "$vigil" profile "$guest/vmlinuz" -o "$guest/profile.json"; then
    jq -r '"kernel \(.kernel.release)",
        "  entry_SYSCALL_64  \(.symbols.entry_SYSCALL_64)",
        "  init_task         \(.symbols.init_task)",
        "  task_struct.comm  +\(.structs.task_struct.members.comm.offset)",
        "  current_task      per-CPU +\(.percpu.current_task)"' \
        "$guest/profile.json" 2>/dev/null || head -c 600 "$guest/profile.json"
fi

echo
echo "== vigil run: a command inside the guest (QEMU TCG, KASLR on)"
"$vigil" run --timeout "$RUN_S" -v -- sh -c '
    echo "inside the guest: $(uname -sr), pid $$, $(nproc) vCPU"
    grep -w _text /proc/kallsyms | sed "s/^/kernel base this boot: /"
    exit 3' 2>build/demo-run.err
rc=$?
# -v's QEMU command line and run directory are for debugging, not the demo.
grep -v '^vigil: \(bwrap\|qemu-system\|run directory\)' build/demo-run.err
echo "vigil run exited with the command's status: $rc"

echo
echo "== vigil run --trace: every system call of a guest program, seen from outside"
echo "   (a program that writes a file, reads it back, starts a thread and a child)"
"$vigil" run --timeout "$RUN_S" --trace exe=/usr/bin/vigil-tracee --follow-children --format text \
    -o build/demo-trace.txt -- vigil-tracee >/dev/null
grep -E 'openat|write\(3|read\(3|clone|execve|exit' build/demo-trace.txt | head -n 20
echo "   ... $(wc -l <build/demo-trace.txt) lines in build/demo-trace.txt"
"$vigil" run --timeout "$RUN_S" --trace all -o build/demo-trace.jsonl -- true >/dev/null
echo "   JSON Lines for the whole guest boot: $(grep -c '"syscall"' build/demo-trace.jsonl) calls, e.g."
grep '"name":"openat"' build/demo-trace.jsonl | head -n 1

echo
echo "== vigil run --disk: every byte the guest writes to its disk is scanned"
echo "   (ext2 on virtio-blk; a file holding a test signature; policy zero)"
img=build/demo-disk.img
rm -f "$img" build/demo-disk.jsonl
truncate -s 16M "$img" && mkfs.ext2 -q -b 4096 -F "$img"
"$vigil" run --timeout "$RUN_S" --disk "$img,scan=zero" --db tests/data/nbd/test.ndb \
    --trace comm=vigil-diskwrite -o build/demo-disk.jsonl -- sh -c '
    mount -t ext2 /dev/vda /mnt
    vigil-diskwrite /mnt/report.txt 4096 500 VIGIL-TEST-SIGNATURE-ONE 510
    umount /mnt'
echo "   the detection, in the trace after the call that wrote the data:"
grep -B1 '"type":"detection"' build/demo-disk.jsonl | cut -c1-160
grep '"type":"detection"' build/demo-disk.jsonl | grep -o '"writers":.*' 
echo "   the file as the host reads it from the image (bytes 492..532):"
debugfs -R "cat /report.txt" "$img" 2>/dev/null | dd bs=1 skip=492 count=40 \
    status=none | od -An -c | sed 's/^/  /'

echo
echo "== vigil run --inject: a call fails from outside the guest (strace's -e inject=)"
"$vigil" run --timeout "$RUN_S" --trace comm=head --format text --inject openat:error=EACCES \
    -o build/demo-inject.txt -- head -n 1 /proc/version
echo "   the guest's head got EACCES; vigil's trace of it:"
grep -E 'openat|exit_group' build/demo-inject.txt | sed 's/^/  /'
echo
echo "== the guest asks vigil who it is (hypercall: vmcall, RAX=1 identify)"
"$vigil" run --timeout "$RUN_S" --trace exe=/usr/bin/vigil-act -o /dev/null -- vigil-act hcall |
    grep -E '^(stack|untouched|cow)' | sed 's/^/  /'

echo
sh scripts/demo-image.sh
