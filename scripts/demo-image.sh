#!/bin/sh
# The last part of `make demo` (scripts/demo.sh): a Debian 12 system with
# systemd booted from its disk image, traced from outside from its first
# process to its power-off, its root disk scanned, a command run through
# its guest agent.  One boot does all of it.
#
# The image is scripts/build-image.sh's, shared with the tests through its
# cache: the first run on a machine builds it (debootstrap, about 2 min),
# later runs take it at once.  The guest writes to a copy in build/, which
# is removed at the end; the trace stays in build/demo-image.jsonl.
#
# Every wait is bounded: the image build by BUILD_S, the boot by vigil's
# --timeout (and --wait-boot inside it).  Exits 0 when the demo ran or was
# skipped (not root, archive unreachable), 1 when something failed.
set -u
cd "$(dirname "$0")/.." || exit 1
vigil=build/vigil
BUILD_S=1800
RUN_S=600
trace=build/demo-image.jsonl
console=build/demo-image-console.log
img=build/demo-d12.raw

echo "== vigil run --image: a Debian 12 system booted from its disk image"
echo "   (systemd, udev, journald, the QEMU guest agent; traced from outside,"
echo "   its root disk scanned under policy deny)"
if [ "$(id -u)" != 0 ]; then
    echo "   skipped: building the image needs root (debootstrap)"
    exit 0
fi
# (debootstrap takes about 2 min on an idle machine; far longer on a busy one)
cached=$(timeout "$BUILD_S" sh scripts/build-image.sh bookworm)
rc=$?
case $rc in
0) ;;
3)
    echo "   skipped: the archive of apt's sources entry cannot be reached"
    exit 0
    ;;
124)
    echo "   failed: the image was not built within $BUILD_S s"
    exit 1
    ;;
*)
    echo "   failed: scripts/build-image.sh exited $rc"
    exit 1
    ;;
esac
echo "   image: $cached (the guest writes to a copy)"
trap 'rm -f "$img"' EXIT
trap 'exit 130' INT TERM HUP
rm -f "$img" "$trace" "$console"
cp --sparse=always "$cached" "$img" || exit 1

# vigil.test=write starts the image's vigil-test-write.service, a oneshot
# that writes a file carrying the test signature (build-image.sh).  The
# command waits for the boot to finish, then reports what systemd saw.
start=$(date +%s)
"$vigil" run --smp 1 --memory 1024 --timeout "$RUN_S" \
    --image "$img,scan=deny" --db tests/data/nbd/test.ndb \
    --append vigil.test=write --console "$console" \
    --trace all -o "$trace" -- sh -c '
    systemctl is-system-running --wait >/dev/null
    . /etc/os-release
    echo "$PRETTY_NAME, kernel $(uname -r), systemd: $(systemctl is-system-running)"
    u=vigil-test-write.service
    echo "$u: main pid $(systemctl show -p ExecMainPID --value $u)," \
        "result $(systemctl show -p Result --value $u):" \
        "$(journalctl -b -u $u -o cat | grep vigil-test-write:)"' \
    >build/demo-image.out 2>build/demo-image.err
status=$?
secs=$(($(date +%s) - start))
echo
echo "   a command through the guest agent (vigil run ... -- sh -c '...'):"
sed 's/^/     /' build/demo-image.out
echo "   vigil exited with the command's status: $status, after $secs s"

# One pass over the trace: pid, parent, name and call of every event.
jq -r 'select(.type == "syscall") | [.pid, .ppid, .comm, .name] | @tsv' \
    "$trace" >build/demo-image.calls
calls=$(wc -l <build/demo-image.calls)
procs=$(cut -f1 build/demo-image.calls | sort -u | wc -l)
dropped=$(jq -r 'select(.type == "summary") | .dropped_records' "$trace")
echo
echo "   the boot to power-off, seen from outside: $calls system calls"
echo "   from $procs processes, ${dropped:-?} records dropped"
echo '   the busiest processes, by calls:'
printf '    '
cut -f3 build/demo-image.calls | sort | uniq -c | sort -rn | head -n 5 |
    awk '{ printf "%s %s %s", (NR > 1 ? "," : ""), $2, $1 } END { print "" }'

# The detection, and the writer's process chain as the trace shows it.
det=$(grep -m1 '"type":"detection"' "$trace")
echo
if [ -z "$det" ]; then
    echo "   no detection in the trace (see build/demo-image.err)"
else
    echo "$det" | jq -r '"   detection: \(.signature) at byte \(.offset) of \(.disk),",
        "     policy \(.policy): the write was \(.write)"'
    # parent_of PID, comm_of PID (its most frequent name), exe_of PID (the program
    # it executed last, else its name), from the trace.
    parent_of() { awk -F'\t' -v p="$1" '$1 == p { print $2; exit }' build/demo-image.calls; }
    comm_of() {
        awk -F'\t' -v p="$1" '$1 == p { print $3 }' build/demo-image.calls |
            sort | uniq -c | sort -rn | awk '{ print $2; exit }'
    }
    exe_of() {
        grep '"name":"execve"' "$trace" | jq -r --argjson p "$1" \
            'select(.pid == $p and .ret == 0) | .decoded[0]' | tail -n 1 | grep . ||
            comm_of "$1"
    }
    echo "$det" | jq -r '.writers[] | "\(.pid) \(.comm) \(.syscall)"' |
        while read -r pid comm call; do
            parent=$(parent_of "$pid")
            grand=$(parent_of "$parent")
            echo "     writer: $comm (pid $pid, in $call),"
            echo "       child of $(exe_of "$parent") (pid $parent)," \
                "child of $(comm_of "$grand") (pid $grand)"
        done
fi

echo
if grep -q 'reboot: Power down' "$console" &&
    ! grep -q 'did not power off' build/demo-image.err; then
    echo "   then vigil asked the agent to power off: systemd stopped the guest"
    echo "   cleanly (\"reboot: Power down\" in $console)"
else
    echo "   the guest did not power off cleanly:"
    tail -n 5 build/demo-image.err "$console" | sed 's/^/     /'
fi
echo "   the whole trace: $trace"
[ "$status" = 0 ] && [ -n "$det" ]
