#!/usr/bin/env python3
"""Checks of tests/test-callers.sh on a --callers trace of guest/vigil-callers.

  callers_check.py chain TRACE NM_OUTPUT MARK N
  callers_check.py exec TRACE NM_OUTPUT N K

NM_OUTPUT is `nm -S` of the program (static, not position-independent: the
addresses in the guest are these). Prints one line per check, "ok: ..." or
"NOT OK: ..."; exits 1 when any failed.
"""
import json
import sys

failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print("ok: " + what)
    else:
        failed += 1
        print("NOT OK: " + what + (("\n    " + detail) if detail else ""))


def load(path):
    with open(path) as f:
        return [e for e in map(json.loads, f) if e.get("type") == "syscall"]


def functions(nm_path):
    funcs = []
    with open(nm_path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and p[2] in "tTwW":
                funcs.append((int(p[0], 16), int(p[1], 16), p[3]))
    return funcs


def func_of(funcs, addr):
    for start, size, name in funcs:
        if start <= addr < start + size:
            return name
    return None


def hexes(lst):
    return [int(a, 16) for a in lst]


def check_chain(ev, funcs, who, n):
    chain = hexes(ev.get("chain", []))
    names = [func_of(funcs, a) for a in chain]
    want = ["callers_inner", "callers_middle", "callers_outer"]
    check(who + ": the chain starts with inner, middle, outer",
          names[:3] == want, "chain %s = %s" % (ev.get("chain"), names))
    br = [hexes(b) for b in ev.get("branches", [])]
    wrapper = func_of(funcs, int(ev["ip"], 16))
    check(who + ": the last branch ends in the wrapper (%s) that made the call"
          % wrapper, br and func_of(funcs, br[-1][1]) == wrapper,
          "branches %s" % ev.get("branches"))
    calls = [b for b in br if func_of(funcs, b[0]) == "callers_inner"
             and b[1] == next(s for s, _, nm in funcs if nm == wrapper)]
    check(who + ": a branch goes from callers_inner to the wrapper's start",
          len(calls) == 1, "branches %s" % ev.get("branches"))
    # A new thread's history starts at its creation: it may be shorter.
    full = who == "main thread"
    check(who + ": %s N=%d branches" % ("a full history of" if full else
                                         "at most", n),
          len(br) == n if full else 0 < len(br) <= n, "%d branches" % len(br))


def check_continuity(evs):
    """The plugin sends each thread's new branches only (rawrec.h); vigil
    puts the history together again. Put together wrongly (another
    thread's, or a lost record's), the runs of code between branches stop
    joining up: a branch's target is followed by the next branch's source a
    little further on in straight-line code, except after a signal."""
    check("no event's history is partial",
          not [e for e in evs if e.get("branches_partial")])
    pairs = gaps = 0
    for e in evs:
        br = [hexes(b) for b in e["branches"]]
        for (_, to), (frm, _) in zip(br, br[1:]):
            pairs += 1
            gaps += not 0 <= frm - to < 65536
    check("each branch's target runs on to the next branch's source "
          "(%d of %d pairs do not)" % (gaps, pairs),
          pairs > 1000 and gaps * 50 < pairs)


def chain_mode(trace, nm_path, mark, mark2, lazy, n):
    evs = load(trace)
    funcs = functions(nm_path)
    check("events carry chain and branches",
          evs and all("chain" in e and "branches" in e for e in evs))
    check("no event has more than N=%d branches" % n,
          all(len(e["branches"]) <= n for e in evs))
    check_continuity(evs)
    hops = [e for e in evs if e["name"] == "getpgid"]
    check("the thread moved between vCPUs made its 60 calls on both "
          "(%d calls)" % len(hops),
          len(hops) == 60 and {e["vcpu"] for e in hops} == {0, 1})
    for who, text in (("main thread", "callers main\n"),
                      ("second thread", "callers thread\n")):
        ws = [e for e in evs if e["name"] == "write" and
              len(e["decoded"]) > 1 and e["decoded"][1] == text]
        check(who + ": its write is traced once", len(ws) == 1)
        if ws:
            check_chain(ws[0], funcs, who, n)
    th = [e for e in evs if e["decoded"][1:2] == ["callers thread\n"]]
    check("the second thread is another thread",
          th and th[0]["tid"] != th[0]["pid"])
    bad = [e for e in evs if e["name"] == "getpid" and
           func_of(funcs, int(e["ip"], 16)) == "getpid_on_stack"]
    check("the six calls on bad stacks are traced", len(bad) == 6)
    if len(bad) == 6:
        # Every call on a bad stack ends its walk at a page it cannot read.
        for ev, what, want in (
                (bad[0], "unmapped stack: empty chain", []),
                (bad[1], "stack ending after one return address: that one",
                 [int(mark, 16)]),
                (bad[2], "that page dropped: nothing read from the page it "
                 "had", []),
                (bad[3], "that page written again: the new return address",
                 [int(mark2, 16)]),
                (bad[4], "a return address into code not read in yet: no "
                 "frame", []),
                (bad[5], "that code read in (and 100 calls later): the frame",
                 [int(lazy, 16)])):
            check(what + ", marked truncated",
                  hexes(ev["chain"]) == want
                  and ev.get("chain_truncated") is True,
                  json.dumps(ev)[:300])
    after = [e for e in evs if e["name"] == "write" and
             e["decoded"][1:2] and e["decoded"][1].startswith("badstack")]
    check("calls after the bad stacks are traced", len(after) == 1)


def exec_mode(trace, nm_path, n, k):
    evs = load(trace)
    funcs = functions(nm_path)
    lo = min(s for s, _, _ in funcs if s > 0)
    hi = max(s + z for s, z, _ in funcs)
    check("no chain longer than K=%d" % k,
          all(len(e.get("chain", [])) <= k for e in evs))
    m = max((len(e.get("branches", [])) for e in evs), default=0)
    check("N=%d is respected, and used (%d at most)" % (n, m), 32 < m <= n)
    idx = [i for i, e in enumerate(evs) if e["name"] == "execve" and
           e["ret"] == 0 and e["comm"] == "vigil-callers"]
    check("the program's execve is traced", len(idx) == 1)
    if not idx:
        return
    x = evs[idx[0]]
    nxt = [e for e in evs[idx[0] + 1:] if e["tid"] == x["tid"]][:1]
    check("the new image's first call is traced", len(nxt) == 1)
    if not nxt:
        return
    br = [hexes(b) for b in nxt[0].get("branches", [])]
    old = [b for b in br if lo <= b[0] < hi or lo <= b[1] < hi]
    check("it has branches (%d), none in the old image [%#x, %#x)"
          % (len(br), lo, hi), br and not old,
          "old ones: %s" % old[:5])


if __name__ == "__main__":
    if sys.argv[1] == "chain":
        chain_mode(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
                   sys.argv[6], int(sys.argv[7]))
    else:
        exec_mode(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                  int(sys.argv[5]))
    sys.exit(1 if failed else 0)
