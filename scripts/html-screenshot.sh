#!/bin/sh
# html-screenshot.sh - render a stallwatch HTML report in headless Chromium.
#
#   scripts/html-screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# Prints the page's own verdict (data-ok="flame:N timeline:M errors:K",
# written by its script once it has drawn) and fails when the script did
# not finish or counted errors.  Used to make the README's screenshot;
# tests/integration/test_html.c does the same checks in the test suite.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2; exit 2; }
page=$(realpath "$1")
out=$2
size=${3:-1280x1600}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "$0: chromium is not installed" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
--disable-background-networking --disable-component-update --disable-sync \
--hide-scrollbars --user-data-dir=$profile"
verdict=$(timeout 90 "$browser" $flags --dump-dom "file://$page" 2>/dev/null |
	grep -o 'data-ok="[^"]*"' || true)
echo "${verdict:-the page's script did not finish}"
case "$verdict" in
*"errors:0"*) ;;
*) exit 1 ;;
esac
timeout 90 "$browser" $flags --window-size="$(echo "$size" | tr x ,)" \
	--screenshot="$out" "file://$page" >/dev/null 2>&1
test -s "$out"
echo "$out"
