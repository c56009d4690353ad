"""place_app.py MODE - a stall planted in a small service's own code.

Run under `stallwatch run` by tests/integration/test_place_python.c with
Debian's python3 (aiohttp, uvloop and requests from Debian).  Each mode
plants one stall in a handler, on a real library; the test checks that
the report's headline names the handler's line (`# LINE:name` markers)
and the library call.  Modes:

  requests   requests.get to a slow local server, inside a coroutine
  json       json.loads of a large document (CPU)
  re         a backtracking regular expression (CPU)
  hashlib    hashlib.pbkdf2_hmac with many iterations (CPU, in C)
  sqlite     a heavy sqlite3 query (CPU in sqlite)
  sleep      time.sleep in a coroutine
  aiohttp    an aiohttp web handler that sleeps, hit by an aiohttp client
  uvloop     time.sleep under uvloop's event loop
  clean      an aiohttp service under load that never blocks
"""
import asyncio
import hashlib
import json
import re
import sqlite3
import sys
import threading
import time

MODE = sys.argv[1]


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


async def fetch_price(port):
    import requests
    return requests.get("http://127.0.0.1:%d/" % port).text  # LINE:requests


async def parse_catalog():
    doc = json.dumps([{"id": i, "name": "item %d" % i, "tags": ["a", "b"]}
                      for i in range(150000)])
    t = time.monotonic()
    while time.monotonic() - t < 0.3:
        json.loads(doc)  # LINE:json


async def validate_email():
    evil = "a" * 24 + "!"
    t = time.monotonic()
    while time.monotonic() - t < 0.3:
        re.match(r"^(a+)+$", evil)  # LINE:re


async def hash_password():
    # 0.3 s like the others: one call lasts 70 ms here, under a 100 ms gate
    t = time.monotonic()
    while time.monotonic() - t < 0.3:
        hashlib.pbkdf2_hmac("sha256", b"secret", b"salt", 100000)  # LINE:hashlib


async def monthly_report():
    db = sqlite3.connect(":memory:")
    q = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
         "WHERE x < 400000) SELECT sum(x) FROM c")
    t = time.monotonic()
    while time.monotonic() - t < 0.3:
        db.execute(q).fetchall()  # LINE:sqlite


async def throttle():
    time.sleep(0.25)  # LINE:sleep


async def serve(handler_sleep, requests_n, concurrency):
    from aiohttp import web, ClientSession

    async def order(request):
        if handler_sleep:
            time.sleep(handler_sleep)  # LINE:aiohttp
        await asyncio.sleep(0)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/order", order)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with ClientSession() as s:
        async def one():
            async with s.get("http://127.0.0.1:%d/order" % port) as r:
                await r.read()

        for _ in range(requests_n // concurrency):
            await asyncio.gather(*(one() for _ in range(concurrency)))
    await runner.cleanup()


async def main(port):
    await asyncio.sleep(0.02)  # the loop is running: turns are timed
    if MODE == "requests":
        await fetch_price(port)
    elif MODE == "json":
        await parse_catalog()
    elif MODE == "re":
        await validate_email()
    elif MODE == "hashlib":
        await hash_password()
    elif MODE == "sqlite":
        await monthly_report()
    elif MODE in ("sleep", "uvloop"):
        await throttle()
    elif MODE == "aiohttp":
        await serve(0.25, 4, 2)
    elif MODE == "clean":
        await serve(0, 400, 8)
    else:
        raise SystemExit("unknown mode " + MODE)
    await asyncio.sleep(0.02)


if MODE in ("aiohttp", "clean"):
    import aiohttp.web  # noqa: F401  (imported before the loop runs)
port = slow_server() if MODE == "requests" else 0
if MODE == "uvloop":
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
asyncio.run(main(port))
