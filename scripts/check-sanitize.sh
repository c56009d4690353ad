#!/bin/sh
# check-sanitize.sh - the analyzer and the unit tests under ASan + UBSan.
#
# Usage: scripts/check-sanitize.sh [SUITE...]      (make check-sanitize)
#
# Builds build-sanitize/ (override with SANITIZE_BUILD) with
# -fsanitize=address,undefined -fno-sanitize-recover=all, so that any
# memory error, leak or undefined behaviour fails the test it happens in,
# and runs every unit suite (the suites defined in tests/unit/*.c), or the
# suites named on the command line.
#
# Integration tests are not run here: they preload the shim into other
# programs, and an ASan-built shim cannot be preloaded into a program that
# is not itself built with ASan (the runtime must come first).  The shim
# is covered by `make check` and `make stress` instead.
set -eu
cd "$(dirname "$0")/.."

b="${SANITIZE_BUILD:-build-sanitize}"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
jobs=$(nproc 2>/dev/null || echo 2)

make --no-print-directory -j"$jobs" B="$b" OPT="-O1 -g -fno-omit-frame-pointer $san" \
	LDFLAGS="$san" "$b/stallwatch" "$b/tests/runner" \
	$(ls tests/progs/*.c tests/progs/*.cc 2>/dev/null |
		sed -e "s|^tests/progs/\(.*\)\.cc*$|$b/tests/progs/\1|")

if [ $# -gt 0 ]; then
	suites="$*"
else
	suites=$(grep -ho '^Suite \*sw_suite_[a-z0-9_]*' tests/unit/*.c |
		sed 's/^Suite \*sw_suite_//')
fi

# Leaks count as failures; Check forks each test, and a child that leaks
# exits non-zero, which Check reports as a failed test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Sanitized code is 2-5x slower: give Check's per-test timeouts room.
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-4}"
export SW_ROOT="$PWD" SW_BUILD="$PWD/$b"

failed=""
for s in $suites; do
	echo "check-sanitize: suite $s"
	if ! CK_RUN_SUITE="$s" "$b/tests/runner"; then
		failed="$failed $s"
	fi
done
if [ -n "$failed" ]; then
	echo "check-sanitize: FAILED:$failed" >&2
	exit 1
fi
echo "check-sanitize: all unit suites clean under ASan+UBSan:" $suites
