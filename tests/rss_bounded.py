"""rss_bounded.py BYTES CMD...: run CMD; its exit status, or 99 when its
peak resident size (the kernel's count for the child, read after it
exits) went over BYTES. For sanitizer builds, whose shadow memory rules
out an address-space limit."""
import resource
import subprocess
import sys


def main():
    rc = subprocess.call(sys.argv[2:])
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.exit(rc if kib * 1024 <= int(sys.argv[1]) else 99)


main()
