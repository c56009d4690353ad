# aiohttp_service.py - a real aiohttp service that stalls periodically: its
# /report handler renders with a blocking sleep (the planted place:
# render_report), and a client task in the same process calls it every
# 300 ms, so the loop keeps turning between stalls.
#
# usage: aiohttp_service.py SECONDS
import asyncio
import sys
import time

from aiohttp import ClientSession, web


def render_report():
    time.sleep(0.12)  # the planted blocking call
    return "ok"


async def report(request):
    return web.Response(text=render_report())


async def client(port, seconds):
    end = time.monotonic() + seconds
    async with ClientSession() as session:
        while time.monotonic() < end:
            async with session.get(f"http://127.0.0.1:{port}/report") as r:
                await r.text()
            await asyncio.sleep(0.3)


async def main():
    app = web.Application()
    app.router.add_get("/report", report)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    await client(port, float(sys.argv[1]))
    await runner.cleanup()


asyncio.run(main())
