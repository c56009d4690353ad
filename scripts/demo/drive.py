"""Drive the demo service briefly: a few requests to each endpoint, then quit."""
import sys
import time
import urllib.request

port = int(sys.argv[1])
base = "http://127.0.0.1:%d" % port

for _ in range(100):  # wait for the service to listen
    try:
        urllib.request.urlopen(base + "/health", timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("demo: the service did not start")

for path in ["/health", "/sleep", "/fetch", "/report", "/config"] * 3:
    urllib.request.urlopen(base + path, timeout=10).read()
urllib.request.urlopen(base + "/quit", timeout=10).read()
