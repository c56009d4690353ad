#!/bin/sh
# demo.sh - `make demo`: run a small asyncio service under stallwatch, drive
# it briefly, and show what blocked its event loop.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sw="$root/build/stallwatch"
out="$root/build/demo-out"
html="$root/build/demo-report.html"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
port=$((20000 + $$ % 20000))

rm -rf "$out"
echo "== stallwatch demo: an asyncio service with hidden blocking calls"
echo "   $sw run --strict -o build/demo-out -- $py scripts/demo/service.py $port $((port + 1))"
"$sw" run --strict -q -o "$out" -- "$py" "$root/scripts/demo/service.py" "$port" $((port + 1)) &
service=$!
if ! "$py" "$root/scripts/demo/drive.py" "$port"; then
	kill "$service" 2>/dev/null || true
	exit 1
fi
wait "$service"
echo
echo "== what froze the loop (stallwatch report build/demo-out)"
"$sw" report "$out"
"$sw" report --format html -o "$html" "$out"
echo
echo "== the same report as a page: $html"
