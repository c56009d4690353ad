#!/usr/bin/env python3
"""table.py - turn run.sh's raw samples (raw.tsv) into the Markdown results:
medians, overheads and ratios against the project's targets, pass/miss.

Raw lines are tab-separated: section, name, variant, pair, then key=value
words (or free text for section "note").  Medians are taken over pairs;
per-call overheads are medians of the per-pair differences (each pair ran
back to back, so slow drift of the machine cancels).
"""
import statistics
import sys
from collections import defaultdict


def parse(path):
    runs = defaultdict(list)  # (section, name, variant) -> [dict]
    notes = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            sec, name, var, pair, rest = parts[:5]
            if sec == "note":
                notes[name] = rest
                continue
            d = {"pair": pair}
            for w in rest.split():
                if "=" in w:
                    k, v = w.split("=", 1)
                    try:
                        d[k] = float(v)
                    except ValueError:
                        d[k] = v
                elif sec == "rss-sample":
                    pass
            if sec == "rss-sample":
                w = rest.split()
                try:
                    d["turn"] = float(w[0].split("=")[1])
                    d["kib"] = float(w[1].split("=")[1])
                except (IndexError, ValueError):
                    continue
            runs[(sec, name, var)].append(d)
    return runs, notes


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit="", digits=1):
    if x is None:
        return "n/a"
    if abs(x) >= 1e6 and unit in ("/s", " req/s"):
        return "%.2f M%s" % (x / 1e6, unit)
    if abs(x) >= 1e4 and unit in ("/s", " req/s"):
        return "{:,.0f}{}".format(x, unit)
    return "%.*f%s" % (digits, x, unit)


def verdict(ok):
    if ok is None:
        return "n/a"
    return "pass" if ok else "**MISS**"


class Report:
    def __init__(self, runs, notes):
        self.runs, self.notes = runs, notes
        self.rows = []  # main table
        self.details = []  # lines under the table

    def get(self, sec, name, var):
        return self.runs.get((sec, name, var), [])

    def paired(self, sec, name, va, vb, fn):
        """fn(a_run, b_run) over pairs present in both variants."""
        a = {r["pair"]: r for r in self.get(sec, name, va)}
        b = {r["pair"]: r for r in self.get(sec, name, vb)}
        return [fn(a[p], b[p]) for p in sorted(a) if p in b]

    # ---- honest baselines ----
    def baseline(self):
        """Wrapped non-blocking call and loop turn against two baselines:
        a single-threaded plain run (what a single-threaded loop really is
        without the shim) and a plain run with an idle thread (the old
        baseline, which hid the cost of making the process multi-threaded).
        CPU time of the whole process; per-pair differences, medians."""
        def cpu_per(r, key):
            return r["cpu_ns"] / r[key] if isinstance(r.get("cpu_ns"), float) \
                and r.get(key) else None

        def turn_delta(base):
            ds = self.paired("base", "turn", base, "shim",
                             lambda a, b: (b["cpu_ns"] - a["cpu_ns"]) / a["turns"]
                             if isinstance(a.get("cpu_ns"), float)
                             and isinstance(b.get("cpu_ns"), float) else None)
            return [d for d in ds if d is not None]

        def call_delta(base, turn_d):
            # The io run's turns cost what the turn run measured; the rest,
            # over its calls, is the wrapped calls' share.
            ds = self.paired("base", "io", base, "shim",
                             lambda a, b: ((b["cpu_ns"] - a["cpu_ns"]) - turn_d * a["turns"])
                             / a["calls"] if isinstance(a.get("cpu_ns"), float)
                             and isinstance(b.get("cpu_ns"), float) and a.get("calls") else None)
            return [d for d in ds if d is not None]

        names = {"plain": "single-threaded plain run",
                 "plainmt": "plain run with an idle thread"}
        for base in ("plain", "plainmt"):
            tds = turn_delta(base)
            td = med(tds)
            if td is None:
                continue
            cds = call_delta(base, td)
            cd = med(cds)
            honest = base == "plain"
            if cd is not None:
                pc = med([cpu_per(r, "calls") for r in self.get("base", "io", base)])
                sc = med([cpu_per(r, "calls") for r in self.get("base", "io", "shim")])
                res = verdict(cd <= 10) + ("" if cd <= 10 else " (by %.1f ns)" % (cd - 10)) \
                    if honest else "info (hides the thread's cost)"
                if honest and len(cds) >= 2 and max(cds) - min(cds) > 10:
                    # CPU time of a ~1 µs syscall pair wanders by more
                    # than the target: say so, and see the instructions.
                    res += "; pairs spread %.0f ns (see instructions)" % (max(cds) - min(cds))
                self.rows.append(("Wrapped non-blocking call (send/recv) on a single-threaded "
                                  "loop, against a %s (CPU time)" % names[base],
                                  fmt(pc, " ns"), fmt(sc, " ns"), fmt(cd, " ns/call", 1),
                                  "≤ 10 ns" if honest else "—", res))
                self.details.append(
                    "- Wrapped call against a %s: per-pair %s ns/call (turn cost %.1f ns "
                    "subtracted, %d calls per turn)." %
                    (names[base], ", ".join("%.1f" % d for d in cds), td,
                     self.get("base", "io", base)[0]["calls"] /
                     self.get("base", "io", base)[0]["turns"]))
            pt = med([cpu_per(r, "turns") for r in self.get("base", "turn", base)])
            st = med([cpu_per(r, "turns") for r in self.get("base", "turn", "shim")])
            res = verdict(td <= 50) + ("" if td <= 50 else " (by %.1f ns)" % (td - 50)) \
                if honest else "info (hides the thread's cost)"
            if honest and len(tds) >= 2 and max(tds) - min(tds) > 50:
                res += "; pairs spread %.0f ns (see instructions)" % (max(tds) - min(tds))
            self.rows.append(("Loop turn (epoll_wait, timeout 0) of a single-threaded loop, "
                              "against a %s (CPU time)" % names[base],
                              fmt(pt, " ns"), fmt(st, " ns"), fmt(td, " ns/turn", 1),
                              "≤ 50 ns" if honest else "—", res))
            self.details.append("- Loop turn against a %s: per-pair %s ns/turn." %
                                (names[base], ", ".join("%.1f" % d for d in tds)))

    # ---- hot path ----
    def per(self, r, key="calls"):
        n = r.get(key) or 0
        return r["ns"] / n if n else None

    def delta_per(self, name, var="shim", key="calls"):
        ds = self.paired("hot", name, "plain", var,
                         lambda a, b: (b["ns"] - a["ns"]) / a[key] if a.get(key) else None)
        ds = [d for d in ds if d is not None]
        return (med(ds), min(ds), max(ds)) if ds else (None, None, None)

    def ab(self, mode, var):
        """In-process A/B: the shim run's median (wrapped - direct) per call
        minus the plain run's (the method's own bias), per pair."""
        ds = self.paired("ab", mode, "plain", var,
                         lambda a, b: b["delta_median"] - a["delta_median"])
        # Columns: each run's through-the-PLT figure, plain vs shim (separate
        # processes, so noisier than the overhead column).
        direct = med([r.get("wrapped_per_call") for r in self.get("ab", mode, "plain")])
        wrapped = med([r.get("wrapped_per_call") for r in self.get("ab", mode, var)])
        bias = med([r.get("delta_median") for r in self.get("ab", mode, "plain")])
        return (med(ds), min(ds) if ds else None, max(ds) if ds else None,
                direct, wrapped, bias, len(ds))

    def hot(self):
        unit = {"ab-turn": " ns/turn"}

        def ab_row(label, mode, var, target, limit):
            d, lo, hi, direct, wrapped, bias, n = self.ab(mode, var)
            if d is None:
                return
            ok = None if limit is None else d <= limit
            res = verdict(ok) if limit is not None else "info"
            if limit is not None and not ok:
                res += " (by %.1f ns)" % (d - limit)
            self.rows.append((label, fmt(direct, " ns"), fmt(wrapped, " ns"),
                              fmt(d, unit.get(mode, " ns/call")), target, res))
            self.details.append(
                "- %s: in-process A/B over %d pairs, per-pair %.1f .. %.1f ns (method bias "
                "without the shim %.2f ns, subtracted)." % (label, n, lo, hi, bias or 0))

        # The in-process A/B compares the wrapper with a direct libc call in
        # the same process, which the shim has already made multi-threaded:
        # the wrapper's own cost, not the program's (see baseline()).
        ab_row("Wrapped call, loop thread in a turn, non-blocking send/recv "
               "(the wrapper alone: in-process A/B)", "ab-io", "shim", "—", None)
        ab_row("Wrapped call, loop thread in a turn, send/recv on a blocking socket (timed)",
               "ab-io-timed", "shim", "—", None)
        ab_row("Wrapped call, other thread, non-blocking send/recv", "ab-io-thread", "shim",
               "≤ 3 ns", 3)
        ab_row("Loop turn: epoll_wait (timeout 0, ready fd) through the shim", "ab-turn", "shim",
               "—", None)
        ab_row("Wrapped call, loop thread, send/recv, strict mode", "ab-io", "shimstrict",
               "—", None)
        ab_row("Wrapped call, no syscall (uncontended mutex lock), loop thread", "ab-mutex",
               "shim", "—", None)
        ab_row("Wrapped call, no syscall (uncontended mutex lock), other thread",
               "ab-mutex-thread", "shim", "≤ 3 ns", 3)

        # End to end: separate processes with and without the shim.
        turn_d, tlo, thi = self.delta_per("turn", key="turns")

        def e2e_row(label, name, var, loop):
            runs = self.get("hot", name, "plain")
            if not runs:
                return
            plain = med([self.per(r) for r in runs])
            shim = med([self.per(r) for r in self.get("hot", name, var)])
            d, lo, hi = self.delta_per(name, var)
            corr = 0.0
            if loop and turn_d is not None and runs[0].get("calls"):
                corr = turn_d * runs[0]["turns"] / runs[0]["calls"]
            if d is not None:
                d, lo, hi = d - corr, lo - corr, hi - corr
            self.rows.append((label + " (separate processes)", fmt(plain, " ns"), fmt(shim, " ns"),
                              fmt(d, " ns/call"), "—", "info"))
            if d is not None:
                self.details.append(
                    "- %s, separate processes: per-pair %.1f .. %.1f ns/call%s; the spread is "
                    "the syscall's own run-to-run variance, which the in-process A/B avoids." %
                    (label, lo, hi,
                     (" after subtracting the turn cost (%.1f ns/turn, %d calls/turn)" %
                      (turn_d, runs[0]["calls"] / runs[0]["turns"])) if corr else ""))

        e2e_row("Wrapped call, loop thread, send/recv", "io", "shim", True)
        e2e_row("Wrapped call, other thread, send/recv", "io-thread", "shim", False)
        if self.get("hot", "turn", "plain"):
            tp = med([self.per(r, "turns") for r in self.get("hot", "turn", "plain")])
            ts = med([self.per(r, "turns") for r in self.get("hot", "turn", "shim")])
            self.rows.append(("Loop turn (separate processes)", fmt(tp, " ns"), fmt(ts, " ns"),
                              fmt(turn_d, " ns/turn"), "—", "info"))

    def callgrind(self):
        def ir(mode, var):
            r = self.get("callgrind", mode, var)
            return r[0] if r and isinstance(r[0].get("ir"), float) else None

        def per(r, key):
            return r["ir"] / r[key] if r and r.get(key) else None

        lines = []
        t_p, t_m, t_s = ir("turn", "plain"), ir("turn", "plainmt"), ir("turn", "shim")
        turn_d = per(t_s, "turns") - per(t_p, "turns") if t_p and t_s else None
        turn_dm = per(t_s, "turns") - per(t_m, "turns") if t_m and t_s else None

        def cell(x, sign=False):
            return "n/a" if x is None else ("%+.1f" % x if sign else "%.0f" % x)

        if turn_d is not None:
            lines.append("| Loop turn (epoll_wait, per turn) | %s | %s | %s | %s | %s |" %
                         (cell(per(t_p, "turns")), cell(per(t_m, "turns")), cell(per(t_s, "turns")),
                          cell(turn_d, True), cell(turn_dm, True)))
        for mode, label, loop in (("io", "send/recv, loop thread", True),
                                  ("io-timed", "send/recv on a blocking socket (timed), loop thread",
                                   True),
                                  ("io-thread", "send/recv, other thread", False),
                                  ("mutex", "mutex lock, loop thread", True),
                                  ("mutex-thread", "mutex lock, other thread", False)):
            p, m, s = ir(mode, "plain"), ir(mode, "plainmt"), ir(mode, "shim")
            if not p or not s or not p.get("calls"):
                continue
            d = (s["ir"] - p["ir"]) / p["calls"]
            dm = (s["ir"] - m["ir"]) / p["calls"] if m else None
            if loop and turn_d is not None:
                d -= turn_d * p["turns"] / p["calls"]
            if loop and dm is not None and turn_dm is not None:
                dm -= turn_dm * p["turns"] / p["calls"]
            lines.append("| Wrapped call, %s (per call) | %s | %s | %s | %s | %s |" %
                         (label, cell(per(p, "calls")), cell(per(m, "calls")), cell(per(s, "calls")),
                          cell(d, True), cell(dm, True)))
        # Servers: (long load - short load) / (their request difference),
        # so that start-up cancels out (run.sh, callgrind_redis/_aiohttp).
        for label, short, long_ in (
                ("redis-server, per request (SET+GET, 50 clients)", "redis-1000", "redis-5000"),
                ("aiohttp server, per request (wrk -c10)", "aiohttp-2", "aiohttp-10")):
            def per_req(var):
                lo, hi = ir(short, var), ir(long_, var)
                if not lo or not hi or not lo.get("reqs") or not hi.get("reqs") \
                        or hi["reqs"] <= lo["reqs"]:
                    return None
                return (hi["ir"] - lo["ir"]) / (hi["reqs"] - lo["reqs"])
            sp, ss = per_req("plain"), per_req("shim")
            if sp and ss:
                lines.append("| %s | %.0f | — | %.0f | %+.0f (%+.1f%%) | — |" %
                             (label, sp, ss, ss - sp, (ss / sp - 1) * 100))
        if lines:
            self.cg = ["| Instructions (callgrind, user space) | plain | plain + idle thread | "
                       "shim | shim − plain | shim − plain + idle thread |",
                       "|---|---|---|---|---|---|"] + lines
        else:
            self.cg = []

    # ---- servers ----
    @staticmethod
    def cpu_per_req(r):
        if isinstance(r.get("cpu_ns"), float) and r.get("reqs"):
            return r["cpu_ns"] / r["reqs"]
        return None

    def servers(self):
        targets = {"default": ("≥ 99% of plain", 0.99), "strict": ("≥ 97% of plain", 0.97),
                   "asynciodebug": ("anchor", None), "strace": ("anchor", None)}
        labels = {"redis-set": "Redis SET (redis-benchmark -c 50)",
                  "redis-get": "Redis GET (redis-benchmark -c 50)",
                  "aiohttp": "aiohttp hello-world (wrk -t1 -c50)",
                  "node": "Node http hello-world (wrk -t1 -c50)"}
        vlabel = {"default": "stallwatch default", "strict": "stallwatch strict",
                  "asynciodebug": "PYTHONASYNCIODEBUG=1", "strace": "strace -f"}
        for name in ("redis-set", "redis-get", "aiohttp", "node"):
            plain_runs = self.get("server", name, "plain")
            if not plain_runs:
                continue
            plain = med([r.get("rps") for r in plain_runs if r.get("rps")])
            plain_cpu = med([self.cpu_per_req(r) for r in plain_runs])
            for var in ("default", "strict", "asynciodebug", "strace"):
                runs = self.get("server", name, var)
                if not runs:
                    continue
                v = med([r.get("rps") for r in runs if r.get("rps")])
                # The ratio is the median of per-round ratios: each round ran
                # plain and this variant a few seconds apart.
                prs = self.paired("server", name, "plain", var,
                                  lambda a, b: b.get("rps", 0) / a["rps"] if a.get("rps") else None)
                prs = [x for x in prs if x is not None]
                ratio = med(prs)
                vcpu = med([self.cpu_per_req(r) for r in runs])
                cpu_txt = ""
                if vcpu and plain_cpu:
                    cpu_txt = "; CPU/req %+.1f%%" % ((vcpu / plain_cpu - 1) * 100)
                tgt, lim = targets[var]
                ok = None if lim is None or ratio is None else ratio >= lim
                res = verdict(ok) if lim is not None else "anchor"
                if lim is not None and ratio is not None and not ok:
                    res += " (by %.1f pts)" % ((lim - ratio) * 100)
                if lim is not None and len(prs) >= 2:
                    spread = (max(prs) - min(prs)) * 100
                    if spread > 2 * (1 - lim) * 100:
                        res += "; rounds spread %.0f pts" % spread
                self.rows.append(("%s, %s" % (labels[name], vlabel[var]), fmt(plain, " req/s"),
                                  fmt(v, " req/s"),
                                  ("%.1f%% of plain" % (ratio * 100) if ratio else "n/a") + cpu_txt,
                                  tgt, res))
                errs = sorted({str(r.get("errors")) for r in runs + plain_runs
                               if r.get("errors") not in (None, "none")})
                tb = med([r.get("trace_bytes") for r in runs if isinstance(r.get("trace_bytes"), float)])
                if prs:
                    self.details.append(
                        "- %s, %s: per-round throughput ratios %s; server CPU per request %s µs vs %s µs plain%s%s." %
                        (labels[name], vlabel[var], ", ".join("%.1f%%" % (x * 100) for x in prs),
                         "%.2f" % (vcpu / 1e3) if vcpu else "n/a",
                         "%.2f" % (plain_cpu / 1e3) if plain_cpu else "n/a",
                         ("; trace written %.0f KiB" % (tb / 1024)) if tb else "",
                         ("; wrk reported: " + " ".join(errs)) if errs else ""))

    def server_model(self):
        """Server overhead predicted from the hot-path costs: per request,
        the loop turns the shim counted (its trace) times the turn cost, plus
        the wrapped calls strace counted times the cost of a timed call on
        a loop thread, over the plain server's CPU time per request.  An
        upper bound: the servers' own calls are on non-blocking sockets,
        which the shim does not time, and they are charged the timed
        price."""
        turn = self.ab("ab-turn", "shim")[0]
        labels = {"redis-set": "Redis SET+GET", "aiohttp": "aiohttp", "node": "Node http"}
        for name in ("redis-set", "aiohttp", "node"):
            cnt = self.get("count", name, "strace")
            plain_runs = self.get("server", name, "plain")
            if not cnt or not plain_runs or turn is None or not cnt[0].get("reqs"):
                continue
            calls_per_req = cnt[0]["calls"] / cnt[0]["reqs"]
            plain_cpu = med([self.cpu_per_req(r) for r in plain_runs])
            for var, cmode, tgt, lim in (("default", "shim", "≥ 99% of plain", 0.99),
                                         ("strict", "shimstrict", "≥ 97% of plain", 0.97)):
                # The price of a timed call (the dearer kind), whatever
                # the server's calls really cost: an upper bound.
                call = self.ab("ab-io-timed", "shim")[0]
                if cmode == "shimstrict":
                    strict = self.ab("ab-io", "shimstrict")[0]
                    if call is not None and strict is not None:
                        call = max(call, strict)
                tpr = med([r["turns"] / (r["reqs"] + (r.get("warm_reqs") or 0))
                           for r in self.get("server", name, var)
                           if isinstance(r.get("turns"), float) and r.get("turns") and r.get("reqs")])
                if call is None or tpr is None or not plain_cpu:
                    continue
                cost = tpr * turn + calls_per_req * call
                ratio = 1 / (1 + cost / plain_cpu)
                ok = ratio >= lim
                self.rows.append((
                    "%s, %s mode: predicted from the hot-path costs" % (labels[name], var),
                    "%.2f µs CPU/req" % (plain_cpu / 1e3),
                    "+%.0f ns/req" % cost,
                    "%.2f%% of plain (%.2f turns/req × %.0f ns + %.2f calls/req × %.0f ns)" %
                    (ratio * 100, tpr, turn, calls_per_req, call),
                    tgt, verdict(ok) + " (model)"))

    # ---- flood ----
    def flood(self):
        plain = self.get("flood", "write", "plain")
        if not plain:
            return
        pm = med([r["ns"] for r in plain])
        for var, label, tgt, lim in (("shimstrict", "strict", "≤ 1.3× plain", 1.3),
                                     ("shim", "default", "—", None)):
            runs = self.get("flood", "write", var)
            if not runs:
                continue
            vm = med([r["ns"] for r in runs])
            ratio = vm / pm
            ok = None if lim is None else ratio <= lim
            res = verdict(ok) if lim else "info"
            if lim and not ok:
                res += " (by %.3f×)" % (ratio - lim)
            n = plain[0].get("calls") or 1
            self.rows.append(("Flood: loop thread writes %d records to a file, %s mode" % (n, label),
                              fmt(pm / 1e6, " ms"), fmt(vm / 1e6, " ms"), "%.2f×" % ratio, tgt, res))
            tb = med([r.get("trace_bytes") for r in runs if isinstance(r.get("trace_bytes"), float)])
            prs = self.paired("flood", "write", "plain", var, lambda a, b: b["ns"] / a["ns"])
            self.details.append("- Flood, %s: per-pair ratios %s; trace %.0f KiB." %
                                (label, ", ".join("%.2f×" % x for x in prs), (tb or 0) / 1024))

    # ---- analyzer ----
    def analyzer(self):
        def t(what):
            rs = [r for r in self.get("analyzer", what, "run") if r.get("ns")]
            return (med([r["ns"] for r in rs]) / 1e9, med([r.get("maxrss_kib") for r in rs
                                                           if isinstance(r.get("maxrss_kib"), float)])) \
                if rs else (None, None)
        nos, nos_rss = t("agg-nosym")
        sym, sym_rss = t("agg-sym")
        if nos:
            rps = 1e6 / nos
            self.rows.append(("Analyzer: aggregate 1M records (report --format json --no-symbols)",
                              "—", "%.2f s" % nos, fmt(rps, "/s") + " records", "≥ 1M records/s",
                              verdict(rps >= 1e6) + ("" if rps >= 1e6 else " (by %.0f%%)" % ((1 - rps / 1e6) * 100))))
        elif self.get("analyzer", "agg-nosym", "run"):
            self.rows.append(("Analyzer: aggregate 1M records", "—", "failed", "n/a",
                              "≥ 1M records/s", "**MISS** (failed)"))
        txt, _ = t("agg-text-nosym")
        if txt:
            rps = 1e6 / txt
            self.rows.append(("Analyzer: the same, --format text (no per-event output)", "—",
                              "%.2f s" % txt, fmt(rps, "/s") + " records", "≥ 1M records/s",
                              verdict(rps >= 1e6) + ("" if rps >= 1e6 else " (by %.0f%%)" % ((1 - rps / 1e6) * 100))))
        if sym:
            rps = 1e6 / sym
            self.rows.append(("Analyzer: the same with symbols (libdwfl)", "—", "%.2f s" % sym,
                              fmt(rps, "/s") + " records", "—", "info"))
        s_nos, _ = t("sym-nosym")
        s_sym, _ = t("sym-sym")
        try:
            nsym = int(self.notes.get("analyzer_nsym", "20000"))
        except ValueError:
            nsym = 20000
        if s_sym and s_nos and s_sym > s_nos:
            aps = nsym / (s_sym - s_nos)
            self.rows.append(("Analyzer: symbolization, %d distinct libc addresses" % nsym, "—",
                              "%.2f s (%.2f s without)" % (s_sym, s_nos), fmt(aps, "/s") + " addresses",
                              "—", "info"))
        for label, rss in (("without symbols", nos_rss), ("with symbols", sym_rss)):
            if rss:
                self.details.append("- Analyzer max RSS on the 1M-record trace, %s: %.0f MiB." %
                                    (label, rss / 1024))

    # ---- memory ----
    def rss(self):
        def samples(var):
            return sorted(((r["turn"], r["kib"]) for r in self.get("rss-sample", "turns", var)
                           if r["kib"] > 0))
        plain = samples("plain")
        if not plain:
            return
        for var, label in (("shim", "default"), ("shimstrict", "strict")):
            s = samples(var)
            if not s:
                continue
            over = (s[-1][1] - plain[-1][1]) / 1024
            # "Flat": from the first checkpoint after start to the end.
            growth = s[-1][1] - s[1][1] if len(s) > 2 else 0
            ok = over <= 4 and growth <= 128
            run = self.get("rss", "turns", var)
            prun = self.get("rss", "turns", "plain")
            self.rows.append(("Shim RSS over %.0fM loop turns, %s mode" % (s[-1][0] / 1e6, label),
                              "%.1f MiB" % (plain[-1][1] / 1024), "%.1f MiB" % (s[-1][1] / 1024),
                              "%+.2f MiB, growth %+.0f KiB from %gM to %gM turns" % (over, growth, s[1][0] / 1e6, s[-1][0] / 1e6),
                              "≤ +4 MiB, no growth", verdict(ok)))
            self.details.append("- RSS samples (%s, KiB by turn): %s; max RSS (time -f %%M) %s KiB vs %s KiB plain." %
                                (label, ", ".join("%gM:%d" % (t / 1e6, k) for t, k in s),
                                 "%.0f" % run[0]["maxrss_kib"] if run and isinstance(run[0].get("maxrss_kib"), float) else "n/a",
                                 "%.0f" % prun[0]["maxrss_kib"] if prun and isinstance(prun[0].get("maxrss_kib"), float) else "n/a"))

    def clock(self):
        out = []
        for c, label in (("clock_gettime_monotonic", "vDSO clock_gettime(CLOCK_MONOTONIC)"),
                         ("rdtsc", "rdtsc"), ("rdtscp", "rdtscp")):
            rs = self.get("clock", c, "plain")
            if rs:
                out.append("| %s | %.1f ns |" % (label, med([r["ns"] / r["ops"] for r in rs])))
        cal = [r.get("ghz") for r in self.get("clock", "tsc_calibration", "plain")
               if isinstance(r.get("ghz"), float)]
        if cal:
            out.append("| TSC calibration against CLOCK_MONOTONIC (50 ms) | %.4f GHz (runs: %s) |" %
                       (med(cal), ", ".join("%.4f" % c for c in cal)))
        self.clk = (["| Clock read | ns per read (median) |", "|---|---|"] + out) if out else []

    def render(self):
        self.baseline()
        self.hot()
        self.callgrind()
        self.servers()
        self.server_model()
        self.flood()
        self.analyzer()
        self.rss()
        self.clock()
        n = self.notes
        o = ["## stallwatch benchmark", ""]
        o.append("- Machine: %s; %s" % (n.get("machine", "?"), n.get("kernel", "?")))
        o.append("- Date: %s; load average before: %s" % (n.get("date", "?"), n.get("load", "?")))
        o.append("- Settings: %s" % n.get("settings", "?"))
        o.append("- Versions: %s" % n.get("versions", "?"))
        o.append("")
        o.append("| Measure | Plain | With stallwatch | Overhead / ratio | Target | Result |")
        o.append("|---|---|---|---|---|---|")
        for r in self.rows:
            o.append("| " + " | ".join(r) + " |")
        if self.cg:
            o += ["", *self.cg]
        if self.clk:
            o += ["", *self.clk]
            extra = []
            if n.get("clock_source"):
                extra.append("kernel clocksource: %s" % n["clock_source"])
            if n.get("tsc_flags"):
                extra.append("CPU flags: %s" % n["tsc_flags"].strip())
            extra.append("shim files using rdtsc: %s" % (n.get("shim_clock") or "none (vDSO clock_gettime)"))
            o += ["", "Clock: " + "; ".join(extra) + "."]
        if self.details:
            o += ["", "Details:", ""] + self.details
        rest = {k: v for k, v in n.items() if k not in
                ("machine", "kernel", "date", "settings", "versions", "load", "clock_source",
                 "tsc_flags", "shim_clock", "analyzer_nsym")}
        if rest:
            o += ["", "Notes:", ""] + ["- %s: %s" % kv for kv in sorted(rest.items())]
        return "\n".join(o) + "\n"


def main():
    if len(sys.argv) != 2:
        print("usage: table.py RAW.tsv", file=sys.stderr)
        return 2
    runs, notes = parse(sys.argv[1])
    sys.stdout.write(Report(runs, notes).render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
