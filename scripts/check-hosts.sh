#!/bin/sh
# check-hosts.sh - other people's test suites as a test tier: CPython's own
# regression tests, run plain and under the shim, compared test by test.
#
# A test that fails only under the shim means the shim changed what the
# program it lives in can see (a descriptor, a thread, an EINTR, a stream):
# the run fails.  A test that fails plain too is reported, not counted.
#
# Usage: scripts/check-hosts.sh [full|short|ci]
#   full   every pyenv CPython 3.9-3.13, every mode, the whole module list
#   short  one CPython, the descriptor/stream/fork tests, every shim mode
#   ci     one CPython, every mode, the modules that fit CI's time budget
# Settings (environment): HOSTS_PYTHONS (interpreter paths), HOSTS_MODES
# (plain default strict fast), HOSTS_TESTS (regrtest module names),
# HOSTS_MATCH (regrtest -m patterns, space separated), HOSTS_IGNORE (-i
# patterns, default *VSOCK*), HOSTS_JOBS (-j),
# HOSTS_TIMEOUT (seconds per test), HOSTS_OUT (results directory),
# HOSTS_SHIM (the libstallwatch.so to test, default build/).
set -eu
# Test patterns (test_pass_fds*, *VSOCK*) are words, never file globs.
set -f
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
root=$PWD
shim=${HOSTS_SHIM:-$root/build/libstallwatch.so}
form=${1:-full}
pyenv=${PYENV_ROOT:-/root/.pyenv}/versions

# The modules that exercise what a host can see: descriptors, streams,
# children, signals, threads, interrupted syscalls.
full_tests="test_asyncio test_subprocess test_posix test_os test_signal
test_selectors test_threading test_eintr test_fork1 test_wait4 test_pty
test_socket test_select test_poll test_epoll test_io test_fileio test_sys
test_faulthandler test_fcntl"

case "$form" in
-h | --help)
	sed -n '2,/^set -eu/p' "$self" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
full)
	pythons=""
	for v in 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
		pythons="$pythons $pyenv/$v/bin/python3"
	done
	tests=$full_tests
	match=""
	;;
short)
	# The cases the shim broke once: a child's descriptors (pass_fds,
	# close_fds, fd 0 closed), closed standard streams, fork and exec.
	pythons="$pyenv/3.12.1/bin/python3"
	tests="test_subprocess test_posix test_os"
	match="test_pass_fds* test_close_file test_close_fds* test_stdin_none
test_stdout_none test_stderr_none test_close_fd_* test_invalid_cmd
test_fork* test_closerange test_dup2 test_inheritable* test_fdopen
test_stdout_stderr_pipe test_bufsize_equal_one test_communicate_pipe_fd_leak
test_pipesize* test_wait_for* test_register_at_fork test_get_inheritable_*"
	;;
ci)
	# The whole module list takes about 2.5 minutes a mode on 2 cores
	# (CPython 3.12): every mode fits CI's 30 minutes on one interpreter.
	pythons="$pyenv/3.12.1/bin/python3"
	tests=$full_tests
	match=""
	;;
*)
	echo "usage: $0 [full|short|ci]" >&2
	exit 2
	;;
esac
pythons=${HOSTS_PYTHONS:-$pythons}
modes=${HOSTS_MODES:-plain default strict fast}
tests=${HOSTS_TESTS:-$tests}
match=${HOSTS_MATCH:-$match}
jobs=${HOSTS_JOBS:-2}
timeout=${HOSTS_TIMEOUT:-900}
out=${HOSTS_OUT:-$root/build/hosts/$form}

if [ ! -f "$shim" ]; then
	echo "check-hosts: $shim not built (run make)" >&2
	exit 2
fi
rm -rf "$out"
mkdir -p "$out"

# Tests that cannot pass on the machine itself, whatever the shim does:
# test_socket's AF_VSOCK tests wait in accept() for a host that never
# connects inside a Firecracker VM (15 minutes each, then a timeout).
ignore=${HOSTS_IGNORE-*VSOCK*}

matchargs=""
for m in $match; do
	matchargs="$matchargs -m $m"
done
for i in $ignore; do
	matchargs="$matchargs -i $i"
done

# One (interpreter, mode) run: regrtest with workers, a re-run of what
# failed (-w: flaky tests get a second chance, the last result counts),
# results per test in JUnit XML, the whole output in a log.
run_one() {
	py=$1 mode=$2 tag=$3
	traces=$(mktemp -d /tmp/sw-hosts.XXXXXX)
	# Signals back to their defaults: a background job ignores SIGINT,
	# and test_asyncio, test_threading and test_signal then wait forever
	# for a KeyboardInterrupt.
	set -- env --default-signal=INT,QUIT
	shimenv="LD_PRELOAD=$shim STALLWATCH_OUTPUT=$traces"
	case "$mode" in
	plain) ;;
	default) set -- "$@" $shimenv ;;
	strict) set -- "$@" $shimenv STALLWATCH_STRICT=1 ;;
	fast)
		set -- "$@" $shimenv STALLWATCH_SAMPLE_INTERVAL=1ms \
			STALLWATCH_THRESHOLD=1ms
		;;
	*)
		echo "check-hosts: unknown mode $mode" >&2
		exit 2
		;;
	esac
	start=$(date +%s)
	# regrtest's exit status is not the verdict (plain failures are only
	# reported): the XML and the log are.
	# shellcheck disable=SC2086
	"$@" "$py" -m test -j"$jobs" --timeout="$timeout" -w -o $use \
		--junit-xml="$out/$tag.xml" $matchargs $tests \
		>"$out/$tag.log" 2>&1 </dev/null || true
	end=$(date +%s)
	echo "$tag $((end - start))" >>"$out/times"
	rm -rf "$traces"
	echo "check-hosts: $tag done in $((end - start)) s" >&2
}

for py in $pythons; do
	if [ ! -x "$py" ]; then
		echo "check-hosts: $py not installed, skipped" >&2
		echo "$(basename "$(dirname "$(dirname "$py")")") skipped" >>"$out/times"
		continue
	fi
	ver=$("$py" -c 'import platform; print(platform.python_version())')
	# test_eintr needs the walltime resource where it exists (3.11.7+).
	use=""
	if "$py" -m test --help 2>/dev/null | grep -q walltime; then
		use="-u walltime"
	fi
	for mode in $modes; do
		run_one "$py" "$mode" "$ver-$mode"
	done
done

exec /usr/bin/python3 "$root/scripts/check_hosts_table.py" "$out"
