#!/bin/sh
# layout.sh - the source tree, one line per file: what each file is for,
# taken from the first sentence of its header comment.
#
# Every source file starts with a comment "NAME - what it is for."; this
# prints those lines, so the layout in doc/design.md ("Code layout") and a
# newcomer's first look come from the code itself.
#
# Usage: scripts/layout.sh [--check] [DIR...]
#   DIR      directories to list (default: include preload analyzer
#            analyzer/html tests tests/unit tests/integration scripts)
#   --check  list nothing; exit 1 naming every file whose header comment
#            does not start with its own name
set -eu

cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
[ $# -gt 0 ] || set -- include preload analyzer analyzer/html tests \
	tests/unit tests/integration scripts

bad=0
for dir in "$@"; do
	for f in "$dir"/*.c "$dir"/*.h "$dir"/*.js "$dir"/*.css "$dir"/*.sh \
		"$dir"/*.py; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		# The first paragraph of the first comment, after "NAME - ".
		line=$(awk -v name="$base" '
			NR == 1 && /^#!/ { next }
			{
				sub(/^[ \t]*(\/\*+|\*\/|\*|#|\/\/|""")[ \t]?/, "")
				sub(/[ \t]*\*\/[ \t]*$/, "")
			}
			!started {
				if ($0 == "" || $0 ~ /^\(function/ || $0 ~ /use strict/)
					next
				if (index($0, name " - ") != 1)
					exit
				started = 1
				text = substr($0, length(name) + 4)
				next
			}
			$0 == "" || /^[ \t-]/ { exit }
			{ text = text " " $0 }
			END {
				if (!started)
					exit
				# the first sentence (a list after a colon ends it too)
				if (match(text, /\.( |$)/))
					text = substr(text, 1, RSTART)
				sub(/:$/, ".", text)
				print text
			}' "$f")
		if [ -z "$line" ]; then
			echo "$f: no header comment \"$base - ...\"" >&2
			bad=1
			continue
		fi
		[ "$check" = 1 ] || printf '%-36s %s\n' "$f" "$line"
	done
done
exit $bad
