# `vigil run --trace all --callers`: which module made each call (from the
# guest kernel's own memory map) and whether the code was injected or
# self-generated (docs/callers.md). One boot runs every guest program:
# a static program's write(), strace's calls through the shared libc, a
# JIT-like page, and a victim injected into twice, by ptrace and by
# process_vm_writev plus a hijacked thread.
. tests/functions.sh
requires_qemu; requires jq nm readelf xxd
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" \
    "$GUEST/bin/vigil-victim"

cat >"$TMP/guest.sh" <<'EOF'
vigil-victim static
vigil-victim jit
strace -o /dev/null /bin/true
rm -f /tmp/victim-stop
vigil-victim wait >/tmp/v &
i=0; while [ ! -s /tmp/v ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
set -- $(cat /tmp/v)
sleep 0.3
vigil-inject-ptrace $2 $3
sleep 0.3
vigil-inject-pvw $2 $4 $5
sleep 0.3
touch /tmp/victim-stop
wait
cat /tmp/v
EOF
"$VIGIL" run --trace all --callers -o "$TMP/t.jsonl" -- sh -c "$(cat "$TMP/guest.sh")" >"$TMP/out" 2>&1
check "the guest programs ran" grep -q '^victim done' "$TMP/out"
check "... the ptrace injector" grep -q '^ptrace injected' "$TMP/out"
check "... the process_vm_writev injector" grep -q '^pvw injected' "$TMP/out"
ev() { jq -c "select(.type == \"syscall\") | select($1)" "$TMP/t.jsonl"; }

# A static program's write() from main: its caller frame (the syscall
# instruction, without a chain) is the program's own copy of libc's write,
# at a file offset that matches the symbol table.
w=$(ev '.comm == "vigil-victim" and .name == "write" and .ret == 13' | head -n 1)
mod=$(echo "$w" | jq -r .caller.module)
expect_eq "static write: caller module is the program" "$mod" /usr/bin/vigil-victim
addr=$(( $(echo "$w" | jq -r .caller.address) ))
off=$(( $(echo "$w" | jq -r .caller.offset) ))
bin=$GUEST/bin/vigil-victim
sym=$(nm -S --defined-only "$bin" | while read -r a s t n; do
    [ -n "$n" ] || continue
    if [ $((0x$a)) -le $addr ] && [ $addr -lt $((0x$a + 0x$s)) ]; then
        echo "$n"
    fi
done | grep -m 1 write)
check "static write: the address lies in nm's ${sym:-(no write symbol)}" test -n "$sym"
# The executable segment's file offset - virtual address difference.
delta=$(readelf -lW "$bin" | awk '$1 == "LOAD" && / E / { print $2, $3; exit }' |
    { read -r o v; echo $(( v - o )); })
expect_eq "static write: offset is the file offset of the address" \
    "$off" "$(( addr - delta ))"
check "static write: the bytes there are a syscall instruction" \
    sh -c "xxd -p -s $off -l 2 '$bin' | grep -qx 0f05"

# A dynamically linked program (strace, with the host's libc copied into
# the guest): its write() is attributed to libc.so.6 (no chain yet), at an
# offset where the host's libc holds a syscall instruction.
w=$(ev '.comm == "strace" and .name == "write"' | head -n 1)
mod=$(echo "$w" | jq -r .caller.module)
case $mod in */libc.so.6) ok=1 ;; *) ok= ;; esac
check "strace's write is attributed to libc ($mod)" test -n "$ok"
off=$(( $(echo "$w" | jq -r .caller.offset) ))
check "... at a syscall instruction in that file" \
    sh -c "xxd -p -s $off -l 2 '$mod' | grep -qx 0f05"
ld=$(ev '.comm == "strace" and .name == "mmap"' | jq -r .caller.module | sort -u | grep -c 'ld-linux')
check "the dynamic loader's own mmap calls are attributed to it" test "$ld" -ge 1

# JIT-like code: mmap RW, write, mprotect RX, call: self-generated.
j=$(ev '.comm == "vigil-victim" and .name == "getpid" and .origin == "self-generated"')
check "the JIT page's getpid is self-generated" test -n "$j"
expect_eq "... in anonymous memory" "$(echo "$j" | jq -r .caller.module)" "[anon]"
expect_eq "... made executable by its own mprotect" \
    "$(echo "$j" | jq -r .evidence.call)" mprotect

# Injection by ptrace: POKETEXT into the victim's own code, RIP set there.
vpid=$(sed -n 's/^victim \([0-9]*\) .*/\1/p' "$TMP/out")
ppid_=$(ev '.comm == "vigil-inject-pt" and .name == "ptrace"' | jq -r .pid | sort -u)
inj=$(ev ".pid == $vpid and .origin == \"injected\" and .evidence.call == \"ptrace\"")
expect_eq "ptrace injection: write and getpid flagged" \
    "$(echo "$inj" | jq -r .name | tr '\n' ' ')" "write getpid "
expect_eq "... naming the injector's pid" \
    "$(echo "$inj" | jq -r .evidence.pid | sort -u)" "$ppid_"
expect_eq "... and comm" "$(echo "$inj" | jq -r .evidence.comm | sort -u)" vigil-inject-pt
expect_eq "... in the victim's file-backed code" \
    "$(echo "$inj" | jq -r .caller.module | sort -u)" /usr/bin/vigil-victim

# Injection by process_vm_writev into the victim's RWX page, run by its
# worker thread through a rewritten function pointer. The page is one the
# victim made RWX itself: the other process's write decides.
wpid=$(ev '.name == "process_vm_writev"' | jq -r .pid | sort -u)
inj=$(ev ".pid == $vpid and .origin == \"injected\" and .evidence.call == \"process_vm_writev\"")
expect_eq "pvw injection: write and getpid flagged" \
    "$(echo "$inj" | jq -r .name | tr '\n' ' ')" "write getpid "
expect_eq "... naming the injector's pid" "$(echo "$inj" | jq -r .evidence.pid | sort -u)" "$wpid"
expect_eq "... from the hijacked thread, not the main one" \
    "$(echo "$inj" | jq -r 'select(.tid != .pid) | .name' | wc -l)" 2

# The victim's own calls, before and after, are not flagged; nothing else
# in the whole boot is.
first=$(ev ".pid == $vpid and .origin == \"injected\"" | jq -r .ts | head -n 1)
last=$(ev ".pid == $vpid and .origin == \"injected\"" | jq -r .ts | tail -n 1)
own=$(ev ".pid == $vpid and .name == \"getppid\"")
before=$(echo "$own" | jq -r "select(.ts < $first) | .ts" | wc -l)
after=$(echo "$own" | jq -r "select(.ts > $last) | .ts" | wc -l)
check "the victim's own getppid calls before ($before) and after ($after)" \
    test "$before" -gt 0 -a "$after" -gt 0
expect_eq "... carry no origin" \
    "$(echo "$own" | jq -r '.origin // "none"' | sort -u)" none
expect_eq "exactly the four shellcode calls are injected in the whole boot" \
    "$(ev '.origin == "injected"' | wc -l)" 4
nocaller=$(ev '.caller == null or .caller.module == null' | wc -l)
expect_eq "every call has a caller module" "$nocaller" 0

done_testing
