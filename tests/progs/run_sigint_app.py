# run_sigint_app.py READY_FILE - an asyncio service that, like many
# command-line servers, installs Python's SIGINT handler itself (even when
# started with SIGINT ignored, as a script's background job is), then
# serves until interrupted; its KeyboardInterrupt handler says so.
import asyncio
import signal
import sys

signal.signal(signal.SIGINT, signal.default_int_handler)


async def serve():
    open(sys.argv[1], "w").close()
    while True:
        await asyncio.sleep(0.05)


try:
    asyncio.run(serve())
except KeyboardInterrupt:
    print("run_sigint_app: KeyboardInterrupt handled", flush=True)
    sys.exit(0)
