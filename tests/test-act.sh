# vigil acting on the guest: the identify hypercall with out-buffers in every
# kind of page, and --inject compared with strace's -e inject run inside the
# guest (guest/vigil-act.c does the work and prints what it saw).
. tests/functions.sh
requires_qemu
requires python3 jq
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"

ACT=/usr/bin/vigil-act
version=$("$VIGIL" --version)
len=${#version}

# ---- the hypercall -------------------------------------------------------
"$VIGIL" run -v --trace exe=$ACT -o "$TMP/hcall.jsonl" -- vigil-act hcall \
    >"$TMP/hcall.out" 2>"$TMP/hcall.err"
expect_eq "hcall program exits 0 (vigil and QEMU kept running)" "$?" 0
cat "$TMP/hcall.out"
line() { grep "^$1:" "$TMP/hcall.out" | head -n 1; }
expect_eq "identify into a stack buffer" "$(line stack)" "stack: ret=$len str=$version"
expect_eq "a short buffer: cut, NUL-terminated, full length returned" \
    "$(line short)" "short: ret=$len str=$(echo "$version" | cut -c1-5) after=x"
expect_eq "a zero length writes nothing" "$(line zero-length)" "zero-length: ret=$len"
expect_eq "across a page boundary" "$(line boundary)" "boundary: ret=$len str=$version"
expect_eq "into a never-touched mmap page" "$(line untouched)" "untouched: ret=$len str=$version"
expect_eq "into a page shared copy-on-write: the writer sees it" \
    "$(line 'cow parent')" "cow parent: ret=$len str=$version"
expect_eq "... and the child's copy is unchanged" "$(line 'cow child')" \
    "cow child: first=P all-P=1"
expect_eq "into a page mapping the zero page" "$(line 'zero page')" \
    "zero page: ret=$len str=$version"
expect_eq "... and fresh pages still read zeros" "$(line 'fresh pages after')" \
    "fresh pages after: all-zero=1"
for what in read-only unmapped null kernel non-canonical; do
    expect_eq "$what buffer: -EFAULT" "$(line "$what")" "$what: ret=-14"
done
expect_eq "a buffer running into an unmapped page: -EFAULT, nothing written" \
    "$(line 'runs off the end')" "runs off the end: ret=-14 untouched=1"
for fn in 0 12345 -1; do
    expect_eq "unknown function $fn: -ENOSYS" "$(line "fn $fn")" "fn $fn: ret=-38"
done
expect_eq "a huge length is cut to the string" "$(line 'huge length')" "huge length: ret=$len"
expect_eq "1000 identifies into fresh pages under a 200 us timer signal" \
    "$(line 'under signals')" "under signals: bad=0 ticks>0=1"
stats=$(grep 'vigil-plugin: exit' "$TMP/hcall.err")
echo "$stats"
check "the plugin faulted pages in through the guest kernel" \
    sh -c "echo '$stats' | grep -Eq 'fault-ins [1-9][0-9]* '"
check "no detour was lost" sh -c "echo '$stats' | grep -q ' 0 lost)'"
# The hypercall is not a system call: the trace shows none of vigil's own
# detours (madvise) for the program.
n=$(jq -s '[.[] | select(.type == "syscall" and .name == "madvise")] | length' "$TMP/hcall.jsonl")
expect_eq "vigil's fault-in calls stay out of the trace" "$n" 0

# Without vigil's answer, vmcall is an invalid instruction: SIGILL (132).
"$VIGIL" run --trace exe=$ACT --no-hypercalls -o /dev/null -- vigil-act hcall >"$TMP/no.out"
expect_eq "--no-hypercalls: vmcall raises #UD (SIGILL)" "$?" 132
"$VIGIL" run --no-plugin -- vigil-act hcall >"$TMP/no.out"
expect_eq "no plugin: vmcall raises #UD (SIGILL)" "$?" 132

# ---- --inject against strace -e inject ------------------------------------
inject_case() {
    name=$1 spec=$2
    shift 2
    "$VIGIL" run -- sh -c "strace -f -qq -o /tmp/st.txt -e inject=$spec $* >/tmp/out.txt; echo rc=\$? >>/tmp/out.txt; cat /tmp/st.txt; echo ===; cat /tmp/out.txt" \
        >"$TMP/guest.txt"
    sed '/^===$/,$d' "$TMP/guest.txt" >"$TMP/strace.txt"
    sed '1,/^===$/d' "$TMP/guest.txt" >"$TMP/strace-out.txt"
    "$VIGIL" run --trace exe=$ACT --follow-children --inject "$spec" \
        -o "$TMP/inject.jsonl" -- sh -c "$*; echo rc=\$?" >"$TMP/vigil-out.txt"
    check "$name: the program printed the same under both" \
        cmp "$TMP/strace-out.txt" "$TMP/vigil-out.txt"
    n=$(grep -c 'INJECTED' "$TMP/strace.txt")
    check "$name: strace injected something ($n calls)" test "$n" -gt 0
    check "$name: the same (call, result, injected) sequence, thread by thread" \
        python3 tests/strace_compare.py --other-boot "$TMP/strace.txt" "$TMP/inject.jsonl"
    check "$name: the text format marks injected calls" sh -c \
        "$VIGIL run --trace exe=$ACT --format text --inject '$spec' -o '$TMP/inject.txt' -- $* >/dev/null; grep -q '(INJECTED)\$' '$TMP/inject.txt'"
}
inject_case "errors" "openat,uname:error=ENOENT" vigil-act calls 3
inject_case "when=" "getppid:retval=4242:when=2..6+2" vigil-act calls 7
inject_case "threads" "getppid:retval=7:when=2+" vigil-act threads 3

# Bad specs: a clear error, exit 2, nothing started.
for bad in "openat" "openat:error=ENOPE" "nosuchcall:error=EIO" \
    "read:retval=1:when=0" "read:retval=1:when=5..2" "read:error=EIO:retval=1" \
    "read:signal=SIGKILL" "read:error=EIO:when=1+x" ",:error=EIO"; do
    "$VIGIL" run --trace all --inject "$bad" -- true 2>"$TMP/err"
    expect_eq "--inject '$bad' refused with exit 2" "$?" 2
    check "--inject '$bad': says why" grep -q -- "--inject '$bad': " "$TMP/err"
done
"$VIGIL" run --inject "read:error=EIO" -- true 2>"$TMP/err"
expect_eq "--inject without --trace refused" "$?" 2

done_testing
