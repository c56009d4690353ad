#!/bin/sh
# host_servers.sh - a real server started with the given environment (plain
# when none), driven by its own client, then stopped.  Prints the replies
# and the descriptors of the process that serves (`ls -l /proc/PID/fd`,
# reduced to "fd -> kind" without inode numbers or paths of this run), so
# that a plain run and a run under the shim can be compared line by line.
#
# usage: host_servers.sh redis|nginx|memcached DIR PORT [VAR=VALUE...]
#   redis      redis-server, redis-cli: strings, counters, lists, a Lua
#              script that burns CPU (a sampled stall), DEBUG SLEEP
#   nginx      nginx master and one worker, curl: a fixed reply, a static
#              file, a 404; the worker's descriptors
#   memcached  memcached, a Python text-protocol client: set, get, incr,
#              delete, a miss
# Exits 2 when the server does not come up.
set -u
name=$1 dir=$2 port=$3
shift 3
mkdir -p "$dir"
cd "$dir" || exit 2

# The shim keeps its own descriptors (trace file, libunwind's pipe) in a
# protected high range: from 900, or half the process's descriptor limit
# if lower (memcached sets its own).  They are left out; everything below
# must be the server's own, with the same numbers.
fds_once() {
	floor=$(awk '/^Max open files/ {print int($4 / 2)}' "/proc/$1/limits")
	[ "${floor:-900}" -gt 900 ] && floor=900
	ls -l "/proc/$1/fd" 2>/dev/null |
		sed -nE 's/^.* ([0-9]+) -> (.*)$/\1 -> \2/p' |
		sed -E "s#\[[0-9]+\]##; s#$dir#DIR#; s#/proc/[0-9]+/#/proc/PID/#; s# \(deleted\)\$##" |
		sort -n | awk -v floor="${floor:-900}" '$1 + 0 < floor + 0'
}

# The listing once it is steady: a client that just left may still have
# its connection open until the server's next turn.
fds() {
	prev=$(fds_once "$1")
	for _ in $(seq 30); do
		sleep 0.1
		cur=$(fds_once "$1")
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	echo "$cur"
}

wait_port() {
	for _ in $(seq 200); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "server did not come up" >&2
	return 1
}

case "$name" in
redis)
	env "$@" redis-server --port "$port" --bind 127.0.0.1 --save '' \
		--appendonly no --daemonize no --logfile '' \
		--enable-debug-command yes >/dev/null 2>&1 &
	pid=$!
	cli() { redis-cli -p "$port" "$@"; }
	wait_port cli ping || { kill "$pid"; exit 2; }
	cli set greeting hello
	cli get greeting
	cli incr counter
	cli incrby counter 41
	cli rpush list a b c
	cli lrange list 0 -1
	cli eval 'local n = 0 for i = 1, 20000000 do n = n + i % 7 end return n' 0
	cli debug sleep 0.2
	cli dbsize
	echo "descriptors of redis-server:"
	fds "$pid"
	cli shutdown nosave >/dev/null 2>&1
	wait "$pid"
	;;
nginx)
	mkdir -p "$dir/html" "$dir/tmp"
	echo "a static file" >"$dir/html/file.txt"
	chmod -R a+rX "$dir"
	cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	server {
		listen 127.0.0.1:$port;
		root $dir/html;
		location = / { return 200 "hello from nginx\n"; }
	}
}
EOF
	env "$@" nginx -p "$dir" -c "$dir/nginx.conf" >/dev/null 2>&1 &
	master=$!
	get() { curl -s -o - -w ' [%{http_code}]\n' "http://127.0.0.1:$port$1"; }
	wait_port curl -sf "http://127.0.0.1:$port/" || { kill "$master"; exit 2; }
	get /
	get /file.txt
	get /missing
	for _ in 1 2 3; do get /; done
	worker=$(pgrep -P "$master" | head -1)
	echo "processes: master and $(pgrep -P "$master" | wc -l) worker"
	echo "descriptors of the worker:"
	fds "$worker"
	kill -QUIT "$master"
	wait "$master"
	;;
memcached)
	env "$@" memcached -p "$port" -U 0 -l 127.0.0.1 -u root -t 2 \
		>/dev/null 2>&1 &
	pid=$!
	client() {
		/usr/bin/python3 - "$port" "$@" <<'EOF'
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
f = s.makefile("rwb")
def cmd(line, data=None, until=(b"END", b"STORED", b"DELETED", b"NOT_FOUND")):
    f.write(line.encode() + b"\r\n")
    if data is not None:
        f.write(data + b"\r\n")
    f.flush()
    out = []
    while True:
        reply = f.readline().rstrip(b"\r\n")
        out.append(reply.decode())
        if reply in until or reply.isdigit() or reply.startswith(b"ERROR") \
                or reply.startswith(b"CLIENT_ERROR"):
            return " / ".join(out)
if len(sys.argv) > 2:
    sys.exit(0)
print(cmd("set greeting 0 0 5", b"hello"))
print(cmd("get greeting"))
print(cmd("set n 0 0 1", b"7"))
print(cmd("incr n 35"))
print(cmd("get missing"))
print(cmd("delete greeting"))
print(cmd("get greeting"))
big = bytes(range(256)) * 256
print(cmd("set big 0 0 %d" % len(big), big))
f.write(b"get big\r\n"); f.flush()
head = f.readline(); body = f.read(len(big) + 2); end = f.readline()
print(head.decode().strip(), body[:-2] == big, end.decode().strip())
EOF
	}
	wait_port client ping || { kill "$pid"; exit 2; }
	client
	echo "descriptors of memcached:"
	fds "$pid"
	kill "$pid"
	wait "$pid"
	;;
*)
	echo "usage: $0 redis|nginx|memcached DIR PORT [VAR=VALUE...]" >&2
	exit 2
	;;
esac
echo "exit $?"
