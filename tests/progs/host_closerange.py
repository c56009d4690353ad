"""host_closerange.py - a daemon's start-up: os.closerange(3, N), then its
own descriptors on 3 and 4, then an asyncio loop with a CPU stall long
enough to be sampled.  Run plain and under the shim; the output and the
exit status must be the same.

usage: host_closerange.py files DIR   two data files on fds 3 and 4, written
                                      before and after the stall; prints
                                      their fds and sizes
       host_closerange.py pipe        a pipe on fds 3 and 4: ABCDEFGH
                                      before the stall, IJ after, read back
       host_closerange.py loop        the loop's own epoll fd and self-pipe
                                      on 3, 4 and 5; the loop must go on
                                      waiting after the stall
Exits 1 when the data is not intact, 2 when the fds are not 3 and 4.
"""
import asyncio
import os
import sys
import time


def burn(seconds):
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


async def stall_between(before, after):
    await asyncio.sleep(0.02)
    before()
    burn(0.3)
    after()
    # The loop must still wait after the stall (asyncio died here once:
    # EINVAL from epoll on an fd closed behind its back).
    await asyncio.sleep(0.02)
    await asyncio.sleep(0)


def files(d):
    os.closerange(3, 4096)
    fds = [os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT |
                   os.O_TRUNC, 0o644) for name in ("one.dat", "two.dat")]
    if fds != [3, 4]:
        print("data files on fds", fds)
        return 2

    def head():
        for fd in fds:
            os.write(fd, b"head-" * 100)

    def tail():
        for fd in fds:
            os.write(fd, b"tail-" * 100)

    asyncio.run(stall_between(head, tail))
    for fd in fds:
        os.close(fd)
    sizes = [os.path.getsize(os.path.join(d, n)) for n in ("one.dat", "two.dat")]
    print("files on fds", fds, "sizes", sizes)
    return 0 if sizes == [1000, 1000] else 1


def pipe():
    os.closerange(3, 4096)
    r, w = os.pipe()
    if (r, w) != (3, 4):
        print("pipe on fds", r, w)
        return 2
    os.set_blocking(r, False)
    asyncio.run(stall_between(lambda: os.write(w, b"ABCDEFGH"),
                              lambda: os.write(w, b"IJ")))
    data = b""
    try:
        while True:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
    except BlockingIOError:
        pass
    print("pipe on fds", r, w, "read", data)
    return 0 if data == b"ABCDEFGHIJ" else 1


def loop():
    os.closerange(3, 4096)
    asyncio.run(stall_between(lambda: None, lambda: None))
    print("loop went on after the stall")
    return 0


if __name__ == "__main__":
    while len(sys.argv) > 2 and sys.argv[-1] == "":
        sys.argv.pop()
    if len(sys.argv) == 3 and sys.argv[1] == "files":
        sys.exit(files(sys.argv[2]))
    if len(sys.argv) == 2 and sys.argv[1] == "pipe":
        sys.exit(pipe())
    if len(sys.argv) == 2 and sys.argv[1] == "loop":
        sys.exit(loop())
    sys.exit("usage: host_closerange.py files DIR | pipe | loop")
