"""sec_hostile.py - a real program whose names are hostile, for the output
escaping tests (tests/integration/test_security.c).  Its loop thread's name,
a coroutine's name and qualified name, and its source file name carry
terminal escape sequences, HTML and JSON metacharacters; so does its
command line (argv[1]).  The coroutine blocks the loop with time.sleep, so
the report holds a site whose frames carry those names."""
import asyncio
import ctypes
import sys
import time

EVIL = "\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script><img src=x onerror=alert(2)>\"'\\&\u2028"

SRC = '''
async def handler():
    time.sleep(0.12)
'''


def main():
    try:  # the thread name the loop record carries (15 bytes max)
        ctypes.CDLL(None).prctl(15, b"\x1b[2J<b>x</b>", 0, 0, 0)
    except Exception:
        pass
    ns = {"time": time}
    exec(compile(SRC, EVIL + ".py", "exec"), ns)
    h = ns["handler"]
    code = h.__code__.replace(co_name=EVIL)
    if hasattr(code, "co_qualname"):
        code = code.replace(co_qualname=EVIL + ".q")
    h.__code__ = code
    h.__name__ = EVIL

    async def run():
        await asyncio.sleep(0.01)
        await h()
        await asyncio.sleep(0.01)

    asyncio.run(run())
    print("sec_hostile: done")


main()
