#!/bin/sh
# fuzz.sh - fuzz the trace reader and everything downstream with libFuzzer.
#
# Usage: scripts/fuzz.sh [SECONDS]          (make fuzz FUZZ_SECONDS=N)
#
# Builds tests/fuzz/fuzz_trace.c with the analyzer's objects (all of
# analyzer/*.c except main.c) under clang -fsanitize=fuzzer,address,undefined,
# then runs FUZZ_JOBS fuzzers (default: one per core, at most 2) for SECONDS
# each (default 600), seeded with tests/fuzz/corpus (real and hand-made
# traces) and tests/fuzz/regress (inputs that once found bugs).  Job 1 runs
# without symbols (fastest: reader, aggregation, writers, gate), job 2 with
# the symbolizer on (libdwfl opens the module paths an input names); a
# third job fuzzes JIT perf maps.
#
# Environment:
#   FUZZ_DIR     build and output directory (default build/fuzz)
#   FUZZ_JOBS    number of parallel fuzzers (default: cores, max 2)
#   FUZZ_MODES   modes for jobs 1..N (default "fast symbols perfmap")
#   FUZZ_ARGS    extra libFuzzer flags
#
# New corpus entries go to $FUZZ_DIR/corpus (the tree's corpus is never
# written); crashes, leaks, timeouts and OOMs to $FUZZ_DIR/crash-* etc.
# Exit status 0 when no job found anything, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."

secs="${1:-600}"
[ -n "$secs" ] || secs=600
out="${FUZZ_DIR:-build/fuzz}"
ncpu=$(nproc 2>/dev/null || echo 1)
jobs="${FUZZ_JOBS:-$([ "$ncpu" -ge 2 ] && echo 2 || echo 1)}"
modes="${FUZZ_MODES:-fast symbols perfmap}"
CC_FUZZ="${CC_FUZZ:-clang}"

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC_FUZZ not found (scripts/deps.sh fuzz installs it)" >&2
	exit 2
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Iinclude \
	$(pkg-config --cflags libdw 2>/dev/null) $san"
libs="$(pkg-config --libs libdw 2>/dev/null || echo -ldw) -lelf -lm -lstdc++ \
	$(pkg-config --libs jansson 2>/dev/null || echo -ljansson)"

mkdir -p "$out/obj" "$out/corpus"
objs=""
for src in analyzer/*.c; do
	[ "$src" = analyzer/main.c ] && continue
	obj="$out/obj/$(basename "$src" .c).o"
	# Rebuild when the source or any header is newer than the object.
	if [ ! -f "$obj" ] || [ -n "$(find "$src" analyzer/*.h include/*.h \
		-newer "$obj" 2>/dev/null | head -1)" ]; then
		$CC_FUZZ $cflags -fsanitize=fuzzer-no-link -c -o "$obj" "$src"
	fi
	objs="$objs $obj"
done
$CC_FUZZ $cflags -fsanitize=fuzzer -o "$out/fuzz_trace" \
	tests/fuzz/fuzz_trace.c $objs $libs

# Hostile sizes must not turn into allocations: 512 MB of RSS and 128 MB
# for any single malloc are far above what a sane trace needs (records
# are at most 1 MB, reports are per-site).
flags="-rss_limit_mb=512 -malloc_limit_mb=128 -timeout=20 -max_len=262144 \
	-print_final_stats=1 ${FUZZ_ARGS:-}"
# ASan keeps freed memory in quarantine (256 MB by default) to catch
# use-after-free; that alone would push a long run past the RSS limit, so
# it gets 64 MB, and the 512 MB limit still measures the analyzer.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:quarantine_size_mb=64}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "fuzz.sh: $jobs job(s) x ${secs}s, modes: $modes, output in $out/"
pids=""
i=1
for mode in $modes; do
	[ "$i" -le "$jobs" ] || break
	mkdir -p "$out/corpus/$mode"
	SW_FUZZ_MODE=$mode "$out/fuzz_trace" $flags -max_total_time="$secs" \
		-artifact_prefix="$out/$mode-" \
		"$out/corpus/$mode" tests/fuzz/corpus tests/fuzz/regress \
		>"$out/log.$mode" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done

status=0
for pid in $pids; do
	wait "$pid" || status=1
done

total_runs=0
total_cpu=0
for mode in $modes; do
	log="$out/log.$mode"
	[ -f "$log" ] || continue
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# CPU time (the harness prints it at exit): on a shared machine the
	# wall time of -max_total_time is not the time spent fuzzing.
	cpu=$(sed -n 's/^stat::cpu_seconds: *//p' "$log" | tail -1)
	echo "fuzz.sh: $mode: ${runs:-?} executions, ${cpu:-?} CPU seconds; $(grep -E '^(==[0-9]+==ERROR|SUMMARY)' "$log" | head -2 | tr '\n' ' ')"
	total_runs=$((total_runs + ${runs:-0}))
	total_cpu=$((total_cpu + ${cpu:-0}))
done
found=$(ls "$out" | grep -E -- '-(crash|leak|timeout|oom|slow-unit)-' || true)
echo "fuzz.sh: $total_runs executions, $total_cpu CPU seconds in all"
if [ -n "$found" ] || [ "$status" -ne 0 ]; then
	echo "fuzz.sh: FOUND (see $out/log.*):" >&2
	for f in $found; do echo "  $out/$f" >&2; done
	exit 1
fi
echo "fuzz.sh: nothing found"
