#!/usr/bin/env python3
"""Compare vigil's trace of a guest program with strace's trace of the same
run, made inside the guest in the same boot.

usage: strace_compare.py [--other-boot] STRACE_OUTPUT VIGIL_JSONL
       strace_compare.py --text [--must CALL,...] STRACE_OUTPUT VIGIL_TEXT

For every thread strace reports, the sequence of (system call name, result,
injected or not) must be the same in both. strace starts the program by
forking and exec'ing it, so the main thread's calls before its execve are
strace's own and are left out. With --other-boot the two traces come from
two runs of the same program (strace -e inject in one, vigil --inject in
the other): thread ids differ, so threads are matched in the order they
first appear. Prints one line per check; exits 1 on any difference.

With --text the lines themselves are compared: vigil's text form (--format
text) against strace's, thread by thread, call by call (strace's
unfinished and resumed halves joined, its padding before " = " removed).
Prints the share of textually equal lines and every differing pair,
grouped by call; exits 1 when a call named in --must differs.
"""
import json
import re
import sys

LINE = re.compile(r"^(\d+)\s+(.*)$")
CALL = re.compile(r"^([a-z_0-9]+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>(.*)$")
RESULT = re.compile(r"\)\s+=\s+(0x[0-9a-f]+|-?\d+|\?)(?:\s+([A-Z0-9_]+))?")

ERRNO = {"EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6,
         "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
         "EFAULT": 14, "EEXIST": 17, "ENOTDIR": 20, "EISDIR": 21,
         "EINVAL": 22, "ENOTTY": 25, "ESPIPE": 29, "EPIPE": 32,
         "ERANGE": 34, "ENOSYS": 38, "ENOTSUP": 95, "EOPNOTSUPP": 95,
         "ETIMEDOUT": 110, "ERESTARTSYS": 512, "ERESTARTNOINTR": 513,
         "ERESTARTNOHAND": 514, "ERESTART_RESTARTBLOCK": 516}


def parse_result(text):
    """Kernel-style result: -errno for failures, None for '?'."""
    m = RESULT.search(text)
    if not m:
        return "unparsed"
    val, err = m.group(1), m.group(2)
    if val == "?":
        # A call the kernel restarts or abandons: strace names the code.
        return -ERRNO.get(err, 9999) if err else None
    n = int(val, 16) if val.startswith("0x") else int(val)
    if n == -1 and err:
        return -ERRNO.get(err, 9999)
    return n


def strace_records(path):
    """{tid: [(line, finished), ...]}: each call's whole line without the
    pid, its "<unfinished ...>" and "<... resumed>" halves joined; signals
    and exits left out."""
    records, pending = {}, {}
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            tid, rest = int(m.group(1)), m.group(2)
            seq = records.setdefault(tid, [])
            r = RESUMED.match(rest)
            if r:
                idx = pending.pop(tid, None)
                if idx is not None:
                    seq[idx] = (seq[idx][0] + r.group(2), True)
                continue
            if not CALL.match(rest):
                continue  # signals, exits
            if rest.endswith(" <unfinished ...>"):
                pending[tid] = len(seq)
                seq.append((rest[:-len(" <unfinished ...>")], False))
            else:
                seq.append((rest, True))
    return records


def strace_calls(path):
    """{tid: [(name, result, injected), ...]} in the order each thread made
    them."""
    return {tid: [(CALL.match(line).group(1),
                   parse_result(line) if done else "unfinished",
                   done and line.endswith("(INJECTED)"))
                  for line, done in seq]
            for tid, seq in strace_records(path).items()}


def vigil_calls(path):
    calls = {}
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("type") != "syscall":
                continue
            ret = ev["ret"] if ev["state"] == "done" else None
            calls.setdefault(ev["tid"], []).append(
                (ev["name"], ret, bool(ev.get("injected"))))
    return calls


# Calls whose result is a process or thread id, or an address: another boot
# numbers and places them otherwise, so only "some id" or "some address" is
# compared there.
VARIES = {"getpid": "an id", "getppid": "an id", "gettid": "an id",
          "clone": "an id", "clone3": "an id", "fork": "an id",
          "vfork": "an id", "wait4": "an id", "waitid": "an id",
          "set_tid_address": "an id", "brk": "an address",
          "mmap": "an address", "mremap": "an address"}


# Whether a thread waits on a futex at all depends on how the threads were
# scheduled in that boot, not on the tracer: pthread_join waits only when
# the joined thread is still running, and a wait that does happen returns 0,
# -EAGAIN or -ETIMEDOUT by the same chance. So another boot's futex calls
# are left out of the comparison, unless one was injected.
def normalize(calls):
    def one(n, r, inj):
        if inj or not isinstance(r, int):
            return r
        return VARIES[n] if n in VARIES and r > 0 else r
    return [(n, one(n, r, inj), inj) for n, r, inj in calls
            if inj or n != "futex"]


VIGIL_LINE = re.compile(r"^\[pid +(\d+)\] (?:\[i386\] )?(.*)$")
PAD = re.compile(r"\)\s+= ")


def strace_lines(path):
    """{tid: [line, ...]}: each call's whole line, without the pid."""
    return {tid: [PAD.sub(") = ", line) for line, _ in seq]
            for tid, seq in strace_records(path).items()}


def vigil_lines(path):
    lines = {}
    with open(path, errors="replace") as f:
        for raw in f:
            m = VIGIL_LINE.match(raw.rstrip("\n"))
            if m:
                lines.setdefault(int(m.group(1)), []).append(m.group(2))
    return lines


def name_of(line):
    c = CALL.match(line)
    return c.group(1) if c else "?"


def main_text(args):
    must = set()
    if args and args[0] == "--must":
        must = set(args[1].split(","))
        args = args[2:]
    st, vg = strace_lines(args[0]), vigil_lines(args[1])
    if not st:
        print("NOT OK: strace reported no calls")
        return 1
    main_tid = next(iter(st))
    equal = total = 0
    diffs = {}
    per_call = {}
    for tid, want in st.items():
        got = vg.get(tid, [])
        if tid == main_tid:
            first = next((i for i, c in enumerate(got)
                          if name_of(c) == "execve"), None)
            got = got[first:] if first is not None else got
        for i, a in enumerate(want):
            b = got[i] if i < len(got) else None
            name = name_of(a)
            ok, n = per_call.get(name, (0, 0))
            total += 1
            if a == b:
                equal += 1
                per_call[name] = (ok + 1, n + 1)
            else:
                per_call[name] = (ok, n + 1)
                diffs.setdefault(name, []).append((tid, a, b))
    share = 100.0 * equal / total
    print(f"share: {equal} of {total} lines textually equal "
          f"({share:.1f} %)")
    failures = 0
    for name in sorted(per_call, key=lambda k: -len(diffs.get(k, []))):
        ok, n = per_call[name]
        if ok == n:
            continue
        bad = name in must
        failures += bad
        print(f"{'NOT OK' if bad else 'note'}: {name}: {n - ok} of {n} "
              f"lines differ")
        for tid, a, b in diffs[name][:3]:
            print(f"   strace {tid} {a}\n   vigil  {tid} {b}")
    for name in sorted(must):
        if name in per_call and per_call[name][0] == per_call[name][1]:
            print(f"ok: {name}: all {per_call[name][1]} lines equal")
    return 1 if failures else 0


def main():
    args = sys.argv[1:]
    if args and args[0] == "--text":
        return main_text(args[1:])
    other_boot = bool(args) and args[0] == "--other-boot"
    if other_boot:
        args = args[1:]
    st = strace_calls(args[0])
    vg = vigil_calls(args[1])
    failures = 0
    if not st:
        print("NOT OK: strace reported no calls")
        return 1
    main_tid = next(iter(st))
    # In another boot, the n-th thread to appear in one trace is the n-th
    # in the other.
    peer = dict(zip(st, vg)) if other_boot else {t: t for t in st}
    for tid, want in st.items():
        got = vg.get(peer.get(tid), [])
        if tid == main_tid:
            # Skip strace's own calls in the forked child before the exec.
            first = next((i for i, c in enumerate(got) if c[0] == "execve"),
                         None)
            got = got[first:] if first is not None else got
        if other_boot:
            got, want = normalize(got), normalize(want)
        if got == want:
            injected = sum(1 for c in want if c[2])
            print(f"ok: thread {tid}: {len(want)} calls, same names and "
                  f"results as strace ({injected} injected)")
            continue
        failures += 1
        print(f"NOT OK: thread {tid} differs (strace {len(want)} calls, "
              f"vigil {len(got)})")
        for i in range(max(len(want), len(got))):
            a = want[i] if i < len(want) else None
            b = got[i] if i < len(got) else None
            mark = "  " if a == b else "!!"
            print(f"   {mark} strace {a}  vigil {b}")
    if len(vg) < len(st) or (other_boot and len(vg) != len(st)):
        failures += 1
        print(f"NOT OK: strace saw {len(st)} threads, vigil {len(vg)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
