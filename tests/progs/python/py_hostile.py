"""py_hostile.py MODE - the loop thread blocks while its frame chain is bad.

The shim must survive (no crash, no hang) and still record the blocking
call, with no or few Python frames.  The frame pointer is swapped only
around one ctypes call that sleeps with the GIL released (no Python code
runs on this thread meanwhile), then restored.  Offsets are CPython's
(checked against the headers by test_pyoffsets):

  garbage   the current-frame pointer points at unmapped memory
  cycle     it points at a fake frame whose caller is itself, running a
            real code object at an offset past its end
"""
import asyncio
import ctypes
import sys

MODE = sys.argv[1]
V = sys.version_info[:2]
# thread state -> (offset of the frame pointer, or of cframe then its field)
TS = {(3, 9): (24, None), (3, 10): (24, None), (3, 11): (56, 8),
      (3, 12): (56, 0), (3, 13): (72, None)}
# frame: (back, code, instr) offsets
FR = {(3, 9): (24, 32, 104), (3, 10): (24, 32, 96), (3, 11): (48, 32, 56),
      (3, 12): (8, 0, 56), (3, 13): (8, 0, 56)}

libc = ctypes.CDLL(None)
memmove = ctypes.memmove
usleep = libc.usleep


def frame_slot():
    get = ctypes.pythonapi.PyThreadState_Get
    get.restype = ctypes.c_void_p
    off, sub = TS[V]
    addr = get() + off
    if sub is not None:
        addr = ctypes.c_void_p.from_address(addr).value + sub
    return addr


def victim():
    pass


async def block():
    slot = frame_slot()
    saved = ctypes.c_void_p.from_address(slot).value
    if MODE == "garbage":
        bad = ctypes.c_void_p(0x7ead0000dead0)
    else:
        fake = ctypes.create_string_buffer(256)
        back, code, instr = FR[V]
        me = ctypes.addressof(fake)
        ctypes.c_void_p.from_address(me + back).value = me
        ctypes.c_void_p.from_address(me + code).value = id(victim.__code__)
        if V >= (3, 11):
            ctypes.c_void_p.from_address(me + instr).value = \
                id(victim.__code__) + 100000
        bad = ctypes.c_void_p(me)
    saved_v = ctypes.c_void_p(saved)
    memmove(slot, ctypes.byref(bad), 8); usleep(250000); memmove(slot, ctypes.byref(saved_v), 8)  # noqa: E702


async def main():
    await asyncio.sleep(0.02)
    await block()
    await asyncio.sleep(0.02)
    print("survived")


asyncio.run(main())
