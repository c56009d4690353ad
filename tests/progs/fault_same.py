"""fault_same.py - a small asyncio program with deterministic output, for
the "same output" fault test (tests/integration/test_faults.c): run with
and without the shim it must print the same bytes and exit with the same
status (3).  It blocks the loop (time.sleep, file I/O, a subprocess), uses
a thread and a worker pool, and checks its own data file."""
import asyncio
import hashlib
import os
import subprocess
import sys
import threading
import time

DATA = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", "same-py.dat")


def digest(b):
    return hashlib.sha256(b).hexdigest()[:16]


async def blocker(n):
    time.sleep(0.06)  # blocks the loop: the shim records it
    with open(DATA, "ab") as f:
        f.write(bytes(range(n, n + 64)) * 16)
    return n


async def main():
    if os.path.exists(DATA):
        os.unlink(DATA)
    results = await asyncio.gather(*(blocker(i) for i in range(4)))
    print("gathered", results)
    loop = asyncio.get_running_loop()
    r = await loop.run_in_executor(None, sum, range(100000))
    print("executor", r)
    out = subprocess.run(["echo", "child says hi"], capture_output=True)
    print("child", out.returncode, out.stdout.decode().strip())
    t = threading.Thread(target=lambda: time.sleep(0.02))
    t.start()
    t.join()
    with open(DATA, "rb") as f:
        data = f.read()
    print("data", len(data), digest(data))
    for i in range(200):
        sys.stdout.write("line %d %s\n" % (i, "x" * (i % 50)))


asyncio.run(main())
sys.stdout.flush()
sys.exit(3)
