"""What test-disk-scan checks in a trace with disk detections:
  trace_detect.py denied TRACE   the detections, the first one's action,
      the failing pwrite64 calls it falls inside, and whether its first
      writer is that call's thread
  trace_detect.py writers TRACE  each detection's offset and its writers
      (comm:syscall; busybox's dd may run as "sh")"""
import json
import sys


def denied(evs):
    dets = [e for e in evs if e["type"] == "detection"]
    calls = [e for e in evs if e.get("name") == "pwrite64" and e.get("ret") == -5]
    d = dets[0] if dets else None
    inside = [c for c in calls if d and c["ts"] <= d["ts"] <= c["ts_exit"]]
    w = d and d.get("writers", [{}])[0]
    print(len(dets), d and d["action"], len(inside), inside and inside[0]["comm"],
          w and w.get("comm"), w and w.get("syscall"),
          w and inside and w.get("tid") == inside[0]["tid"])


def writers(evs):
    for e in evs:
        if e["type"] == "detection":
            w = e.get("writers", [])
            print(e["offset"], ",".join(
                {"sh": "dd"}.get(x["comm"], x["comm"]) + ":" + x["syscall"]
                for x in w))


def main():
    with open(sys.argv[2]) as f:
        evs = [json.loads(line) for line in f]
    {"denied": denied, "writers": writers}[sys.argv[1]](evs)


main()
