#!/bin/sh
# The demo behind `make demo`: a real Debian guest kernel booted under QEMU,
# with vigil's plugin attached from outside, running a command.
set -u
cd "$(dirname "$0")/.." || exit 1
vigil=build/vigil
guest=build/guest

echo "== vigil profile: kernel facts derived from the bzImage alone"
if "$vigil" profile "$guest/vmlinuz" -o "$guest/profile.json"; then
    jq -r '"kernel \(.kernel.release)",
        "  entry_SYSCALL_64  \(.symbols.entry_SYSCALL_64)",
        "  init_task         \(.symbols.init_task)",
        "  task_struct.comm  +\(.structs.task_struct.members.comm)"' \
        "$guest/profile.json" 2>/dev/null || head -c 600 "$guest/profile.json"
fi

echo
echo "== vigil run: a command inside the guest (QEMU TCG, KASLR on)"
"$vigil" run -v -- sh -c '
    echo "inside the guest: $(uname -sr), pid $$, $(nproc) vCPU"
    grep -w _text /proc/kallsyms | sed "s/^/kernel base this boot: /"
    exit 3'
echo "vigil run exited with the command's status: $?"
