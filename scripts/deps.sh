#!/bin/sh
# deps.sh - install the Debian packages stallwatch builds and tests with.
#
# Usage: scripts/deps.sh [build|test|bench|fuzz|consumers|all]   (default: test)
# As root it runs apt-get; otherwise it prints the exact command and fails,
# so `make check` never half-works on a machine that lacks a package.
set -eu

build_pkgs="gcc g++ make pkg-config libunwind-dev libdw-dev libelf-dev check libjansson-dev xxd libncurses-dev libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev"
test_pkgs="python3 python3-dev python3-aiohttp python3-uvloop python3-requests redis-server nodejs chromium procps memcached python3-pytest python3-pytest-asyncio nginx curl redis-tools libxml2-utils tmux groff-base man-db"
bench_pkgs="wrk strace redis-tools valgrind linux-perf time"
fuzz_pkgs="clang libclang-rt-14-dev"
# make check-consumers: promtool and Prometheus, go tool pprof, tmux
consumer_pkgs="prometheus golang-go tmux python3-aiohttp"

case "${1:-test}" in
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $test_pkgs $bench_pkgs" ;;
fuzz) want="$build_pkgs $fuzz_pkgs" ;;
consumers) want="$build_pkgs $consumer_pkgs" ;;
all) want="$build_pkgs $test_pkgs $bench_pkgs $fuzz_pkgs $consumer_pkgs" ;;
*) echo "usage: $0 [build|test|bench|fuzz|consumers|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	# A package counts as present when dpkg says installed, or (nodejs) when
	# the command is already on PATH from another source.
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		continue
	fi
	if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then
		continue
	fi
	missing="$missing $p"
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "stallwatch: missing Debian packages:$missing" >&2
	echo "stallwatch: install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "stallwatch: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update first when the
# install cannot find a package, then try once more and let errors show.
if ! apt-get install -y -q $missing 2>/dev/null; then
	apt-get update -q
	apt-get install -y -q $missing
fi
