#!/usr/bin/env python3
"""Signature sets and a mixed corpus for bench/scan.

usage: scan-gen.py --out DIR [--corpus-mib 256] [--sizes 1000,10000,100000]

  DIR/sigs-N.ndb   N realistic signatures: about 80 % plain literals of
                   10-40 bytes, 20 % with ??, nibbles, {n-m} gaps, '*' or
                   alternatives.  Literal material: random bytes, machine
                   code and data cut from shared libraries (not the
                   programs in the corpus), and text.
  DIR/kind-K-N.ndb N signatures of one kind each (--kind-sigs N), for
                   the per-kind breakdown: lit (plain literals), wild (??,
                   nibbles and alternatives: fixed width), gap ({n-m}, {n}
                   and '*'); kind-ldb-N.ldb: logical signatures of 2-3
                   subsignatures with '&' and '|'.
  DIR/corpus/      4 MiB files: random data, zeros, text, and ELF programs
                   from /usr/bin, with a few hundred signature instances
                   planted so that every engine has something to find.
"""
import argparse
import glob
import os
import random

FILE = 4 << 20
WORDS = (b'the of and to in is that for it as was with be by on not he this '
         b'are or his from at which but have an they you were her she there '
         b'been one all we their has would when if so no will more can out '
         b'system error file data window process memory thread kernel user '
         b'http www com net password login admin install update service '
         b'version copyright license software program function return value'
         ).split()


SCRIPT = [b'eval(', b'unescape(', b'document.write(', b'WScript.Shell',
          b'CreateObject(', b'base64_decode(', b'String.fromCharCode(',
          b'%u0c0c%u0c0c', b'ActiveXObject(', b'powershell -enc ',
          b'cmd.exe /c ', b'HKEY_LOCAL_MACHINE\\', b'\\x90\\x90',
          b'<iframe src=', b'var ', b'function(', b'return ', b'http://',
          b'.exe', b'.php?id=', b'$_POST[', b'gzinflate(', b'str_rot13(',
          b'Shell.Application', b'.DownloadFile(', b'new-object ',
          b'RegWrite ', b'.vbs', b'chr(', b'&H', b'0x', b'window.location=']


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        # Machine-code-like bytes: an order-1 Markov chain trained on shared
        # libraries.  Real signatures are cut from malware, not from the
        # system's own programs, so the corpus does not contain them; the
        # chain reproduces the byte statistics of code without copying it.
        libs = sorted(glob.glob('/usr/lib/x86_64-linux-gnu/*.so*'))
        counts = [[0] * 256 for _ in range(256)]
        seen = 0
        for path in libs:
            if seen > (6 << 20):
                break
            try:
                with open(path, 'rb') as f:
                    data = f.read(1 << 20)
            except OSError:
                continue
            if len(data) < 65536:
                continue
            data = data[4096:]
            for i in range(1, len(data)):
                counts[data[i - 1]][data[i]] += 1
            seen += len(data)
        self.next = []
        for row in counts:
            total = sum(row)
            if total == 0:
                self.next.append(([1] * 256, list(range(256))))
                continue
            pairs = [(c, b) for b, c in enumerate(row) if c]
            self.next.append(([c for c, _ in pairs], [b for _, b in pairs]))

    def code(self, n):
        r = self.r
        b = r.getrandbits(8)
        out = bytearray()
        while len(out) < n:
            w, vals = self.next[b]
            b = r.choices(vals, weights=w)[0]
            out.append(b)
        return bytes(out)

    def material(self, n):
        r = self.r
        while True:
            k = r.random()
            if k < 0.45:
                cut = bytes(r.getrandbits(8) for _ in range(n))
            elif k < 0.8:
                cut = self.code(n)
            else:
                cut = b''
                while len(cut) < n:
                    if r.random() < 0.6:
                        cut += r.choice(SCRIPT)
                    else:
                        cut += bytes(r.choice(b'abcdefghijklmnopqrstuvwxyz'
                                              b'ABCDEFGHIJKLMNOPQRSTUVWXYZ_'
                                              b'0123456789')
                                     for _ in range(r.randint(3, 8)))
                cut = cut[:n]
            # Skip padding-like material: no scanner would ship it.
            if cut.count(0) * 3 <= n and len(set(cut)) * 3 >= n:
                return cut

    def complex_sig(self, kinds=('??', 'nib', 'gap', 'star', 'alt', 'range')):
        """About 20 %: wildcards, nibbles, gaps, alternatives."""
        r = self.r
        parts = []
        inst = []
        nparts = r.randint(2, 4)
        for i in range(nparts):
            lit = self.material(r.randint(4, 16))
            parts.append(lit.hex())
            inst.append(lit)
            if i == nparts - 1:
                break
            k = r.choice(kinds)
            if k == '??':
                n = r.randint(1, 4)
                parts.append('??' * n)
                inst.append(bytes(r.getrandbits(8) for _ in range(n)))
            elif k == 'nib':
                b = r.getrandbits(8)
                parts.append('%x?' % (b >> 4))
                inst.append(bytes([b]))
            elif k == 'gap':
                a = r.randint(0, 8)
                b = a + r.randint(1, 24)
                parts.append('{%d-%d}' % (a, b))
                inst.append(bytes(r.getrandbits(8) for _ in range(a)))
            elif k == 'star':
                parts.append('*')
                inst.append(bytes(r.getrandbits(8)
                                  for _ in range(r.randint(0, 50))))
            elif k == 'range':
                n = r.randint(1, 16)
                parts.append('{%d}' % n)
                inst.append(bytes(r.getrandbits(8) for _ in range(n)))
            else:
                alts = [self.material(2) for _ in range(r.randint(2, 3))]
                if len({len(a) for a in alts}) == 1 and len(set(alts)) > 1:
                    parts.append('(' + '|'.join(a.hex() for a in alts) + ')')
                    inst.append(alts[0])
                else:
                    parts.append('??')
                    inst.append(b'\x00')
        return ''.join(parts), b''.join(inst)

    def sigs(self, n):
        out = []
        for i in range(n):
            if self.r.random() < 0.8:
                lit = self.material(self.r.randint(10, 40))
                out.append(('Bench.Lit.%d' % i, lit.hex(), lit))
            else:
                hexsig, inst = self.complex_sig()
                out.append(('Bench.Cx.%d' % i, hexsig, inst))
        return out

    def kind_sigs(self, kind, n):
        """n signatures of one kind: (name, line body, instance)."""
        out = []
        for i in range(n):
            name = 'Bench.%s.%d' % (kind.capitalize(), i)
            if kind == 'lit':
                lit = self.material(self.r.randint(10, 40))
                out.append((name, lit.hex(), lit))
            elif kind == 'wild':
                hexsig, inst = self.complex_sig(('??', 'nib', 'alt'))
                out.append((name, hexsig, inst))
            elif kind == 'gap':
                hexsig, inst = self.complex_sig(('gap', 'star', 'range'))
                out.append((name, hexsig, inst))
            else:
                out.append((name,) + self.ldb_body())
        return out

    def ldb_body(self):
        """Logical signature: 2-3 literal subsignatures of 6-24 bytes, all
        required or one of two alternatives plus a third."""
        r = self.r
        nsub = r.randint(2, 3)
        subs = [self.material(r.randint(6, 24)) for _ in range(nsub)]
        if nsub == 2:
            expr = '0&1'
            inst = subs[0] + subs[1]
        else:
            expr = '(0|1)&2'
            inst = subs[r.randint(0, 1)] + subs[2]
        body = 'Target:0;%s;%s' % (expr, ';'.join(x.hex() for x in subs))
        return body, inst


def corpus(g, out, mib, planted):
    r = g.r
    os.makedirs(out, exist_ok=True)
    nfiles = max(4, (mib << 20) // FILE)
    elves = sorted(p for p in glob.glob('/usr/bin/*')
                   if os.path.isfile(p) and not os.path.islink(p))
    elf_blobs = []
    for p in elves:
        try:
            with open(p, 'rb') as f:
                head = f.read(4)
                if head == b'\x7fELF':
                    elf_blobs.append(p)
        except OSError:
            pass
    ei = 0
    for i in range(nfiles):
        kind = ['random', 'zeros', 'text', 'elf'][i % 4]
        if kind == 'random':
            data = bytearray(os.urandom(FILE))
        elif kind == 'zeros':
            data = bytearray(FILE)
        elif kind == 'text':
            words = []
            size = 0
            while size < FILE:
                line = b' '.join(r.choice(WORDS)
                                 for _ in range(r.randint(4, 14)))
                line = line.capitalize() + b'.\n'
                words.append(line)
                size += len(line)
            data = bytearray(b''.join(words)[:FILE])
        else:
            data = bytearray()
            while len(data) < FILE and elf_blobs:
                with open(elf_blobs[ei % len(elf_blobs)], 'rb') as f:
                    data += f.read()
                ei += 1
            data = data[:FILE] if data else bytearray(FILE)
        for _ in range(planted // nfiles + (1 if i < planted % nfiles else 0)):
            inst = r.choice(g.planted)
            pos = r.randrange(0, len(data) - len(inst))
            data[pos:pos + len(inst)] = inst
        with open(os.path.join(out, 'c%03d-%s' % (i, kind)), 'wb') as f:
            f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--corpus-mib', type=int, default=256)
    ap.add_argument('--sizes', default='1000,10000,100000')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--kind-sigs', type=int, default=0,
                    help='also write the per-kind databases of N signatures')
    a = ap.parse_args()
    g = Gen(a.seed)
    os.makedirs(a.out, exist_ok=True)
    sizes = [int(x) for x in a.sizes.split(',')]
    biggest = g.sigs(max(sizes))
    # Smaller sets are prefixes of the biggest: the planted instances come
    # from the first 1,000, so every set has something to find.
    for n in sizes:
        with open(os.path.join(a.out, 'sigs-%d.ndb' % n), 'w') as f:
            for name, hexsig, _ in biggest[:n]:
                f.write('%s:0:*:%s\n' % (name, hexsig))
    g.planted = [inst for _, _, inst in biggest[:min(sizes)]][:200]
    nplant = 200
    if a.kind_sigs:
        # A separate generator, so the mixed sets and their planted
        # instances stay what they were without --kind-sigs.
        k = Gen(a.seed + 1)
        for kind in ('lit', 'wild', 'gap', 'ldb'):
            sigs = k.kind_sigs(kind, a.kind_sigs)
            ext = 'ldb' if kind == 'ldb' else 'ndb'
            with open(os.path.join(a.out, 'kind-%s-%d.%s' %
                                   (kind, a.kind_sigs, ext)), 'w') as f:
                for name, body, _ in sigs:
                    if kind == 'ldb':
                        f.write('%s;%s\n' % (name, body))
                    else:
                        f.write('%s:0:*:%s\n' % (name, body))
            g.planted += [inst for _, _, inst in sigs[:50]]
            nplant += 50
    corpus(g, os.path.join(a.out, 'corpus'), a.corpus_mib, nplant)


if __name__ == '__main__':
    main()
