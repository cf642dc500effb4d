"""A profile that does not match its kernel (test-trace): GOOD with the
current task's per-CPU offset moved by 0x40, written to BAD.
  profile_skew.py GOOD.json BAD.json"""
import json, sys
p = json.load(open(sys.argv[1]))
def shift(v):
    return hex(int(v, 16) + 0x40) if isinstance(v, str) else v + 0x40
pc = p.get("percpu", {})
key = "current_task" if "current_task" in pc else next(iter(pc))
pc[key] = shift(pc[key])
json.dump(p, open(sys.argv[2], "w"))
