#!/usr/bin/env bash
# run.sh - `make bench`: what stallwatch costs, measured side by side.
#
# Builds its benchmark programs into $B/bench, runs every measure with and
# without the shim interleaved (A B A B ..., BENCH_PAIRS pairs), then prints
# medians, ratios, targets and pass/miss as a Markdown table, also saved to
# $B/bench/results.md and doc/benchmarks.md (raw samples in $B/bench/raw.tsv).
# The targets and the method are in doc/design.md, "Testing stallwatch".
#
# Settings (environment):
#   B                 build directory (default build), relative to the tree
#   BENCH_PAIRS       A/B pairs per measure (default 5)
#   BENCH_SECONDS     seconds per wrk run; redis-benchmark and the loop counts
#                     scale with it (default 5; 1 for a quick dev run)
#   BENCH_ONLY        comma list of sections (default all): baseline, hot, clock,
#                     callgrind, redis, aiohttp, node, flood, analyzer, rss
#   BENCH_HOT_CALLS   wrapped calls per hot-path run (default 2000000)
#   BENCH_RSS_TURNS   loop turns for the memory run (default 10000000)
#   BENCH_CPU_SERVER, BENCH_CPU_CLIENT   CPUs to pin servers (with their
#                     tracer) and load generators/hot-path programs to
#                     (defaults 0 and 1 when there are 2+ CPUs, else no pinning)
#   BENCH_PORT        first loopback port to try (default 20000 + pid % 10000)
#
# Everything is bounded: fixed loop counts, wrk -d, `timeout` around every
# client, servers in their own process groups killed on exit (trap), and
# only 127.0.0.1 is used.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
case $B in /*) BD=$B ;; *) BD=$ROOT/$B ;; esac
PAIRS=${BENCH_PAIRS:-5}
SECS=${BENCH_SECONDS:-5}
ONLY=${BENCH_ONLY:-all}
HOT_CALLS=${BENCH_HOT_CALLS:-2000000}
RSS_TURNS=${BENCH_RSS_TURNS:-10000000}
OUT=$BD/bench
WORK=$OUT/work
RAW=$OUT/raw.tsv
SHIM=$BD/libstallwatch.so
SW=$BD/stallwatch
HOT=$OUT/hotpath
GEN=$OUT/gentrace
PY=/usr/bin/python3

for v in PAIRS SECS HOT_CALLS RSS_TURNS; do
	case ${!v} in '' | *[!0-9]*) echo "bench: $v must be a positive integer" >&2; exit 2 ;; esac
	[ "${!v}" -gt 0 ] || { echo "bench: $v must be > 0" >&2; exit 2; }
done

if [ "$(nproc)" -ge 2 ]; then
	CPU_SERVER=${BENCH_CPU_SERVER:-0}
	CPU_CLIENT=${BENCH_CPU_CLIENT:-1}
	PIN_SERVER=(taskset -c "$CPU_SERVER")
	PIN_CLIENT=(taskset -c "$CPU_CLIENT")
else
	CPU_SERVER=any CPU_CLIENT=any
	PIN_SERVER=() PIN_CLIENT=()
fi

log() { printf 'bench: %s\n' "$*" >&2; }
want() { [ "$ONLY" = all ] || [[ ",$ONLY," == *",$1,"* ]]; }
have() { command -v "$1" >/dev/null 2>&1; }
# One sample: section, name, variant, pair, then key=value words.
rec() { local IFS=$'\t'; printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RAW"; }
note() { printf 'note\t%s\t-\t-\t%s\n' "$1" "$2" >>"$RAW"; }
now_ns() { date +%s%N; }
# Max RSS through GNU time (Debian package "time") when installed, written
# as "maxrss_kib=N" to the file; without it the command just runs.
maxrss() { # file cmd...
	local f=$1
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f 'maxrss_kib=%M' -o "$f" "$@"
	else
		echo "maxrss_kib=n/a" >"$f"
		"$@"
	fi
}

# ---- servers: own process groups, killed on any exit -------------------
GROUPS_LIVE=()
stop_group() { # pgid
	local pg=$1 _
	kill -TERM -- "-$pg" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 -- "-$pg" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pg" 2>/dev/null
	wait "$pg" 2>/dev/null
	return 0
}
cleanup() {
	local pg
	for pg in "${GROUPS_LIVE[@]}"; do stop_group "$pg"; done
	GROUPS_LIVE=()
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM HUP

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=${BENCH_PORT:-$((20000 + $$ % 10000))}
pick_port() {
	local _
	for _ in $(seq 100); do
		NEXT_PORT=$((NEXT_PORT + 1))
		[ "$NEXT_PORT" -gt 60000 ] && NEXT_PORT=20001
		port_in_use "$NEXT_PORT" || { PORT=$NEXT_PORT; return 0; }
	done
	log "no free loopback port"; exit 1
}
wait_port() { # port seconds
	local _
	for _ in $(seq $(($2 * 10))); do
		port_in_use "$1" && return 0
		sleep 0.1
	done
	return 1
}

# The variant's command prefix, in VPRE (an array).  `stallwatch run` is how
# users launch; the anchors are what the issue compares against.
TRACE_DIR=
variant_prefix() { # variant
	TRACE_DIR=$WORK/trace-$1-$RANDOM$RANDOM
	case $1 in
	plain) VPRE=() ;;
	default) mkdir -p "$TRACE_DIR"; VPRE=("$SW" run -q -o "$TRACE_DIR" --) ;;
	strict) mkdir -p "$TRACE_DIR"; VPRE=("$SW" run -q --strict -o "$TRACE_DIR" --) ;;
	asynciodebug) VPRE=(env PYTHONASYNCIODEBUG=1) ;;
	strace) VPRE=(strace -f -o /dev/null) ;;
	*) log "unknown variant $1"; exit 1 ;;
	esac
}
# CPU time (ns, from schedstat) used so far by every thread of every process
# in a process group: the server and, for the anchors, its tracer.  On a
# shared machine this is steadier than throughput: other jobs stealing the
# CPU lower req/s but not CPU time per request.
group_cpu_ns() { # pgid
	local p t v total=0
	for p in $(pgrep -g "$1" 2>/dev/null); do
		for t in /proc/"$p"/task/*/schedstat; do
			read -r v _ <"$t" && total=$((total + v))
		done 2>/dev/null
	done
	echo "$total"
}
# Loop turns the shim counted in this run's trace (all loops, all
# processes), from the analyzer's JSON; 0 when there is no trace.
trace_turns() {
	[ -d "$TRACE_DIR" ] || { echo 0; return; }
	"$SW" report --format json --no-symbols -q "$TRACE_DIR" 2>/dev/null | "$PY" -c '
import json, sys
try:
    r = json.load(sys.stdin)
    print(sum(l.get("turns") or 0 for p in r.get("processes") or [] for l in p.get("loops") or []))
except Exception:
    print(0)' 2>/dev/null || echo 0
}
trace_bytes() {
	[ -d "$TRACE_DIR" ] || { echo 0; return; }
	du -sb "$TRACE_DIR" 2>/dev/null | cut -f1
}

# Start a server in its own process group (setsid), pinned; sets SPID.
# `timeout` bounds its life even if this script is SIGKILLed and its trap
# never runs.
start_server() { # logfile cmd...
	local logf=$1
	shift
	setsid timeout -k 5 $((SECS * 30 + 120)) "${PIN_SERVER[@]}" "$@" </dev/null >"$logf" 2>&1 &
	SPID=$!
	GROUPS_LIVE+=("$SPID")
}
end_server() {
	stop_group "$SPID"
	local keep=() pg
	for pg in "${GROUPS_LIVE[@]}"; do [ "$pg" = "$SPID" ] || keep+=("$pg"); done
	GROUPS_LIVE=("${keep[@]}")
}

# ---- build ----------------------------------------------------------------
build() {
	mkdir -p "$OUT" "$WORK"
	if [ ! -x "$SW" ] || [ ! -f "$SHIM" ]; then
		log "building stallwatch into $B"
		make -C "$ROOT" --no-print-directory B="$B" all >&2 || exit 1
	fi
	local cflags=(-std=gnu11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror)
	cc "${cflags[@]}" -o "$HOT" "$ROOT/scripts/bench/hotpath.c" -lpthread -ldl || exit 1
	cc "${cflags[@]}" -o "$GEN" "$ROOT/scripts/bench/gentrace.c" || exit 1
}

# ---- hot path -------------------------------------------------------------
# Runs hotpath MODE args under a variant (plain | shim | shimstrict) and
# records its key=value line.
hot_run() { # section name variant pair mode args...
	local sec=$1 name=$2 var=$3 pair=$4 out dir
	shift 4
	dir=$WORK/hot-$RANDOM$RANDOM
	mkdir -p "$dir"
	case $var in
	plain) out=$("${PIN_CLIENT[@]}" "$HOT" "$@") ;;
	shim) out=$("${PIN_CLIENT[@]}" env LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir" "$HOT" "$@") ;;
	shimstrict) out=$("${PIN_CLIENT[@]}" env LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir" STALLWATCH_STRICT=1 "$HOT" "$@") ;;
	esac || { log "hotpath $* ($var) failed"; rm -rf "$dir"; return 1; }
	rec "$sec" "$name" "$var" "$pair" "$(grep '^mode=' <<<"$out") trace_bytes=$(du -sb "$dir" | cut -f1)"
	rm -rf "$dir"
}

bench_hot() {
	local k=4 turns=$((HOT_CALLS / 8)) mk=16 p v m
	local mturns=$((HOT_CALLS * 4 / 16))
	log "hot path: $PAIRS pairs, $HOT_CALLS wrapped calls per run, pinned to CPU $CPU_CLIENT"
	for p in $(seq "$PAIRS"); do
		log "  pair $p/$PAIRS"
		# In-process A/B (hotpath.c): libc direct vs through the PLT, in
		# alternating blocks of 32; the plain run measures the method's
		# own bias, which table.py subtracts.
		for m in ab-io ab-io-thread ab-io-timed; do
			for v in plain shim; do hot_run ab "$m" "$v" "$p" "$m" $((HOT_CALLS / 128)) 32; done
		done
		hot_run ab ab-io shimstrict "$p" ab-io $((HOT_CALLS / 128)) 32
		for v in plain shim; do hot_run ab ab-turn "$v" "$p" ab-turn $((HOT_CALLS / 64)) 32; done
		for m in ab-mutex ab-mutex-thread; do
			for v in plain shim; do hot_run ab "$m" "$v" "$p" "$m" $((HOT_CALLS * 4 / 64)) 32; done
		done
		# Separate processes, with and without the shim: the end-to-end
		# figure, noisier by the whole syscall's variance.
		for v in plain shim; do hot_run hot turn "$v" "$p" turn "$HOT_CALLS"; done
		for v in plain shim; do hot_run hot io "$v" "$p" io "$turns" "$k"; done
		hot_run hot io shimstrict "$p" io "$turns" "$k"
		for v in plain shim; do hot_run hot io-thread "$v" "$p" io-thread "$turns" "$k"; done
		for v in plain shim; do hot_run hot mutex "$v" "$p" mutex "$mturns" "$mk"; done
		for v in plain shim; do hot_run hot mutex-thread "$v" "$p" mutex-thread "$mturns" "$mk"; done
	done
}

# Honest baselines: a single-threaded loop's plain run is single-threaded.
# glibc skips the cancellation bookkeeping of cancellable calls (send, recv,
# epoll_wait) and takes cheaper malloc and stdio paths while a process has
# one thread, so a second thread (the shim's or an idle one) costs the
# program by itself.  Three variants, interleaved in every pair: plain
# (single-threaded), plainmt (plain with an idle thread, the old baseline
# that hid this) and shim; CPU time of the whole process over the measured
# loop, so a helper thread's or signal handler's work counts too.
bench_baseline() {
	local p v mode envs dir out turns=$((HOT_CALLS / 8)) k=4
	log "baselines: $PAIRS pairs of plain / plain + idle thread / shim, turn and io, CPU time"
	for p in $(seq "$PAIRS"); do
		log "  pair $p/$PAIRS"
		for mode in turn io; do
			for v in plain plainmt shim; do
				dir=$WORK/base-$RANDOM$RANDOM
				mkdir -p "$dir"
				envs=()
				[ $v = plainmt ] && envs=(HOTPATH_IDLE_THREAD=1)
				[ $v = shim ] && envs=(LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir")
				if [ $mode = turn ]; then
					out=$("${PIN_CLIENT[@]}" env "${envs[@]}" "$HOT" turn "$HOT_CALLS")
				else
					out=$("${PIN_CLIENT[@]}" env "${envs[@]}" "$HOT" io "$turns" "$k")
				fi || { log "hotpath $mode ($v) failed"; rm -rf "$dir"; continue; }
				rec base "$mode" "$v" "$p" "$(grep '^mode=' <<<"$out")"
				rm -rf "$dir"
			done
		done
	done
}

bench_clock() {
	local p out
	log "clock: vDSO clock_gettime vs rdtsc"
	for p in $(seq "$PAIRS"); do
		out=$("${PIN_CLIENT[@]}" "$HOT" clock 20000000) || return
		while read -r c rest; do
			rec clock "${c#clock=}" plain "$p" "$rest"
		done <<<"$out"
	done
	note clock_source "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
	note tsc_flags "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(constant_tsc|nonstop_tsc|tsc_known_freq)$' | tr '\n' ' ')"
	note shim_clock "$(grep -lE 'rdtsc|__rdtsc' "$ROOT"/preload/*.c 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')"
}

# Instruction counts: perf stat needs hardware counters (often absent in
# VMs), callgrind always works.  --toggle-collect counts only the measured
# function and its callees: no process start, no shim constructor.
bench_callgrind() {
	if perf stat -e instructions -x, true 2>&1 | grep -q '^[0-9]'; then
		note perf_instructions supported
	else
		note perf_instructions "not supported here ($(perf stat -e instructions -x, true 2>&1 | head -1 | cut -c1-60))"
	fi
	have valgrind || { note callgrind "valgrind not installed"; return; }
	log "callgrind: instructions per wrapped call"
	local n=20000 k=4 mode fn var f ir
	for mode in turn io io-timed io-thread mutex mutex-thread; do
		case $mode in
		turn) fn=bench_turns; args=(turn $((n * 4))) ;;
		io) fn=bench_io; args=(io "$n" "$k") ;;
		io-timed) fn=bench_io_timed; args=(io-timed "$n" "$k") ;;
		io-thread) fn=bench_io_thread; args=(io-thread "$n" "$k") ;;
		mutex) fn=bench_mutex; args=(mutex "$n" 16) ;;
		mutex-thread) fn=bench_mutex_thread; args=(mutex-thread "$n" 16) ;;
		esac
		# plainmt: plain with an idle thread, as multi-threaded as the
		# shim's process (its watchdog thread); see hotpath.c.
		for var in plain plainmt shim; do
			f=$OUT/callgrind.$mode.$var.out
			rm -f "$f"
			local dir=$WORK/cg-$RANDOM
			mkdir -p "$dir"
			local envs=()
			[ $var = shim ] && envs=(LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir")
			[ $var = plainmt ] && envs=(HOTPATH_IDLE_THREAD=1)
			out=$(env "${envs[@]}" timeout 300 valgrind --tool=callgrind -q \
				--callgrind-out-file="$f" --toggle-collect="$fn" \
				"$HOT" "${args[@]}" 2>"$f.log") || { log "callgrind $mode $var failed (see $f.log)"; continue; }
			ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
			rec callgrind "$mode" "$var" 1 "$(grep '^mode=' <<<"$out") ir=$ir"
			rm -rf "$dir"
		done
		if have callgrind_annotate && [ -f "$OUT/callgrind.$mode.shim.out" ]; then
			callgrind_annotate --inclusive=no "$OUT/callgrind.$mode.shim.out" 2>/dev/null |
				sed -n '1,40p' >"$OUT/callgrind.$mode.shim.txt"
		fi
	done
}

# A real server's instructions per request: redis-server under callgrind
# for a fixed 2 x 10000 requests, plain and with the shim.  Exact where the
# throughput runs are noisy (user space only: the kernel's share of a
# request is not counted, so the ratio overstates the CPU-time overhead).
# redis-server's instructions per request under callgrind, plain and under
# the shim: like callgrind_aiohttp, a short and a long load per variant, so
# that start-up (the loader binding the shim's symbols, its constructor)
# cancels out.
callgrind_redis() {
	have valgrind && have redis-server && have redis-benchmark && have redis-cli || return 0
	local var f ir n dir envs _
	log "callgrind: redis-server, per request (1000 and 5000 each of SET and GET)"
	for var in plain shim; do
		for n in 1000 5000; do
			f=$OUT/callgrind.redis.$var.$n.out
			rm -f "$f"
			dir=$WORK/cg-redis-$var
			mkdir -p "$dir"
			envs=()
			[ $var = shim ] && envs=(LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir")
			pick_port
			start_server "$WORK/redis-cg-$var.log" env "${envs[@]}" valgrind --tool=callgrind -q \
				--callgrind-out-file="$f" redis-server --port "$PORT" --bind 127.0.0.1 \
				--save '' --appendonly no --daemonize no --dir "$WORK"
			for _ in $(seq 120); do
				redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
				sleep 0.25
			done
			"${PIN_CLIENT[@]}" timeout 120 redis-benchmark -h 127.0.0.1 -p "$PORT" -c 50 -n "$n" \
				-t set,get -q >/dev/null 2>&1
			redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
			for _ in $(seq 100); do
				pgrep -g "$SPID" valgrind >/dev/null 2>&1 || pgrep -g "$SPID" -f callgrind >/dev/null 2>&1 || break
				sleep 0.2
			done
			end_server
			ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f" 2>/dev/null)
			[ -n "$ir" ] && rec callgrind "redis-$n" "$var" 1 "ir=$ir reqs=$((2 * n))"
			rm -rf "$dir"
		done
	done
	if have callgrind_annotate && [ -f "$OUT/callgrind.redis.shim.5000.out" ]; then
		callgrind_annotate --inclusive=no "$OUT/callgrind.redis.shim.5000.out" 2>/dev/null |
			sed -n '1,60p' >"$OUT/callgrind.redis.shim.txt"
	fi
}

# ---- real servers ---------------------------------------------------------
# The aiohttp server's instructions per request under callgrind, plain and
# under the shim.  Python's start-up (imports) costs far more than the
# requests, so each variant runs twice, with a short and a long load, and the
# difference of the two totals over the difference of their requests cancels
# it.  Throughput on this kind of machine is too noisy to resolve 1%; this is
# deterministic.
callgrind_aiohttp() {
	have valgrind && have wrk && "$PY" -c 'import aiohttp' 2>/dev/null || return 0
	local var secs f dir envs res reqs ir _
	log "callgrind: aiohttp server, per request (loads of 2 s and 10 s, wrk -c10)"
	for var in plain shim; do
		for secs in 2 10; do
			f=$OUT/callgrind.aiohttp.$var.$secs.out
			rm -f "$f"
			dir=$WORK/cg-aiohttp-$var
			mkdir -p "$dir"
			envs=()
			[ $var = shim ] && envs=(LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir")
			pick_port
			start_server "$WORK/aiohttp-cg-$var.log" env "${envs[@]}" valgrind --tool=callgrind -q \
				--callgrind-out-file="$f" "$PY" "$ROOT/scripts/bench/aiohttp_hello.py" "$PORT"
			if ! wait_port "$PORT" 60; then
				log "aiohttp under callgrind did not listen"
				end_server
				continue
			fi
			res=$("${PIN_CLIENT[@]}" timeout $((secs + 30)) wrk -t1 -c10 -d"${secs}s" "http://127.0.0.1:$PORT/" 2>&1)
			reqs=$(grep -o '[0-9]* requests' <<<"$res" | head -1 | cut -d' ' -f1)
			# SIGTERM: aiohttp shuts down cleanly and callgrind writes f.
			kill -TERM -- "-$SPID" 2>/dev/null
			for _ in $(seq 150); do
				[ -s "$f" ] && ! kill -0 -- "-$SPID" 2>/dev/null && break
				sleep 0.2
			done
			end_server
			ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f" 2>/dev/null)
			[ -n "$ir" ] && [ -n "$reqs" ] && rec callgrind "aiohttp-$secs" "$var" 1 "ir=$ir reqs=$reqs"
			rm -rf "$dir"
		done
	done
}

wrk_run() { # port seconds -> prints "rps=... reqs=... errors=..."
	local out rps errs reqs
	out=$("${PIN_CLIENT[@]}" timeout $(($2 + 15)) wrk -t1 -c50 -d"$2s" --timeout 2s \
		"http://127.0.0.1:$1/" 2>&1) || { echo "rps=0 errors=wrk-failed"; return; }
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	reqs=$(awk '/ requests in / {print $1}' <<<"$out")
	errs=$(awk '/Socket errors|Non-2xx/ {gsub(/ /,""); printf "%s;", $0}' <<<"$out")
	echo "rps=${rps:-0} reqs=${reqs:-0} errors=${errs:-none}"
}

http_server_run() { # name variant pair cmd...
	local name=$1 var=$2 pair=$3 res
	shift 3
	pick_port
	variant_prefix "$var"
	start_server "$WORK/$name-$var.log" "${VPRE[@]}" "$@" "$PORT"
	if ! wait_port "$PORT" 20; then
		log "$name ($var) did not listen; log: $(tail -3 "$WORK/$name-$var.log" | tr '\n' ' ')"
		end_server
		rec server "$name" "$var" "$pair" "rps=0 errors=no-listen"
		return
	fi
	local c0 c1 warm
	warm=$(wrk_run "$PORT" 1) # warm-up: imports, JIT, first connections
	warm=${warm#*reqs=}
	c0=$(group_cpu_ns "$SPID")
	res=$(wrk_run "$PORT" "$SECS")
	c1=$(group_cpu_ns "$SPID")
	end_server
	rec server "$name" "$var" "$pair" "$res cpu_ns=$((c1 - c0)) warm_reqs=${warm%% *} turns=$(trace_turns) trace_bytes=$(trace_bytes)"
	rm -rf "$TRACE_DIR"
}

# Wrapped calls per request, counted once per server with `strace -c`
# attached after start-up (so imports and start-up reads do not count)
# during a short load.  Only a count: the timings come from the runs above.
WRAPPED_SYSCALLS=" read write pread64 pwrite64 readv writev preadv pwritev recvfrom recvmsg sendto sendmsg connect accept accept4 poll ppoll select pselect6 open openat fsync fdatasync msync flock nanosleep clock_nanosleep wait4 waitid "
count_calls() { # name load-function cmd...
	local name=$1 load=$2 pids=() p sc reqs
	shift 2
	have strace || return
	pick_port
	start_server "$WORK/$name-count.log" "$@" "$PORT"
	wait_port "$PORT" 20 || { end_server; return; }
	"$load" 1 >/dev/null
	for p in $(pgrep -g "$SPID"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = timeout ] || pids+=(-p "$p")
	done
	sc=$WORK/$name.strace-c
	strace -f -c -o "$sc" "${pids[@]}" 2>/dev/null &
	local spid=$!
	sleep 1
	reqs=$("$load" 2)
	reqs=${reqs#*reqs=}
	kill -INT "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	end_server
	[ -s "$sc" ] || return
	# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
	awk -v wrapped="$WRAPPED_SYSCALLS" -v reqs="${reqs%% *}" '
		NF >= 5 && $4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" {
			if (index(wrapped, " " $NF " ")) calls += $4
			if ($NF ~ /^epoll_p?wait2?$/) waits += $4
		}
		END { printf "reqs=%d calls=%d waits=%d\n", reqs, calls, waits }' "$sc" |
		while read -r line; do rec count "$name" strace 1 "$line"; done
}
wrk_load() { wrk_run "$PORT" "$1"; }
redis_load() { # seconds -> "reqs=N"
	local n=$((5000 * $1))
	"${PIN_CLIENT[@]}" timeout 60 redis-benchmark -h 127.0.0.1 -p "$PORT" -c 50 -n "$n" \
		-t set,get -q >/dev/null 2>&1
	echo "reqs=$((2 * n))"
}

bench_http() { # name variants -- cmd...
	local name=$1 p v variants=()
	shift
	while [ "$1" != -- ]; do variants+=("$1"); shift; done
	shift
	log "$name: $PAIRS rounds of ${variants[*]}, wrk -t1 -c50 -d${SECS}s (server CPU $CPU_SERVER, wrk CPU $CPU_CLIENT)"
	for p in $(seq "$PAIRS"); do
		log "  round $p/$PAIRS"
		for v in "${variants[@]}"; do http_server_run "$name" "$v" "$p" "$@"; done
	done
	count_calls "$name" wrk_load "$@"
}

bench_redis() {
	if ! have redis-server || ! have redis-benchmark; then
		note redis "redis-server/redis-benchmark not installed"
		return
	fi
	local n=$((SECS * 20000)) p v res nn
	log "redis: $PAIRS rounds, redis-benchmark -c 50 -t set,get -n $n (strace: n/10)"
	for p in $(seq "$PAIRS"); do
		log "  round $p/$PAIRS"
		for v in plain default strict strace; do
			pick_port
			variant_prefix "$v"
			start_server "$WORK/redis-$v.log" "${VPRE[@]}" redis-server --port "$PORT" \
				--bind 127.0.0.1 --save '' --appendonly no --daemonize no \
				--protected-mode yes --dir "$WORK"
			if ! wait_port "$PORT" 20; then
				log "redis ($v) did not listen"
				end_server
				continue
			fi
			nn=$n
			[ "$v" = strace ] && nn=$((n / 10))
			local c0 c1
			c0=$(group_cpu_ns "$SPID")
			res=$("${PIN_CLIENT[@]}" timeout $((SECS * 12 + 30)) redis-benchmark -h 127.0.0.1 \
				-p "$PORT" -c 50 -n "$nn" -t set,get -q 2>&1 | tr '\r' '\n')
			c1=$(group_cpu_ns "$SPID")
			end_server
			local set get
			set=$(awk '/^SET: .*requests per second/ {print $2}' <<<"$res")
			get=$(awk '/^GET: .*requests per second/ {print $2}' <<<"$res")
			# CPU time covers SET and GET together: one figure per run.
			rec server redis-set "$v" "$p" "rps=${set:-0} reqs=$((2 * nn)) cpu_ns=$((c1 - c0)) turns=$(trace_turns) warm_reqs=0 trace_bytes=$(trace_bytes)"
			rec server redis-get "$v" "$p" "rps=${get:-0} reqs=$((2 * nn)) cpu_ns=$((c1 - c0))"
			rm -rf "$TRACE_DIR"
		done
	done
	count_calls redis-set redis_load redis-server --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --protected-mode yes --dir "$WORK" --port
}

# ---- strict mode under a flood ------------------------------------------
bench_flood() {
	local n=200000 p v
	log "strict flood: a loop thread writing $n records to a regular file"
	for p in $(seq "$PAIRS"); do
		for v in plain shimstrict shim; do
			hot_run flood write "$v" "$p" flood "$n" "$WORK/flood.$v.out"
		done
	done
}

# ---- the analyzer ---------------------------------------------------------
bench_analyzer() {
	local agg=$WORK/agg.swtrace sym=$WORK/sym.swtrace p t0 t1 st nsym=20000
	# Each report takes seconds: three runs give a median.
	local runs=$((PAIRS < 3 ? PAIRS : 3))
	local flag=--no-symbols
	if ! "$SW" report --help 2>&1 | grep -q -- --no-symbols; then
		note analyzer "stallwatch report has no --no-symbols flag; timing with symbols only"
		flag=
	fi
	rm -f "$agg" "$sym"
	"$GEN" agg "$agg" 1000000 100 16 >/dev/null || return
	"$GEN" sym "$sym" "$nsym" 16 >/dev/null || return
	note analyzer_input "agg: 1000000 events, 100 stacks x 16 frames, $(du -m "$agg" | cut -f1) MB; sym: $nsym distinct libc addresses"
	log "analyzer: report on 1M records ($runs runs each)"
	note analyzer_nsym "$nsym"
	for p in $(seq "$runs"); do
		for what in agg-nosym agg-sym agg-text-nosym sym-nosym sym-sym; do
			local file=$agg args=(--format json)
			[[ $what == sym-* ]] && file=$sym
			[[ $what == *-text-* ]] && args=(--format text)
			[[ $what == *-nosym ]] && [ -n "$flag" ] && args+=("$flag")
			[[ $what == *-nosym ]] && [ -z "$flag" ] && continue
			t0=$(now_ns)
			maxrss "$WORK/time.out" \
				timeout 300 "$SW" report "${args[@]}" "$file" >"$WORK/report.$what" 2>"$WORK/report.err"
			st=$?
			t1=$(now_ns)
			if [ $st -ne 0 ]; then
				log "report $what failed ($st): $(head -2 "$WORK/report.err" | tr '\n' ' ')"
				rec analyzer "$what" run "$p" "ns=0 status=$st"
				continue
			fi
			rec analyzer "$what" run "$p" "ns=$((t1 - t0)) $(tail -1 "$WORK/time.out") out_bytes=$(stat -c %s "$WORK/report.$what")"
		done
	done
	# Sanity: the aggregated report must count all 1M events in its sites.
	if have "$PY" && [ -s "$WORK/report.agg-sym" ]; then
		"$PY" -c '
import json, sys
r = json.load(sys.stdin)
s = r.get("sites") or []
named = sum(1 for x in s for f in x.get("frames") or [] if f.get("function"))
print("sites=%d events counted in sites=%d named frames=%d" %
      (len(s), sum(x.get("count") or 0 for x in s), named))' \
			<"$WORK/report.agg-sym" >"$WORK/check.out" 2>/dev/null &&
			note analyzer_check "$(cat "$WORK/check.out")"
	fi
	rm -f "$agg" "$sym" "$WORK"/report.*
}

# ---- memory ---------------------------------------------------------------
bench_rss() {
	local step=$((RSS_TURNS / 10)) v
	log "memory: $RSS_TURNS loop turns, VmRSS every $step"
	for v in plain shim shimstrict; do
		local dir=$WORK/rss-$v envs=()
		mkdir -p "$dir"
		[ $v = shim ] && envs=(LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir")
		[ $v = shimstrict ] && envs=(LD_PRELOAD="$SHIM" STALLWATCH_OUTPUT="$dir" STALLWATCH_STRICT=1)
		local out
		out=$(maxrss "$WORK/rss.time" "${PIN_CLIENT[@]}" env "${envs[@]}" \
			"$HOT" rss "$RSS_TURNS" "$step") || { log "rss $v failed"; continue; }
		rec rss turns "$v" 1 "$(grep '^mode=' <<<"$out") $(tail -1 "$WORK/rss.time") trace_bytes=$(du -sb "$dir" | cut -f1)"
		grep '^rss_kib' <<<"$out" | while read -r _ t k; do
			rec rss-sample turns "$v" 1 "$t $k"
		done
		rm -rf "$dir"
	done
}

# ---- main -----------------------------------------------------------------
build
: >"$RAW"
note machine "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
note kernel "$(uname -sr)"
note date "$(date -u '+%Y-%m-%d %H:%M UTC')"
note settings "pairs=$PAIRS seconds=$SECS hot_calls=$HOT_CALLS rss_turns=$RSS_TURNS cpu_server=$CPU_SERVER cpu_client=$CPU_CLIENT"
note versions "$(redis-server --version 2>/dev/null | awk '{print "redis " $3}'); $($PY -c 'import aiohttp,sys;print("aiohttp",aiohttp.__version__,"python",sys.version.split()[0])' 2>/dev/null); node $(node --version 2>/dev/null); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
note load "$(cut -d' ' -f1-3 /proc/loadavg)"
note shim_commit "$(git -C "$ROOT" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null)$(git -C "$ROOT" diff --quiet -- preload 2>/dev/null || echo ' + uncommitted changes in preload/')"

want baseline && bench_baseline
want hot && bench_hot
want clock && bench_clock
if want callgrind; then
	bench_callgrind
	callgrind_redis
	callgrind_aiohttp
fi
if want redis; then bench_redis; fi
if want aiohttp; then
	if have wrk && "$PY" -c 'import aiohttp' 2>/dev/null; then
		bench_http aiohttp plain default strict asynciodebug strace -- "$PY" "$ROOT/scripts/bench/aiohttp_hello.py"
	else
		note aiohttp "wrk or python3-aiohttp not installed"
	fi
fi
if want node; then
	if have wrk && have node; then
		bench_http node plain default strict strace -- node "$ROOT/scripts/bench/node_hello.js"
	else
		note node "wrk or node not installed"
	fi
fi
want flood && bench_flood
want analyzer && bench_analyzer
want rss && bench_rss

"$PY" "$ROOT/scripts/bench/table.py" "$RAW" >"$OUT/results.md" || exit 1
cat "$OUT/results.md"
# The published table: doc/benchmarks.md, which the README links.  Only a
# run of every section replaces it; a partial run (BENCH_ONLY) stays in
# $OUT.
if [ "$ONLY" = all ]; then
	mkdir -p "$ROOT/doc"
	{
		echo "<!-- Written by \`make bench\` (scripts/bench/run.sh, table.py); do not edit. -->"
		echo
		sed 's/^## stallwatch benchmark/# stallwatch benchmarks/' "$OUT/results.md"
	} >"$ROOT/doc/benchmarks.md"
	log "table saved to $OUT/results.md and doc/benchmarks.md (raw samples: $RAW)"
else
	log "table saved to $OUT/results.md (raw samples: $RAW); doc/benchmarks.md is written by full runs only"
fi
