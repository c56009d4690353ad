"""A small asyncio web service with the hidden blocking stallwatch exists to find.

Every handler looks innocent and every one passes its tests on a laptop; each
freezes the event loop for everyone else:

  /sleep    time.sleep() inside a coroutine
  /fetch    a synchronous HTTP call (urllib) to a slow upstream
  /report   CPU work in the callback (a pure-Python loop)
  /config   a file read on the loop thread (fast here, blocking on a busy disk)
  /health   well behaved: answers at once
  /quit     stops the service

Usage: service.py PORT UPSTREAM_PORT
"""
import asyncio
import http.server
import os
import sys
import threading
import time
import urllib.request

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "service.py")


def slow_upstream(port):
    """A stand-in for a slow dependency, served from its own thread."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(0.15)
            body = b'{"rate": 1.08}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


async def handle_sleep():
    time.sleep(0.2)  # blocks the loop: should be await asyncio.sleep(0.2)
    return b"slept"


async def handle_fetch(upstream):
    url = "http://127.0.0.1:%d/rate" % upstream
    with urllib.request.urlopen(url) as resp:  # a sync HTTP client in async code
        return resp.read()


async def handle_report():
    total = 0
    for i in range(1_500_000):  # CPU work inside the callback
        total += i * i % 7
    return str(total).encode()


async def handle_config():
    with open(CONFIG, "rb") as f:  # a file read on the loop thread
        return b"%d bytes of config" % len(f.read())


async def serve(port, upstream):
    stop = asyncio.Event()

    async def client(reader, writer):
        request = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        path = request.split(b" ")[1].decode() if b" " in request else "/"
        if path == "/sleep":
            body = await handle_sleep()
        elif path == "/fetch":
            body = await handle_fetch(upstream)
        elif path == "/report":
            body = await handle_report()
        elif path == "/config":
            body = await handle_config()
        elif path == "/quit":
            body = b"bye"
            stop.set()
        else:
            body = b"ok"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", port)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    port, upstream = int(sys.argv[1]), int(sys.argv[2])
    slow_upstream(upstream)
    asyncio.run(serve(port, upstream))
