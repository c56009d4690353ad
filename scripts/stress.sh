#!/bin/sh
# stress.sh - the CPU sampler under stress: it must never
# deadlock or crash the host.
#
# usage: scripts/stress.sh [short|long]     (`make stress` runs `long`)
#   SW_ROOT   the source tree (default: this script's tree)
#   SW_BUILD  the build directory (default: $SW_ROOT/build)
#
# Every step samples at a 1 ms interval and runs under a hard timeout, so a
# deadlock shows up as a timeout, a crash as a signal status:
#   dlopen    loop threads that keep calling dlopen/dlclose, throwing and
#             catching C++ exceptions, _Unwind_Backtrace and pthread_cancel,
#             while another thread does the same (20 s in long form)
#   threads   32 loop threads whose every turn spins and is sampled
#   signals   a sampled loop stopped and continued with SIGSTOP/SIGCONT and
#             flooded with SIGWINCH/SIGURG from outside
#   python    an asyncio loop burning CPU in pure Python, sampled
#   loops     64 loop threads, each on its own epoll loop, stalling every
#             25th turn (blocking calls; CPU spins on two of them), while
#             the process spawns and forks children, dlopens libraries and
#             takes SIGUSR1 from outside: the stalls in the trace must equal
#             the stalls the program caused, exactly (STRESS_LOOPS_SECONDS,
#             600 in the long form, 10 in the short one)
# `make check` runs the short forms of dlopen and threads from
# tests/integration/test_cpu_stalls.c; this script is the long form.
set -u

SW_ROOT=${SW_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
SW_BUILD=${SW_BUILD:-$SW_ROOT/build}
mode=${1:-short}
case $mode in
short) secs=5 loops_secs=${STRESS_LOOPS_SECONDS:-10} ;;
long) secs=20 loops_secs=${STRESS_LOOPS_SECONDS:-600} ;;
*) echo "usage: $0 [short|long]" >&2; exit 2 ;;
esac

sw=$SW_BUILD/stallwatch
shim=$SW_BUILD/libstallwatch.so
progs=$SW_BUILD/tests/progs
for f in "$sw" "$shim" "$progs/dlopen_stress" "$progs/spin_loop" \
	"$progs/stress_loops"; do
	if [ ! -e "$f" ]; then
		echo "stress: $f is missing: run make first" >&2
		exit 2
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sw-stress.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
export STALLWATCH_SAMPLE_INTERVAL=1ms
failed=0

# step NAME CMD...: run CMD, report ok or the failure with its output.
step() {
	name=$1
	shift
	printf 'stress: %-8s ' "$name"
	start=$(date +%s)
	if "$@" >"$tmp/$name.log" 2>&1; then
		echo "ok ($(($(date +%s) - start)) s)"
	else
		rc=$?
		case $rc in
		124 | 137) why="timed out: deadlock?" ;;
		*) why="status $rc" ;;
		esac
		echo "FAILED ($why)"
		tail -n 30 "$tmp/$name.log" | sed 's/^/    /'
		failed=1
	fi
}

# The report must read the traces back, and there must be samples.
check_report() {
	"$sw" report --format json "$1" >"$1.json" || return 1
	grep -q '"cpu-stall"' "$1.json" || {
		echo "no cpu-stall sites in the report"
		return 1
	}
}

run_dlopen() {
	d=$tmp/dlopen
	timeout -s KILL $((secs + 40)) "$sw" run -q -o "$d" -- \
		"$progs/dlopen_stress" "$secs" 2 >"$d.out" 2>&1
	rc=$?
	cat "$d.out"
	[ $rc -eq 0 ] || return $rc
	grep -q 'dlopen_stress: ok' "$d.out" || return 1
	check_report "$d"
}

run_threads() {
	d=$tmp/threads
	# 32 loops on few cores, each turn spins 10 ms, every turn sampled
	# (threshold 2 ms): about secs seconds of CPU per core on 2 cores
	STALLWATCH_THRESHOLD=2ms timeout -s KILL $((secs + 60)) "$sw" run -q \
		-o "$d" -- "$progs/spin_loop" 10 32 $((secs * 5)) 1 || return $?
	check_report "$d"
}

# Turns spin 80 ms, past the 50 ms threshold even when the machine is idle,
# so every turn is sampled between the stops.
run_signals() {
	d=$tmp/signals
	mkdir -p "$d"
	STALLWATCH_OUTPUT=$d LD_PRELOAD=$shim \
		timeout -s KILL $((secs + 40)) "$progs/spin_loop" 80 2 \
		$((secs * 8)) 1 >"$d.out" 2>&1 &
	pid=$!
	end=$(($(date +%s) + secs - 1))
	while [ "$(date +%s)" -lt "$end" ] && kill -0 "$pid" 2>/dev/null; do
		kill -STOP "$pid" 2>/dev/null
		sleep 0.02
		kill -CONT "$pid" 2>/dev/null
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -WINCH "$pid" 2>/dev/null
			kill -URG "$pid" 2>/dev/null
		done
		sleep 0.05
	done
	wait "$pid"
	rc=$?
	cat "$d.out"
	[ $rc -eq 0 ] || return $rc
	grep -q 'spin_loop: done' "$d.out" || return 1
	check_report "$d"
}

run_python() {
	d=$tmp/python
	command -v python3 >/dev/null 2>&1 || {
		echo "SKIP: no python3"
		return 0
	}
	timeout -s KILL $((secs + 40)) "$sw" run -q -o "$d" -- \
		python3 "$SW_ROOT/tests/progs/cpu_loop.py" "$((secs / 4)).5" ||
		return $?
	check_report "$d"
}

run_loops() {
	d=$tmp/loops
	# Threshold 150 ms, stalls of 300 ms: an ordinary turn (a timerfd
	# read) never comes near it, so every stall is one the program made.
	STALLWATCH_THRESHOLD=150ms timeout -s KILL $((loops_secs + 120)) \
		"$sw" run -q --no-follow -o "$d" -- \
		"$progs/stress_loops" 64 "$loops_secs" 300 >"$d.out" 2>&1 &
	pid=$!
	end=$(($(date +%s) + loops_secs))
	while [ "$(date +%s)" -lt "$end" ] && kill -0 "$pid" 2>/dev/null; do
		pkill -USR1 -x stress_loops 2>/dev/null
		sleep 1
	done
	wait "$pid"
	rc=$?
	cat "$d.out"
	[ $rc -eq 0 ] || return $rc
	caused=$(sed -n 's/^caused \([0-9]*\) .*/\1/p' "$d.out")
	"$sw" report --format json "$d" >"$d.json" || return 1
	recorded=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(sum(1 for s in r["stalls"] if r["processes"][s["process"]]["loops"]))' \
		"$d.json") || return 1
	echo "loops: caused $caused stalls, recorded $recorded"
	[ -n "$caused" ] && [ "$caused" -gt 0 ] && [ "$caused" = "$recorded" ]
}

echo "stress: $mode form, sampling every 1 ms, $secs s per step"
step dlopen run_dlopen
step threads run_threads
step signals run_signals
step python run_python
step loops run_loops
cat "$tmp/loops.log" 2>/dev/null | grep '^loops:' | sed 's/^/stress: /'
if [ $failed -ne 0 ]; then
	echo "stress: FAILED"
	exit 1
fi
echo "stress: all passed"
