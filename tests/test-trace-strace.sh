#!/bin/sh
# vigil's x86-64 syscall names against strace's: every name in the table
# must be one strace accepts in -e trace=NAME (strace knows them by the
# names it prints), unless it is newer than both this strace and the host's
# kernel headers.
. tests/functions.sh
requires strace
bin=$VIGIL_BUILD/tests/test-trace-tables
requires_file "$bin"
strace -o /dev/null true 2>/dev/null || {
    echo "requires strace to be able to trace (ptrace)"
    exit 77
}
hdr=
for h in /usr/include/x86_64-linux-gnu/asm/unistd_64.h \
    /usr/include/asm/unistd_64.h; do
    [ -f "$h" ] && hdr=$h && break
done

names=$(mktemp)
trap 'rm -f "$names"' EXIT
"$bin" --names >"$names" || fail "listing names"
total=0 known=0 newer=0 bad=0
# One strace run for all the names the headers know too (fast), one each
# for the rest, and one each for all if the batch fails (to name culprits).
in_hdr() { [ -n "$hdr" ] && grep -q "^#define __NR_$1 " "$hdr"; }
batch=
while read -r nr name; do
    in_hdr "$name" && batch="$batch${batch:+,}$name"
done <"$names"
batch_ok=false
[ -n "$batch" ] && strace -qq -e trace="$batch" -o /dev/null true 2>/dev/null &&
    batch_ok=true
while read -r nr name; do
    total=$((total + 1))
    if $batch_ok && in_hdr "$name"; then
        known=$((known + 1))
    elif strace -qq -e trace="$name" -o /dev/null true 2>/dev/null; then
        known=$((known + 1))
    elif ! in_hdr "$name"; then
        newer=$((newer + 1))
        echo "note: $nr $name is newer than this strace and these headers"
    else
        bad=$((bad + 1))
        echo "FAIL: strace does not know $nr $name"
    fi
done <"$names"
echo "ok: $known of $total names known to strace, $newer newer than it"
[ "$bad" -eq 0 ] || fail "$bad names strace does not know"

# The text form against strace's, call by call. One traced run of a small
# workload with -X verbose gives both the raw value of every constant and
# strace's symbolic form ("0x80000 /* O_RDONLY|O_CLOEXEC */"); strings come
# whole (-s 65535). Every call whose arguments are all numbers, constants,
# NULL or strings becomes an event for vigil's formatter (with the strings
# as its captures), and vigil's line must equal strace's.
fmt=$VIGIL_BUILD/tests/test-trace-format
requires_file "$fmt"
requires python3
raw=$(mktemp)
dir=$(mktemp -d)
trap 'rm -rf "$names" "$raw" "$dir"' EXIT
strace -f -qq -X verbose -s 65535 -o "$raw" sh -c '
    umask 027; mkdir -p "$1/d"; echo "hi	\"there\"" >"$1/d/f"
    chmod 640 "$1/d/f"; cat "$1/d/f"; ln -s f "$1/d/l"; readlink "$1/d/l"
    mv "$1/d/f" "$1/d/g"; ls "$1/nonexistent"; cd "$1"; pwd
    kill -0 $$; dd if=/dev/zero of="$1/z" bs=7 count=2 2>/dev/null
    rm -rf "$1/d" "$1/z"; true' sh "$dir" >/dev/null 2>&1 ||
    fail "strace run"
python3 - "$raw" "$fmt" <<'PY' || fail "vigil's text differs from strace's"
import errno, re, subprocess, sys

raw_path, fmt_bin = sys.argv[1], sys.argv[2]
LINE = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+= (.*)$')
VERB = re.compile(r"^(-?(?:0x[0-9a-f]+|\d+)) /\* ([A-Za-z0-9_|]+) \*/$")
NUM = re.compile(r'^-?(?:0x[0-9a-f]+|0[0-7]*|[1-9]\d*)$')

def split_args(s):
    out, cur, depth, q, i = [], '', 0, False, 0
    while i < len(s):
        c = s[i]
        if q:
            cur += c
            if c == '\\':
                cur += s[i + 1]; i += 1
            elif c == '"':
                q = False
        elif s.startswith('/*', i):
            j = s.index('*/', i) + 2
            cur += s[i:j]; i = j; continue
        elif c == '"':
            q = True; cur += c
        elif c in '[{(':
            depth += 1; cur += c
        elif c in ']})':
            depth -= 1; cur += c
        elif c == ',' and depth == 0:
            out.append(cur.strip()); cur = ''
        else:
            cur += c
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out

def unescape(body):
    b, i = bytearray(), 0
    simple = {'n': 10, 't': 9, 'r': 13, 'v': 11, 'f': 12, '"': 34, '\\': 92}
    while i < len(body):
        c = body[i]
        if c != '\\':
            b += c.encode('latin-1'); i += 1; continue
        n = body[i + 1]
        if n in simple:
            b.append(simple[n]); i += 2
        elif n == 'x':
            b.append(int(body[i + 2:i + 4], 16)); i += 4
        else:
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in '01234567':
                j += 1
            b.append(int(body[i + 1:j], 8)); i = j
    return bytes(b)

def num(tok):
    neg = tok.startswith('-')
    t = tok[1:] if neg else tok
    v = int(t, 16) if t.startswith('0x') else int(t, 8) if len(t) > 1 and t[0] == '0' else int(t)
    return (-v if neg else v) % 2**64

events, expected, skipped = [], [], 0
for line in open(raw_path, encoding='latin-1'):
    line = line.rstrip('\n')
    m = LINE.match(line)
    if not m or 'unfinished' in line or 'resumed>' in line:
        skipped += 1; continue
    name, argstr, ret = m.groups()
    vals, caps, shown, ok = [], [], [], True
    for i, tok in enumerate(split_args(argstr)):
        v = VERB.match(tok)
        if tok.startswith('"') and tok.endswith('"'):
            caps.append('%d=%s' % (i, unescape(tok[1:-1]).hex()))
            vals.append(0x10000 + i * 0x1000); shown.append(tok)
        elif tok == 'NULL':
            vals.append(0); shown.append(tok)
        elif v:
            vals.append(num(v.group(1))); shown.append(v.group(2))
        elif NUM.match(tok):
            vals.append(num(tok)); shown.append(tok)
        else:
            ok = False; break
    r = re.match(r'^(-?(?:0x[0-9a-f]+|\d+))$', ret)
    e = re.match(r'^-1 (E[A-Z0-9_]+) \(.*\)$', ret)
    if ret == '?':
        rv = '?'
    elif r:
        rv = str(num(r.group(1)) - (2**64 if r.group(1).startswith('-') else 0))
    elif e and hasattr(errno, e.group(1)):
        rv = str(-getattr(errno, e.group(1)))
    else:
        ok = False
    if not ok or len(vals) > 6:
        skipped += 1; continue
    vals += [0] * (6 - len(vals))
    events.append('%s %s %s %s' % (name, rv, ' '.join(map(str, vals)), ' '.join(caps)))
    expected.append('%s(%s) = %s' % (name, ', '.join(shown), ret))

out = subprocess.run([fmt_bin, '--events'], input='\n'.join(events) + '\n',
                     capture_output=True, text=True, encoding='latin-1')
if out.returncode != 0:
    print('FAIL: formatter exited %d' % out.returncode); sys.exit(1)
got = out.stdout.splitlines()
bad, names = 0, set()
for want, have in zip(expected, got):
    if want != have:
        bad += 1
        if bad <= 20:
            print('FAIL: strace: %s\n      vigil:  %s' % (want, have))
    else:
        names.add(want.split('(')[0])
print('ok: %d calls (%d names: %s) formatted as strace does, %d mismatches, '
      '%d lines not comparable' % (len(got) - bad, len(names),
                                   ' '.join(sorted(names)), bad, skipped))
sys.exit(1 if bad or len(got) != len(expected) or len(names) < 15 else 0)
PY
echo "PASS"
