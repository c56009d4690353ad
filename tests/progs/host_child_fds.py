"""host_child_fds.py - the descriptors a child of an asyncio program sees.
The loop stalls (sampled) first, then starts `ls -l /proc/self/fd` with
subprocess, the default way (close_fds) and with close_fds=False, and
prints the child's listing with link targets reduced to their kind, so the
output can be compared between a plain run and a run under the shim.
"""
import asyncio
import re
import subprocess
import sys
import time


def listing(close_fds):
    out = subprocess.run(["ls", "-l", "/proc/self/fd"], close_fds=close_fds,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout.decode()
    rows = []
    for line in out.splitlines():
        m = re.search(r" (\d+) -> (.*)$", line)
        if m:
            # pipe:[1234] -> pipe; " (deleted)" (a file replaced since it was
            # opened, such as /dev/null by another job) is not the shim's doing.
            target = re.sub(r"\[\d+\]", "", m.group(2))
            rows.append("%s %s" % (m.group(1),
                                   re.sub(r" \(deleted\)$", "", target)))
    return rows


async def main():
    await asyncio.sleep(0.02)
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
    await asyncio.sleep(0.02)
    for close_fds in (True, False):
        print("close_fds=%s:" % close_fds, " | ".join(listing(close_fds)))


asyncio.run(main())
sys.stdout.flush()
