"""check_hosts_table.py - the verdict of scripts/check-hosts.sh.

Reads DIR/<version>-<mode>.xml (regrtest's JUnit XML) and .log for every
run, compares each shim mode with the plain run of the same interpreter
test by test, prints a table per version and mode, lists every failure,
and exits 1 when any test failed only under the shim.

A test's result is its last one in the XML: regrtest's -w re-runs failed
tests and appends their new result, so a flaky test that passes the second
time counts as passed.  A module that failed without a failing test in the
XML (a crash, a timeout, a worker killed) is taken from the log's final
"N tests failed:" list.

Usage: check_hosts_table.py DIR
"""

import os
import re
import sys
import xml.etree.ElementTree as ET


def results(xml_path):
    """{test id: 'pass'|'fail'|'skip'}, the last result of each test."""
    out = {}
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return out
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        state = "pass"
        for child in case:
            if child.tag in ("failure", "error"):
                state = "fail"
                break
            if child.tag == "skipped":
                state = "skip"
        out[name] = state
    return out


def failed_modules(log_path):
    """Modules in the log's last 'N tests failed:' list (final state)."""
    try:
        with open(log_path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return set()
    # After a re-run (-w), only what failed again counts: the lists
    # printed before it are the first pass.
    start = 0
    for i, line in enumerate(lines):
        if "Re-running" in line:
            start = i
    found = set()
    for i, line in enumerate(lines):
        if i < start:
            continue
        if re.match(r"^\d+ tests? failed( again)?:$", line.strip()):
            found = set()
            for more in lines[i + 1:]:
                if not more.startswith("    "):
                    break
                found.update(more.split())
    return found


def main():
    out = sys.argv[1]
    times = {}
    missing = []
    try:
        with open(os.path.join(out, "times")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1] == "skipped":
                    missing.append(parts[0])
                elif len(parts) == 2:
                    times[parts[0]] = parts[1]
    except OSError:
        pass
    runs = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".log"):
            ver, mode = name[:-4].rsplit("-", 1)
            runs.setdefault(ver, {})[mode] = name[:-4]

    def vkey(v):
        return [int(x) if x.isdigit() else 0 for x in v.split(".")]

    shim_only_total = 0
    rows = []
    details = []
    for ver in sorted(runs, key=vkey):
        modes = runs[ver]
        plain = results(os.path.join(out, modes["plain"] + ".xml")) \
            if "plain" in modes else None
        plain_mods = failed_modules(os.path.join(out, modes["plain"] + ".log")) \
            if "plain" in modes else set()
        order = ["plain", "default", "strict", "fast"]
        for mode in sorted(modes, key=lambda m: order.index(m)
                           if m in order else 9):
            tag = modes[mode]
            res = results(os.path.join(out, tag + ".xml"))
            mods = failed_modules(os.path.join(out, tag + ".log"))
            ran = sum(1 for s in res.values() if s != "skip")
            failed = {t for t, s in res.items() if s == "fail"}
            if mode == "plain":
                shim_only = set()
                plain_failed = failed
            else:
                base = {t for t, s in (plain or {}).items() if s == "fail"}
                shim_only = failed - base
                plain_failed = failed & base
                # A module that died under the shim without a failing
                # test in the XML (crash, timeout) and passed plain.
                for m in sorted(mods - plain_mods):
                    if not any(t.startswith("test." + m + ".") or
                               t.startswith(m + ".") for t in shim_only):
                        shim_only.add("%s (whole module: see %s.log)" %
                                      (m, tag))
            if not res and not mods:
                details.append("%s %s: no results (see %s.log)" %
                               (ver, mode, tag))
                if mode != "plain":
                    shim_only.add("(no results)")
            shim_only_total += len(shim_only)
            rows.append((ver, mode, ran, len(plain_failed), len(shim_only),
                         times.get(tag, "?")))
            for t in sorted(plain_failed):
                details.append("%s %s: fails plain too (not counted): %s" %
                               (ver, mode, t))
            for t in sorted(shim_only):
                details.append("%s %s: FAILS ONLY UNDER THE SHIM: %s" %
                               (ver, mode, t))

    print()
    print("%-9s %-8s %10s %12s %16s %9s" %
          ("python", "mode", "tests run", "failed plain", "failed shim-only",
           "seconds"))
    for r in rows:
        print("%-9s %-8s %10d %12d %16d %9s" % r)
    print()
    for d in details:
        print(d)
    for m in missing:
        print("CPython %s is not installed: not run (a skip, not a pass)" % m)
    if not rows:
        print("check-hosts: no runs found in %s" % out)
        return 1
    if shim_only_total:
        print("check-hosts: FAIL: %d test results differ only under the shim "
              "(logs in %s)" % (shim_only_total, out))
        return 1
    print("check-hosts: OK: no test fails only under the shim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
