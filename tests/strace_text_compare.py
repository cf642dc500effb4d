"""Compare vigil's text rendering with strace's own lines
(test-trace-strace): for each line strace wrote (strace -f -X verbose), the
call is rendered by FORMATTER (build/tests/test-trace-format) from its
raw arguments and must read as
strace's line reads.
  strace_text_compare.py RAW_STRACE_OUTPUT FORMATTER"""
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
