"""py_calls.py MODE - one kind of hidden blocking in an asyncio coroutine.

Run under `stallwatch run` by tests/integration/test_python.c, on every
CPython found.  The tests look for the exact line of each call through the
`# LINE:name` markers, so lines can move freely.  Modes:

  sleep, urlopen, subprocess, lock, getaddrinfo, fileread   blocking calls
  sqlite    a heavy query (CPU in sqlite, GIL released)
  cpu       a pure-Python loop burning 0.35 s on the loop thread
  gil       a to_thread'ed pure-Python hog starving the loop of the GIL
  worker    a worker thread sleeping in its own function while the loop
            thread sleeps: the worker's frames must not show up
  uvloop    `sleep` under uvloop's event loop
"""
import asyncio
import socket
import subprocess
import sys
import threading
import time

MODE = sys.argv[1]
held = threading.Event()
lock = threading.Lock()


def hold_lock():
    with lock:
        held.set()
        time.sleep(0.4)


def slow_server():
    import http.server

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(0.25)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def hog():
    end = time.monotonic() + 0.6
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def worker_fn():
    time.sleep(0.5)  # LINE:worker_fn


async def do_sleep():
    time.sleep(0.25)  # LINE:sleep


async def do_urlopen(port):
    import urllib.request
    urllib.request.urlopen("http://127.0.0.1:%d/" % port).read()  # LINE:urlopen


async def do_subprocess():
    subprocess.run(["sleep", "0.25"])  # LINE:subprocess


async def do_lock():
    lock.acquire()  # LINE:lock
    lock.release()


async def do_getaddrinfo():
    socket.getaddrinfo("localhost", 80)  # LINE:getaddrinfo


async def do_fileread():
    with open(__file__, "rb") as f:
        f.read()  # LINE:fileread


async def do_sqlite():
    import sqlite3
    db = sqlite3.connect(":memory:")
    q = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
         "WHERE x < 400000) SELECT sum(x) FROM c")
    t = time.monotonic()
    while time.monotonic() - t < 0.3:
        db.execute(q).fetchall()  # LINE:sqlite


async def do_cpu():
    end = time.monotonic() + 0.35
    n = 0
    while time.monotonic() < end:  # LINE:cpu_first
        n += 1  # LINE:cpu_last
    return n


async def do_gil():
    task = asyncio.ensure_future(asyncio.to_thread(hog))
    for _ in range(40):
        await asyncio.sleep(0.01)
    await task


async def do_worker():
    t = threading.Thread(target=worker_fn)
    t.start()
    await asyncio.sleep(0.05)
    time.sleep(0.25)  # LINE:worker_loop
    t.join()


async def main(port):
    await asyncio.sleep(0.02)  # the loop is running: turns are timed
    if MODE in ("sleep", "uvloop"):
        await do_sleep()
    elif MODE == "urlopen":
        await do_urlopen(port)
    elif MODE == "subprocess":
        await do_subprocess()
    elif MODE == "lock":
        await do_lock()
    elif MODE == "getaddrinfo":
        await do_getaddrinfo()
    elif MODE == "fileread":
        await do_fileread()
    elif MODE == "sqlite":
        await do_sqlite()
    elif MODE == "cpu":
        await do_cpu()
    elif MODE == "gil":
        await do_gil()
    elif MODE == "worker":
        await do_worker()
    else:
        raise SystemExit("unknown mode " + MODE)
    await asyncio.sleep(0.02)


port = slow_server() if MODE == "urlopen" else 0
if MODE == "lock":
    threading.Thread(target=hold_lock, daemon=True).start()
    held.wait()
if MODE == "uvloop":
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
asyncio.run(main(port))
