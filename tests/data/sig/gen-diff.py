#!/usr/bin/env python3
"""Generate signature databases and data files for the differential test of
`vigil scan` against clamscan (tests/test-scan-clamav.sh).

The generator does not know the expected results: clamscan is the oracle.
It plants instances of the signatures (and near misses: a gap one byte too
long, an excluded byte, a wrong boundary character, an offset one byte off)
into files, so that both engines see the interesting cases.

Every signature stays inside what clamscan 1.4 accepts: each part between
ranges has a block of at least two literal bytes, and nothing depends on a
file type.  Files are at least 64 bytes (clamscan skips files of 5 bytes or
less, see docs/signatures.md).

usage: gen-diff.py --seed N --out DIR [--sigs N] [--files N]
  DIR/diff.ndb diff.ldb diff.db diff.hdb diff.hsb   signatures
  DIR/files/f000..                                   data
  DIR/target.ndb DIR/tfiles/                         target-type cases
"""
import argparse
import hashlib
import os
import random
import re

# (B), (L), (W) byte classes as clamscan 1.4 applies them (before the
# signature, inside it, after it); docs/signatures.md.
B_LEFT = {0x20, 0x2d, 0x2e, 0x2f, 0x3c, 0x40, 0x5f}
B_RIGHT = {0x0a, 0x0d, 0x20, 0x22, 0x27, 0x2d, 0x2f, 0x3d, 0x3e, 0x5f}
B_MID = B_LEFT | B_RIGHT
L_SET = {0x0a}
W_SET = {b for b in range(256) if not chr(b).isalnum() or b > 0x7f}
SPECIAL = {
    'B': (B_LEFT, B_MID, B_RIGHT),
    'L': (L_SET, L_SET, L_SET),
    'W': (W_SET, W_SET, W_SET),
}


def hx(b):
    return bytes(b).hex()


class Sig:
    """A body signature as a list of elements, renderable to ClamAV hex and
    instantiable to bytes.  Elements are tuples:
      ('lit', bytes)        literal
      ('any', n)            n x ??
      ('nhi', v) ('nlo', v) nibble wildcards a? / ?a
      ('alt', [bytes], neg) fixed-width alternatives, maybe negated
      ('galt', [[elem]])    generic alternatives (lit/any inside)
      ('gap', lo, hi, txt)  range; hi None = unbounded; txt = rendering
      ('sp', c, where)      special class; where 0 start, 1 mid, 2 end
    """

    def __init__(self, elems):
        self.elems = elems

    def hex(self):
        out = []
        for e in self.elems:
            k = e[0]
            if k == 'lit':
                out.append(hx(e[1]))
            elif k == 'any':
                out.append('??' * e[1])
            elif k == 'nhi':
                out.append('%x?' % e[1])
            elif k == 'nlo':
                out.append('?%x' % e[1])
            elif k == 'alt':
                out.append(('!' if e[2] else '') + '(' +
                           '|'.join(hx(a) for a in e[1]) + ')')
            elif k == 'galt':
                out.append('(' + '|'.join(
                    ''.join(hx(x[1]) if x[0] == 'lit' else '??' * x[1]
                            for x in alt) for alt in e[1]) + ')')
            elif k == 'gap':
                out.append(e[3])
            elif k == 'sp':
                out.append('(%s)' % e[1])
        return ''.join(out)


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def rbytes(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def lit(self, lo=4, hi=12):
        # Literal bytes that never contain the (B)/(L)/(W) class bytes'
        # common filler, so that planted context is under our control.
        return self.rbytes(self.r.randint(lo, hi))

    def text_lit(self, lo=4, hi=10):
        letters = b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
        return bytes(self.r.choice(letters)
                     for _ in range(self.r.randint(lo, hi)))

    # ---- body signatures ----

    def mid_elem(self, allow_galt=True):
        r = self.r
        k = r.choice(['any', 'nib', 'alt1', 'altn', 'nalt1', 'naltn',
                      'galt', 'fixgap', 'smallgap', 'spmid'])
        if k == 'any':
            return ('any', r.randint(1, 3))
        if k == 'nib':
            return (r.choice(['nhi', 'nlo']), r.randint(0, 15))
        if k in ('alt1', 'nalt1'):
            alts = sorted({bytes([r.getrandbits(8)])
                           for _ in range(r.randint(2, 4))})
            return ('alt', alts, k == 'nalt1')
        if k in ('altn', 'naltn'):
            w = r.randint(2, 4)
            alts = sorted({self.rbytes(w) for _ in range(r.randint(2, 3))})
            return ('alt', alts, k == 'naltn')
        if k == 'galt' and allow_galt:
            alts = []
            for _ in range(r.randint(2, 3)):
                alt = [('lit', self.rbytes(r.randint(1, 4)))]
                if r.random() < 0.3:
                    alt.append(('any', 1))
                    alt.append(('lit', self.rbytes(1)))
                alts.append(alt)
            return ('galt', alts)
        if k == 'fixgap':
            n = r.randint(1, 20)
            return ('gap', n, n, '{%d}' % n)
        if k == 'smallgap':
            return self.gap(small=True)
        if k == 'spmid':
            return ('sp', r.choice('BLW'), 1)
        return ('any', 1)

    def gap(self, small=False):
        r = self.r
        form = r.choice(['n', '-n', 'n-', 'n-m', '*', 'n-m'] if not small
                        else ['-n', 'n-m', 'n-m'])
        a = r.randint(1, 12)
        b = a + r.randint(1, 12)
        if form == 'n':
            return ('gap', a, a, '{%d}' % a)
        if form == '-n':
            return ('gap', 0, a, '{-%d}' % a)
        if form == 'n-':
            return ('gap', a, None, '{%d-}' % a)
        if form == '*':
            return ('gap', 0, None, '*')
        return ('gap', a, b, '{%d-%d}' % (a, b))

    def part(self, nmid):
        """A part between ranges: starts and ends with literals of >= 2
        bytes (clamscan requires a static block in every part)."""
        elems = [('lit', self.lit(4, 10))]
        for _ in range(nmid):
            elems.append(self.mid_elem())
            elems.append(('lit', self.lit(2, 6)))
        return elems

    def body_sig(self):
        r = self.r
        kind = r.choice(['plain', 'plain', 'mid', 'mid', 'gaps', 'special',
                         'range', 'text'])
        if kind == 'plain':
            return Sig([('lit', self.lit(6, 40))])
        if kind == 'text':
            return Sig([('lit', self.text_lit(6, 20))])
        if kind == 'mid':
            return Sig(self.part(r.randint(1, 3)))
        if kind == 'range':
            # HEXSIG[x-y]aa or aa[x-y]HEXSIG: a range next to one byte.
            x = r.randint(0, 3)
            y = x + r.randint(1, 4)
            if r.random() < 0.5:
                return Sig([('lit', self.lit(4, 8)),
                            ('gap', x, y, '[%d-%d]' % (x, y)),
                            ('lit', self.rbytes(1))])
            return Sig([('lit', self.rbytes(1)),
                        ('gap', x, y, '[%d-%d]' % (x, y)),
                        ('lit', self.lit(4, 8))])
        if kind == 'special':
            elems = [('lit', self.lit(4, 8))]
            where = r.choice(['start', 'end', 'both'])
            if where in ('start', 'both'):
                elems.insert(0, ('sp', r.choice('BLW'), 0))
            if where in ('end', 'both'):
                elems.append(('sp', r.choice('BLW'), 2))
            return Sig(elems)
        elems = self.part(r.randint(0, 1))
        for _ in range(r.randint(1, 2)):
            elems.append(self.gap())
            elems += self.part(r.randint(0, 1))
        return Sig(elems)

    # ---- instances ----

    def inst(self, sig, miss=False):
        """Bytes matching sig (before/after context included) and, with
        miss, one element deliberately wrong."""
        r = self.r
        elems = sig.elems
        bad = r.randrange(len(elems)) if miss else -1
        pre, out, post = b'', [], b''
        for i, e in enumerate(elems):
            k, wrong = e[0], i == bad
            if k == 'lit':
                b = bytearray(e[1])
                if wrong:
                    j = r.randrange(len(b))
                    b[j] ^= 1 << r.randrange(8)
                out.append(bytes(b))
            elif k == 'any':
                out.append(self.rbytes(e[1]))
            elif k in ('nhi', 'nlo'):
                v = e[1] ^ (1 if wrong else 0)
                lo = r.randint(0, 15)
                out.append(bytes([(v << 4 | lo) if k == 'nhi'
                                  else (lo << 4 | v)]))
            elif k == 'alt':
                alts, neg = e[1], e[2]
                if neg == wrong:
                    out.append(r.choice(alts))
                else:
                    while True:
                        c = self.rbytes(len(alts[0]))
                        if c not in alts:
                            break
                    out.append(c)
            elif k == 'galt':
                alt = r.choice(e[1])
                for x in alt:
                    out.append(x[1] if x[0] == 'lit' else self.rbytes(x[1]))
                if wrong:
                    out.append(self.rbytes(1))
            elif k == 'gap':
                lo, hi = e[1], e[2]
                top = hi if hi is not None else lo + 30
                n = r.randint(lo, top)
                if wrong:
                    n = hi + 1 if hi is not None else max(lo - 1, 0)
                out.append(self.rbytes(n))
            elif k == 'sp':
                sets = SPECIAL[e[1]]
                where = e[2]
                allowed = sets[where]
                if wrong:
                    pool = [b for b in range(256) if b not in allowed]
                else:
                    pool = sorted(allowed)
                c = bytes([r.choice(pool)])
                if where == 0:
                    pre = c
                elif where == 2:
                    post = c
                else:
                    out.append(c)
        return pre, b''.join(out), post

    # ---- files ----

    def filler(self, n):
        r = self.r
        kind = r.random()
        if kind < 0.6:
            return self.rbytes(n)
        if kind < 0.8:
            words = [b'the', b'data', b'vigil', b'scan', b'monitor', b'-',
                     b'\n', b'_', b'.', b'/', b'=', b'<tag>', b'0x1f']
            out = bytearray()
            while len(out) < n:
                out += r.choice(words) + r.choice([b' ', b'', b'\n'])
            return bytes(out[:n])
        return bytes([r.getrandbits(8) & 0x3f for _ in range(n)])


def ldb_sigs(g, n):
    """Logical signatures: (line, [subsig instance makers], expr)."""
    r = g.r
    exprs = ['0&1', '0|1', '(0|1)&2', '0>1', '0=2', '0<2&1', '(0|1|2)>2,2',
             '(0&1)=3', '0&1=0', '(0|1)=2,2', '0=0|1', '(0&1)|2>1',
             '((0|1)&(1|2))', '0>2', '0=1&1<2']
    out = []
    for i in range(n):
        expr = r.choice(exprs)
        nsub = 1 + max(int(x) for x in re.findall(r'(?:^|[(&|])(\d+)', expr))
        subs = []
        for k in range(nsub):
            mod = r.choice(['', '', '', '::i', '::w', '::wa', '::f', '::a'])
            off = r.choice(['', '', '', '*:', '40,20:', 'EOF-300,200:'])
            if mod:
                body = g.text_lit(5, 10)
                sig = Sig([('lit', body)])
            else:
                sig = Sig(g.part(r.randint(0, 1)))
            subs.append((off, sig, mod))
        fs = r.random() < 0.1
        eng = 'Engine:81-255,' if fs or any(s[2] for s in subs) else ''
        tdb = eng + 'Target:0' + (',FileSize:100-30000' if fs else '')
        line = 'Diff.Ldb.%d;%s;%s;' % (i, tdb, expr) + ';'.join(
            off + s.hex() + mod for off, s, mod in subs)
        out.append((line, subs))
    return out


def wide(b):
    return b''.join(bytes([c, 0]) for c in b)


def flip_case(r, b):
    return bytes(c ^ 0x20 if chr(c).isalpha() and r.random() < 0.5 else c
                 for c in b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--sigs', type=int, default=400)
    ap.add_argument('--files', type=int, default=160)
    a = ap.parse_args()
    g = Gen(a.seed)
    r = g.r
    os.makedirs(os.path.join(a.out, 'files'), exist_ok=True)
    os.makedirs(os.path.join(a.out, 'tfiles'), exist_ok=True)

    # Body signatures with offsets.
    body = []
    for i in range(a.sigs):
        s = g.body_sig()
        off = r.choice(['*'] * 6 + ['abs', 'float', 'eof', 'eoffloat'])
        body.append(('Diff.Ndb.%d' % i, s, off, r.randint(40, 400),
                     r.randint(1, 30)))
    dbsigs = [('Diff.Db.%d' % i, Sig(g.part(r.randint(0, 1))))
              for i in range(a.sigs // 8)]
    ldbs = ldb_sigs(g, a.sigs // 6)

    with open(os.path.join(a.out, 'diff.ndb'), 'w') as f:
        for name, s, off, n, sh in body:
            o = {'*': '*', 'abs': '%d' % n, 'float': '%d,%d' % (n, sh),
                 'eof': 'EOF-%d' % n, 'eoffloat': 'EOF-%d,%d' % (n, sh)}[off]
            f.write('%s:0:%s:%s\n' % (name, o, s.hex()))
    with open(os.path.join(a.out, 'diff.db'), 'w') as f:
        for name, s in dbsigs:
            f.write('%s=%s\n' % (name, s.hex()))
    with open(os.path.join(a.out, 'diff.ldb'), 'w') as f:
        for line, _ in ldbs:
            f.write(line + '\n')

    # Files: filler with planted instances and near misses.
    files = []
    for fi in range(a.files):
        size = r.choice([r.randint(64, 2000), r.randint(2000, 40000),
                         r.randint(2000, 40000), r.randint(40000, 300000)])
        if fi < 2:
            size = r.randint(1 << 20, (1 << 20) + 300000)
        buf = bytearray(g.filler(size))
        # Never let a file start like an executable or archive.
        buf[0:2] = b'\x01\x02'
        plants = r.randint(1, 12)
        for _ in range(plants):
            what = r.random()
            miss = r.random() < 0.35
            if what < 0.55:
                name, s, off, n, sh = r.choice(body)
                pre, x, post = g.inst(s, miss)
                blob = pre + x + post
                if off in ('abs', 'float'):
                    pos = n - len(pre) + (r.randint(0, sh) if off == 'float'
                                          else 0)
                    if r.random() < 0.2:
                        pos += r.choice([-1, 1, sh + 1])
                elif off in ('eof', 'eoffloat'):
                    pos = size - n - len(pre) + (
                        r.randint(0, sh) if off == 'eoffloat' else 0)
                    if r.random() < 0.2:
                        pos += r.choice([-1, 1])
                else:
                    pos = r.randint(2, max(2, size - len(blob)))
                    if r.random() < 0.3:
                        # near a feed or buffer boundary
                        k = r.choice([4096, 65536, 131072, 1 << 20])
                        pos = max(2, (r.randint(1, max(1, size // k)) * k) -
                                  r.randint(0, len(blob)))
            elif what < 0.7:
                name, s = r.choice(dbsigs)
                pre, x, post = g.inst(s, miss)
                blob = pre + x + post
                pos = r.randint(2, max(2, size - len(blob)))
            else:
                line, subs = r.choice(ldbs)
                blob = b''
                for off, s, mod in subs:
                    for _ in range(r.choice([0, 1, 1, 2, 3])):
                        pre, x, post = g.inst(s, miss and r.random() < 0.5)
                        if 'i' in mod:
                            x = flip_case(r, x)
                        if 'w' in mod and not ('a' in mod and r.random() < .5):
                            x = wide(x)
                        if 'f' in mod:
                            pre = bytes([r.choice(b' .-/\n;' if not miss
                                                  else b'ab1')])
                            post = bytes([r.choice(b' .-/\n;')])
                        blob += g.filler(r.randint(1, 30)) + pre + x + post
                pos = r.randint(2, max(2, size - len(blob)))
                if r.random() < 0.3 and size > 400:
                    pos = r.choice([40, 45, max(2, size - 300),
                                    max(2, size - 150)])
            if pos < 2 or pos + len(blob) > size:
                continue
            buf[pos:pos + len(blob)] = blob
        path = os.path.join(a.out, 'files', 'f%03d' % fi)
        with open(path, 'wb') as f:
            f.write(buf)
        files.append(bytes(buf))

    # Hash signatures for some files (and near misses).
    with open(os.path.join(a.out, 'diff.hdb'), 'w') as f:
        for i, data in enumerate(files[:a.files:7]):
            size = len(data) if i % 3 else len(data) + 1
            f.write('%s:%d:Diff.Hdb.%d\n' % (hashlib.md5(data).hexdigest(),
                                             size, i))
    with open(os.path.join(a.out, 'diff.hsb'), 'w') as f:
        for i, data in enumerate(files[3:a.files:9]):
            if i % 2:
                f.write('%s:%d:Diff.Hsb1.%d\n' % (
                    hashlib.sha1(data).hexdigest(), len(data), i))
            else:
                f.write('%s:*:Diff.Hsb256.%d:73\n' % (
                    hashlib.sha256(data).hexdigest(), i))

    # Target types: ELF (6) and PE-looking (1) files vs plain data.
    tsigs = []
    with open(os.path.join(a.out, 'target.ndb'), 'w') as f:
        for i in range(12):
            t = [0, 1, 6][i % 3]
            lit = g.lit(8, 16)
            tsigs.append(lit)
            f.write('Diff.Target%d.%d:%d:*:%s\n' % (t, i, t, hx(lit)))
    elf = open('/bin/true', 'rb').read()
    for i in range(6):
        base = [elf, b'MZ' + g.rbytes(500), g.rbytes(700)][i % 3]
        data = bytearray(base)
        for lit in r.sample(tsigs, 6):
            data += g.rbytes(r.randint(1, 40)) + lit
        with open(os.path.join(a.out, 'tfiles', 't%d' % i), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
