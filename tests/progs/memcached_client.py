# memcached_client.py SOCKET - pipelines 600 gets of long keys to a
# memcached on a unix socket, so that memcached -vv logs ~160 KiB to its
# stderr at once (tests/integration/test_stdio_blocking.c), then creates
# ./sent.  Prints "ok N" with the number of answers.
import socket
import sys
import time

path = sys.argv[1]
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        break
    except OSError:
        s.close()
        time.sleep(0.05)
else:
    sys.exit("no memcached at " + path)
key = "k" * 240
s.sendall("".join("get %s%03d\r\n" % (key, i) for i in range(600)).encode())
open("sent", "w").close()  # the test's slow stderr reader waits for it
got = b""
while got.count(b"END\r\n") < 600:
    d = s.recv(65536)
    if not d:
        break
    got += d
print("ok", got.count(b"END\r\n"))
