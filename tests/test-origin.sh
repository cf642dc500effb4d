# `vigil run --trace all --callers`: which module made each call (from the
# guest kernel's own memory map) and whether the code was injected or
# self-generated (docs/callers.md). One boot per kernel (6.1 with two
# vCPUs, then 6.12) runs every guest program: a static program's write(),
# strace's calls through the shared libc, a JIT-like page (also calling
# through a forged stack), a dlopen()ed
# library, and a victim injected into ten times: by ptrace; by
# process_vm_writev (one remote iovec, then several, then naming the
# victim's other thread), writev and pwritev on /proc/PID/mem (also by a
# roundabout path through a dup'ed descriptor, by a forked child, through a
# symbolic link, and on a descriptor received over a Unix socket), each
# plus a hijacked thread; through executable System V shared memory; and
# once more after the victim moved its page (mremap).
# A third boot (6.1) with a profile lacking proc_mem_operations checks the
# path-based fallback for /proc/PID/mem.
. tests/functions.sh
requires_qemu; requires jq nm readelf xxd
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" \
    "$GUEST/bin/vigil-victim" "$GUEST/bin/vigil-inject-shm" \
    "$GUEST/dyn/libvigil-dl.so"

cat >"$TMP/guest.sh" <<'EOF'
uname -r
vigil-victim static
vigil-victim jit
vigil-victim spoof
vigil-victim patch
strace -o /dev/null /bin/true
vigil-dlopen
rm -f /tmp/victim-stop
vigil-victim wait >/tmp/v &
i=0; while [ ! -s /tmp/v ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
# The line comes after the victim's first getppid of its own: the calls
# "before" the injections exist without a pause here.
set -- $(cat /tmp/v)
# Each injection waits (at most 10 s) for its shellcode's line in /tmp/v.
n=0
ran() {
    n=$((n+1)); i=0
    while [ "$(grep -c '^injected!' /tmp/v)" -lt $n ] && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i+1))
    done
}
vigil-inject-ptrace $2 $3; ran
for m in pvw split writev pwritev tid dup fork symlink scm; do vigil-inject-pvw $2 $4 $5 $m; ran; done
vigil-inject-shm; ran
vigil-inject-pvw $2 $4 $5 move; ran
touch /tmp/victim-stop
wait
cat /tmp/v
EOF
scenario() {
    "$VIGIL" run --kernel "$1" --smp "$2" --trace all --callers -o "$TMP/t.jsonl" -- sh -c "$(cat "$TMP/guest.sh")" >"$TMP/out" 2>&1
    k=$(head -n 1 "$TMP/out")
    check "$k: the guest programs ran" grep -q '^victim done' "$TMP/out"
    check "... the ptrace injector" grep -q '^ptrace injected' "$TMP/out"
    check "... the process_vm_writev injector, 10 ways" \
        test "$(grep -c '^pvw injected' "$TMP/out")" -eq 10
    check "... the shared memory injector" grep -q '^shm injected' "$TMP/out"
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
    # the guest): its write() goes through libc's wrapper, so the caller is
    # the first frame outside libc: strace's own code, just after a call
    # instruction (e8 rel32, or ff 15 through the GOT).
    w=$(ev '.comm == "strace" and .name == "write"' | head -n 1)
    mod=$(echo "$w" | jq -r .caller.module)
    expect_eq "strace's write is attributed to strace's code, not libc's wrapper" \
        "$mod" /usr/bin/strace
    off=$(( $(echo "$w" | jq -r .caller.offset) ))
    check "... just after a call instruction in that file" \
        sh -c "xxd -p -s $((off - 5)) -l 1 /usr/bin/strace | grep -qx e8 ||
               xxd -p -s $((off - 6)) -l 2 /usr/bin/strace | grep -qx ff15"
    ld=$(ev '.comm == "strace" and .name == "mmap"' | jq -r .caller.module | sort -u | grep -c 'ld-linux')
    check "the dynamic loader's own mmap calls are attributed to it" test "$ld" -ge 1

    # A dlopen()ed library, mapped after the program started: a call its
    # own code makes is attributed to it, at the file offset of its syscall
    # instruction, inside the function nm names. Its write() goes through
    # libc's wrapper: attributed to the library through the return-address
    # chain.
    check "the dlopen program ran" grep -q '^dl write 17 getppid' "$TMP/out"
    so=$GUEST/dyn/libvigil-dl.so
    g=$(ev '.comm == "vigil-dlopen" and .name == "getppid"')
    expect_eq "dlopen: the library's own call names it" \
        "$(echo "$g" | jq -r .caller.module)" /usr/lib/vigil/libvigil-dl.so
    off=$(( $(echo "$g" | jq -r .caller.offset) ))
    check "... at its syscall instruction" \
        sh -c "xxd -p -s $off -l 2 '$so' | grep -qx 0f05"
    delta=$(readelf -lW "$so" | awk '$1 == "LOAD" && / E / { print $2, $3; exit }' |
        { read -r o v; echo $(( v - o )); })
    va=$(( off + delta ))
    fn=$(nm -S --defined-only "$so" | while read -r a s t n; do
        [ -n "$n" ] || continue
        if [ $((0x$a)) -le $va ] && [ $va -lt $((0x$a + 0x$s)) ]; then echo "$n"; fi
    done)
    expect_eq "... inside the function nm names" "$fn" vigil_dl_raw_getppid
    # Its loader runs code the earlier strace process ran from the same
    # physical pages at another address: each call's ip is its own. Before
    # main the loader opens libc on its own behalf; later main's dlopen()
    # opens the library: the first frame outside ld.so and libc is main's.
    expect_eq "dlopen: the loader's own openat calls are attributed to it" \
        "$(ev '.comm == "vigil-dlopen" and .name == "openat"' |
            jq -r 'select(tostring | test("libvigil-dl") | not) | .caller.module' | sort -u)" \
        /lib64/ld-linux-x86-64.so.2
    expect_eq "dlopen: main's dlopen() of the library is attributed to main's code" \
        "$(ev '.comm == "vigil-dlopen" and .name == "openat"' |
            jq -r 'select(tostring | test("libvigil-dl")) | .caller.module' | sort -u)" \
        /usr/bin/vigil-dlopen
    w=$(ev '.comm == "vigil-dlopen" and .name == "write" and .ret == 17')
    expect_eq "dlopen: the library's write() (through libc)" \
        "$(echo "$w" | jq -r .caller.module)" /usr/lib/vigil/libvigil-dl.so

    # JIT-like code: mmap RW, write, mprotect RX, call: self-generated.
    vpid=$(sed -n 's/^victim \([0-9]*\) .*/\1/p' "$TMP/out")
    jpid=$(sed -n 's/^jit getpid \([0-9]*\) .*/\1/p' "$TMP/out")
    j=$(ev ".pid == ${jpid:-0} and .name == \"getpid\" and .origin == \"self-generated\"")
    check "the JIT page's getpid is self-generated" test -n "$j"
    expect_eq "... in anonymous memory" "$(echo "$j" | jq -r .caller.module)" "[anon]"
    expect_eq "... made executable by its own mprotect" \
        "$(echo "$j" | jq -r .evidence.call)" mprotect

    # Call-stack spoofing: generated code jumps to a `syscall` in the
    # program's text with a made-up return address on the stack. The
    # call's instruction and stack are the program's; the branch that
    # entered them came from the generated page.
    spid=$(sed -n 's/^spoof getpid \([0-9]*\) .*/\1/p' "$TMP/out")
    gadget=$(sed -n 's/^spoof getpid [0-9]* at \(0x[0-9a-f]*\) .*/\1/p' "$TMP/out")
    s=$(ev ".pid == ${spid:-0} and .name == \"getpid\" and .caller.address == \"$gadget\"")
    expect_eq "spoofed stack: the call's caller is the program" \
        "$(echo "$s" | jq -r .caller.module)" /usr/bin/vigil-victim
    expect_eq "... yet self-generated, seen in the branch history" \
        "$(echo "$s" | jq -r '.origin + " " + .evidence.via')" "self-generated branch"

    # Code patching: the program made a page of its own text writable,
    # wrote code there and made it executable again. The kernel gave the
    # mapping copies of its pages (anon_vma); the process's own grant
    # covers the frame.
    p=$(ev '.comm == "vigil-victim" and .name == "getpid" and .origin == "injected" and .evidence.kind == "modified-file"')
    ppid=$(sed -n 's/^patched getpid \([0-9]*\) .*/\1/p' "$TMP/out")
    expect_eq "patched file code: its getpid is injected (modified-file) in the program" \
        "$(echo "$p" | jq -r '.pid, .caller.module')" "${ppid:-?}
/usr/bin/vigil-victim"
    expect_eq "... naming the process itself and its mprotect" \
        "$(echo "$p" | jq -r '.evidence.pid, .evidence.call')" "${ppid:-?}
mprotect"
    expect_eq "... its other calls, in the same (now copied) mapping, are not flagged" \
        "$(ev ".pid == ${ppid:-0} and .origin != null" | wc -l)" 1

    # Injection by ptrace: POKETEXT into the victim's own code, RIP set there.
    ppid_=$(ev '.comm == "vigil-inject-pt" and .name == "ptrace"' | jq -r .pid | sort -u)
    inj=$(ev ".pid == $vpid and .origin == \"injected\" and .evidence.call == \"ptrace\"")
    expect_eq "ptrace injection: write and getpid flagged" \
        "$(echo "$inj" | jq -r .name | tr '\n' ' ')" "write getpid "
    expect_eq "... naming the injector's pid" \
        "$(echo "$inj" | jq -r .evidence.pid | sort -u)" "$ppid_"
    expect_eq "... and comm" "$(echo "$inj" | jq -r .evidence.comm | sort -u)" vigil-inject-pt
    expect_eq "... in the victim's file-backed code" \
        "$(echo "$inj" | jq -r .caller.module | sort -u)" /usr/bin/vigil-victim

    # Injection into the victim's RWX page, run by its worker thread
    # through a rewritten function pointer, once per way of writing it
    # (vigil-inject-pvw's methods). The page is one the victim made RWX
    # itself: the other process's write decides. A symbolic link to
    # /proc/PID/mem and a descriptor received over SCM_RIGHTS are not known
    # by any path: the kernel's own struct file says what they are.
    for m in pvw:process_vm_writev split:process_vm_writev \
        writev:writev pwritev:pwritev tid:process_vm_writev dup:writev \
        fork:pwrite64 symlink:write scm:pwrite64 move:process_vm_writev; do
        how=${m%%:*} call=${m#*:}
        wpid=$(sed -n "s/^pvw injected into .* by \([0-9]*\) $how\$/\1/p" "$TMP/out")
        inj=$(ev ".pid == $vpid and .origin == \"injected\" and .evidence.pid == ${wpid:-0}")
        expect_eq "$how injection: write and getpid flagged" \
            "$(echo "$inj" | jq -r .name | tr '\n' ' ')" "write getpid "
        expect_eq "... naming the injector's call" \
            "$(echo "$inj" | jq -r .evidence.call | sort -u)" "$call"
        expect_eq "... from the hijacked thread, not the main one" \
            "$(echo "$inj" | jq -r 'select(.tid != .pid) | .name' | wc -l)" 2
    done
    # The moved arena ($wpid is the last method's injector, move's): the
    # calls ran at its new address.
    new=$(sed -n 's/^victim moved [^ ]* \(0x[0-9a-f]*\)$/\1/p' "$TMP/out")
    inj=$(ev ".pid == $vpid and .origin == \"injected\" and .evidence.pid == ${wpid:-0}" |
        jq -r ".caller.address" | while read -r a; do
            [ $((a)) -ge $((${new:-0})) ] && [ $((a)) -lt $((${new:-0} + 4096)) ] && echo "$a"
        done | wc -l)
    expect_eq "mremap: the moved arena's history moved with it (2 calls at ${new:-?})" "$inj" 2

    # Code handed over in System V shared memory: another process attached
    # the segment writable and wrote it; the victim attached it executable.
    spid=$(sed -n 's/^shm injected [0-9]* by \([0-9]*\)$/\1/p' "$TMP/out")
    inj=$(ev ".pid == $vpid and .origin == \"injected\" and .evidence.pid == ${spid:-0}")
    expect_eq "shm injection: write and getpid flagged" \
        "$(echo "$inj" | jq -r .name | tr '\n' ' ')" "write getpid "
    expect_eq "... as shared memory another process wrote" \
        "$(echo "$inj" | jq -r '.evidence.kind + " " + .evidence.call + " " + .evidence.comm' | sort -u)" \
        "shm shmat vigil-inject-sh"
    expect_eq "... in the segment, named as the kernel names it (IPC_PRIVATE: key 0)" \
        "$(echo "$inj" | jq -r .caller.module | sort -u)" /SYSV00000000

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
    expect_eq "exactly the 24 shellcode calls and the patched getpid are injected in the whole boot" \
        "$(ev '.origin == "injected"' | wc -l)" 25
    expect_eq "... one of them as modified file code" \
        "$(ev '.evidence.kind == "modified-file"' | wc -l)" 1
    nocaller=$(ev '.caller == null or .caller.module == null' | wc -l)
    expect_eq "every call has a caller module" "$nocaller" 0
}

# Two vCPUs on 6.1: maps and calls of one process's threads come through
# both rings.
scenario "$GUEST/vmlinuz" 2
# The same on Linux 6.12 (Debian 13's kernel, whose maple tree and
# structures the profile reads from its own BTF; modules of the 6.1
# initramfs do not load there, and are not needed).
# Without proc_mem_operations in the profile (a kernel without it in
# kallsyms) /proc/PID/mem is known by path only: the ways through a known
# path still count, the symbolic link and the received descriptor do not.
"$VIGIL" profile "$GUEST/vmlinuz" -o "$TMP/full.json" 2>/dev/null
jq 'del(.symbols.proc_mem_operations)' "$TMP/full.json" >"$TMP/nofops.json"
"$VIGIL" run --kernel "$GUEST/vmlinuz" --profile "$TMP/nofops.json" --trace all \
    --callers -o "$TMP/t.jsonl" -- sh -c "$(cat "$TMP/guest.sh")" >"$TMP/out" 2>&1
check "path only: the injectors ran" \
    test "$(grep -c '^pvw injected' "$TMP/out")" -eq 10
expect_eq "path only: the 4 ways through a known path (8 calls) are flagged proc-mem" \
    "$(jq -c 'select(.type == "syscall" and .evidence.kind == "proc-mem")' "$TMP/t.jsonl" | wc -l)" 8
for how in symlink scm; do
    wpid=$(sed -n "s/^pvw injected into .* by \([0-9]*\) $how\$/\1/p" "$TMP/out")
    expect_eq "path only: $how is not known (the documented limit)" \
        "$(jq -c "select(.type == \"syscall\" and .evidence.pid == ${wpid:-0})" "$TMP/t.jsonl" | wc -l)" 0
done

if [ -f "$GUEST/trixie/vmlinuz" ]; then
    scenario "$GUEST/trixie/vmlinuz" 1
    check "the second boot ran Linux 6.12 ($k)" sh -c "echo '$k' | grep -q '^6\.12\.'"
else
    echo "note: no $GUEST/trixie/vmlinuz (make check builds it): 6.12 not run"
fi

done_testing
