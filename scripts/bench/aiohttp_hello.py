"""aiohttp hello-world for `make bench`: one process, one event loop,
loopback only.  Usage: python3 aiohttp_hello.py PORT"""
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, world\n")


def main():
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None,
                print=None, handle_signals=True)


if __name__ == "__main__":
    main()
