#!/bin/sh
# check-consumers.sh - the exports, read by the real tools that consume them
# (make check-consumers; the tools come from Debian via scripts/deps.sh):
#   - promtool check metrics accepts `stallwatch metrics` on real traces;
#   - a real Prometheus scrapes `stallwatch metrics --listen` (a running C
#     epoll service under the shim) and its query API returns the series;
#   - go tool pprof -top reads `report --format pprof` and names the planted
#     functions: slow_callback (C) and render_report (aiohttp service);
#   - speedscope itself (its npm release, run in headless Chromium) imports
#     `report --format speedscope` and `--format chrome`.
set -eu

ROOT=${SW_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${SW_BUILD:-$ROOT/build}
SW=$BUILD/stallwatch
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/sw-consumers.XXXXXX")
pids=""

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	sleep 0.2
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "check-consumers: FAIL: $*" >&2
	exit 1
}
ok() {
	echo "check-consumers: ok: $*"
}
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
traces() {
	find "$1" -name '*.swtrace' | sort
}

# Traces of real programs that stall: a C epoll loop whose callback sleeps,
# and an aiohttp service whose handler sleeps.
"$SW" run -q -o "$work/c" -- "$BUILD/tests/progs/epoll_sleep" 6 120 ||
	fail "stallwatch run (C epoll loop)"
"$SW" run -q -o "$work/py" -- $PY "$ROOT/tests/progs/aiohttp_service.py" 3 ||
	fail "stallwatch run (aiohttp service)"

# 1. promtool
# shellcheck disable=SC2046
"$SW" metrics $(traces "$work/c") $(traces "$work/py") >"$work/metrics.prom" ||
	fail "stallwatch metrics"
promtool check metrics <"$work/metrics.prom" ||
	fail "promtool check metrics rejected the exposition"
grep -q 'place="[^"]*slow_callback' "$work/metrics.prom" ||
	fail "no slow_callback place in the metrics"
grep -q 'place="[^"]*render_report' "$work/metrics.prom" ||
	fail "no render_report place in the metrics"
ok "promtool check metrics accepts $(grep -vc '^#' "$work/metrics.prom") samples"

# 2. Prometheus scrapes a running service's metrics
mkdir -p "$work/live"
STALLWATCH_OUTPUT="$work/live" STALLWATCH_HEARTBEAT=1s \
	LD_PRELOAD="$BUILD/libstallwatch.so" \
	"$BUILD/tests/progs/epoll_sleep" 1000 120 >/dev/null 2>&1 &
pids="$pids $!"
mport=$(free_port)
"$SW" metrics --listen "127.0.0.1:$mport" "$work/live" 2>"$work/metrics.log" &
pids="$pids $!"
pport=$(free_port)
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: stallwatch
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
promtool check config "$work/prometheus.yml" >/dev/null ||
	fail "promtool rejected the generated Prometheus config"
prometheus --config.file="$work/prometheus.yml" \
	--storage.tsdb.path="$work/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
pids="$pids $!"
query() {
	$PY - "$pport" "$1" <<'PYEOF'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (
    sys.argv[1], urllib.parse.quote(sys.argv[2]))
try:
    with urllib.request.urlopen(url, timeout=5) as r:
        res = json.load(r)["data"]["result"]
except Exception:
    sys.exit(1)
if not res:
    sys.exit(1)
for s in res:
    print(json.dumps(s["metric"], sort_keys=True), s["value"][1])
PYEOF
}
q1='stallwatch_loop_stalls_total{process="epoll_sleep"} > 0'
q2='stallwatch_blocked_seconds_total{place=~".*slow_callback.*"}'
i=0
until query "$q1" >"$work/q1.out" 2>/dev/null && query "$q2" >"$work/q2.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -ge 90 ]; then
		tail -5 "$work/prometheus.log" >&2
		cat "$work/metrics.log" >&2
		fail "Prometheus never returned the stallwatch series"
	fi
	sleep 1
done
echo "Prometheus query: $q1"
cat "$work/q1.out"
echo "Prometheus query: $q2"
cat "$work/q2.out"
ok "Prometheus scraped stallwatch metrics --listen and returned the series"

# 3. go tool pprof
export HOME="${HOME:-$work}"
export GOCACHE="${GOCACHE:-$work/gocache}"
"$SW" report -q -f pprof -o "$work/c.pb.gz" "$work/c" || fail "report --format pprof (C)"
"$SW" report -q -f pprof -o "$work/py.pb.gz" "$work/py" || fail "report --format pprof (Python)"
go tool pprof -top "$work/c.pb.gz" >"$work/c.top" 2>&1 || {
	cat "$work/c.top" >&2
	fail "go tool pprof could not read the C profile"
}
cat "$work/c.top"
grep -q 'slow_callback' "$work/c.top" || fail "go tool pprof -top does not name slow_callback"
go tool pprof -top "$work/py.pb.gz" >"$work/py.top" 2>&1 || {
	cat "$work/py.top" >&2
	fail "go tool pprof could not read the Python profile"
}
cat "$work/py.top"
grep -q 'render_report' "$work/py.top" || fail "go tool pprof -top does not name render_report"
go tool pprof -top -sample_index=blocked -tagfocus=kind=blocking-call "$work/py.pb.gz" >/dev/null 2>&1 ||
	fail "go tool pprof cannot select the blocked value and the kind label"
ok "go tool pprof -top names slow_callback and render_report"

# 4. speedscope: its release (npm) in headless Chromium loads both files
if ! command -v npm >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
	echo "check-consumers: skipped: speedscope needs npm and chromium"
	exit 0
fi
(cd "$work" && npm pack --silent speedscope@1.20.0 >/dev/null 2>&1 &&
	tar xzf speedscope-1.20.0.tgz) || fail "npm pack speedscope"
www="$work/package/dist/release"
"$SW" report -q -f speedscope -o "$www/c.speedscope.json" "$work/c" ||
	fail "report --format speedscope"
"$SW" report -q -f chrome -o "$www/c.trace.json" "$work/c" ||
	fail "report --format chrome"
sport=$(free_port)
(cd "$www" && exec $PY -m http.server "$sport" --bind 127.0.0.1) >/dev/null 2>&1 &
pids="$pids $!"
sleep 1
# speedscope names the window after the profile it imported, and the
# view after the thread; a file it cannot read leaves "Something went
# wrong" instead.
speedscope_loads() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$work/chromium" --virtual-time-budget=10000 \
		--dump-dom "http://127.0.0.1:$sport/index.html#profileURL=http://127.0.0.1:$sport/$1" \
		2>/dev/null >"$work/dom.html" || true
	grep -q "went wrong" "$work/dom.html" && return 1
	grep -q "<title>$2 - speedscope</title>" "$work/dom.html" || return 1
	grep -q "$3" "$work/dom.html"
}
speedscope_loads c.speedscope.json "stallwatch: where the event loops stalled" \
	"epoll_sleep [0-9]* epoll_sleep (tid" ||
	fail "speedscope did not import the speedscope file"
speedscope_loads c.trace.json "c.trace.json" "epoll_sleep (event loop 1)" ||
	fail "speedscope did not import the chrome file"
ok "speedscope imports report --format speedscope and --format chrome"
