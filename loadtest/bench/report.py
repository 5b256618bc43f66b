"""The verdict table of one bench run, from its measurements (results.py writes it).

Each target's figure is the median over its rounds of each system's figure; the ratio is
our median over the baseline's median. A judged target passes when its ratio meets the
requirement; the short mode shows the verdicts without judging the run by them.
"""
import statistics


def median(records, field):
    values = [r[field] for r in records if r.get(field) is not None]
    return statistics.median(values) if values else None


def row(target, what, ours, base, ratio, required, judged, unit_ours, unit_base, note=""):
    verdict = "info"
    if judged:
        if ratio is None:
            verdict = "FAIL"
        else:
            op, limit = required.split()
            verdict = "PASS" if (ratio >= float(limit) if op == ">=" else ratio <= float(limit)) else "FAIL"
    return {"target": target, "what": what, "ours": ours, "ours_unit": unit_ours, "baseline": base,
            "baseline_unit": unit_base, "ratio": ratio, "required": required if judged else f"({required})",
            "verdict": verdict, "note": note}


def ratio(a, b):
    return a / b if a is not None and b else None


def round_ratios(ours, base, field, base_field=None):
    """Our figure over the baseline's, round by round (paired: measured seconds apart)."""
    theirs = {r["round"]: r.get(base_field or field) for r in base}
    pairs = [ratio(r.get(field), theirs.get(r["round"])) for r in sorted(ours, key=lambda r: r["round"])]
    return "per-round ratios " + ", ".join("n/a" if p is None else f"{p:.2f}" for p in pairs)


def highest_rate_round(records):
    """The round that reached the highest write rate (its lag belongs with it)."""
    rated = [r for r in records if r.get("writes_per_s") is not None]
    return max(rated, key=lambda r: r["writes_per_s"]) if rated else {}


def hit_row(target, what, ours, base, field, required, judged, note):
    """A row of targets 1-2: the gateway's median `field` over the baseline's, round by round too."""
    unit = "req/s" if field == "rps" else "ms"
    mine, theirs = median(ours, field), median(base, field)
    return row(target, what, mine, theirs, ratio(mine, theirs), required, judged, unit, unit,
               f"{note}; {round_ratios(ours, base, field)}")


def hit_rows(m, meta):
    gw1, tw1, rd1 = m[("hit_p1", "gateway")], m[("hit_p1", "twemproxy")], m[("hit_p1", "redis")]
    gw16, tw16, rd16 = m[("hit_p16", "gateway")], m[("hit_p16", "twemproxy")], m[("hit_p16", "redis")]
    return [
        hit_row("1a", "hit path -P 1: gateway vs twemproxy req/s", gw1, tw1, "rps", ">= 1.0", True,
                f"direct Redis {median(rd1, 'rps') or 0:,.0f} req/s"),
        hit_row("1b", "hit path -P 1: gateway vs twemproxy p99", gw1, tw1, "p99_ms", "<= 1.0", True,
                f"direct Redis p99 {median(rd1, 'p99_ms')} ms; {meta['hit_keys']:,} keys"),
        hit_row("2a", "hit path -P 16: gateway vs twemproxy req/s", gw16, tw16, "rps", ">= 1.3", True,
                f"p99 gateway {median(gw16, 'p99_ms')} ms, twemproxy {median(tw16, 'p99_ms')} ms"),
        hit_row("2b", "hit path -P 16: gateway vs direct Redis req/s", gw16, rd16, "rps", ">= 0.7", False,
                f"direct Redis p99 {median(rd16, 'p99_ms')} ms"),
    ]


def tls_rows(m):
    """Target 7: TLS on the client port beside plaintext, same gateway, same keys (informative)."""
    rows = []
    for depth in ("1", "16"):
        tls, plain = m[(f"hit_tls_p{depth}", "gateway_tls")], m[(f"hit_tls_p{depth}", "gateway")]
        rows.append(hit_row(f"7{'a' if depth == '1' else 'b'}", f"hit path -P {depth}: gateway TLS vs plaintext req/s",
                            tls, plain, "rps", "informative", False,
                            f"redis-benchmark --tls; p99 TLS {median(tls, 'p99_ms')} ms, plaintext {median(plain, 'p99_ms')} ms"))
    return rows


def miss_rows(m, meta):
    gw_fills, pg_tps = median(m[("miss", "gateway")], "fills_per_s"), median(m[("miss", "pgbench")], "tps")
    return [row("3", "miss path: gateway fills/s vs pgbench single-id q/s", gw_fills, pg_tps, ratio(gw_fills, pg_tps),
                ">= 1.0", True, "fills/s", "q/s",
                f"{meta['users']:,} users, 50 clients; pgbench 8 clients -M prepared; "
                f"fill queries {median(m[('miss', 'gateway')], 'queries_per_s') or 0:,.0f}/s; "
                + round_ratios(m[("miss", "gateway")], m[("miss", "pgbench")], "fills_per_s", "tps"))]


# Target 4's rows per invalidation source: their row names, and where each source's lag starts.
LAG_SOURCES = (("wal", "4a", "4b", "from the commit time the replication stream carries"),
               ("notify", "4c", "4d", "from the statement's end stamped in the NOTIFY payload"))


def lag_rows(m):
    rows = []
    for source, at_500, at_max, start in LAG_SOURCES:
        lag = m[("lag", f"{source}_rate500")]
        p99 = median(lag, "p99_ms")
        rows.append(row(at_500, f"invalidation lag p99 at 500 writes/s, {source} source", p99, 2.0, ratio(p99, 2.0),
                        "<= 1.0", True, "ms", "ms limit",
                        f"p50 {median(lag, 'p50_ms')} ms at {median(lag, 'writes_per_s') or 0:,.0f} writes/s "
                        f"(pgbench --rate); lag {start}; triggers feeding {source} only; "
                        + per_round(lag, "p99_ms", "p99 per round", "ms")))
        top = highest_rate_round(m[("lag", f"{source}_max")])
        rows.append(row(at_max, f"invalidation lag p99 at the highest write rate, {source} source", top.get("p99_ms"),
                        2.0, ratio(top.get("p99_ms"), 2.0), "<= 1.0", False, "ms", "ms limit",
                        f"{top.get('writes_per_s') or 0:,.0f} writes/s (the fastest round of pgbench -c 8 "
                        f"unthrottled), p50 {top.get('p50_ms')} ms; every write applied {top.get('drain_s')} s "
                        f"after the writers stopped"))
    return rows


def per_round(records, field, label, unit):
    values = [r.get(field) for r in sorted(records, key=lambda r: r["round"])]
    return f"{label} " + ", ".join("n/a" if v is None else f"{v:.3f}" for v in values) + f" {unit}"


def write_cost_rows(m):
    off = m[("writecost", "triggers_off")]
    wal, streaming, notify = m[("writecost", "wal_on")], m[("writecost", "wal_streaming_only")], m[("writecost", "notify_on")]
    base, wal_tps, notify_tps = median(off, "tps"), median(wal, "tps"), median(notify, "tps")
    streaming_tps = median(streaming, "tps")
    return [
        row("5", "write cost, wal source: UPDATE tps with invalidation vs without any", wal_tps, base,
            ratio(wal_tps, base), ">= 0.8", True, "tps", "tps",
            "pgbench -c 8 -M prepared, single-row UPDATE users; triggers feeding wal only, the gateway streaming; "
            "baseline: triggers disabled and no gateway (no WAL sender); " + round_ratios(wal, off, "tps")),
        row("5b", "write cost, wal source: triggers on vs off, the gateway streaming in both", wal_tps, streaming_tps,
            ratio(wal_tps, streaming_tps), ">= 0.8", False, "tps", "tps",
            "the WAL sender decodes every write in both; " + round_ratios(wal, streaming, "tps")),
        row("5c", "write cost, notify source: UPDATE tps with invalidation vs without any", notify_tps, base,
            ratio(notify_tps, base), ">= 0.8", True, "tps", "tps",
            "triggers feeding notify only (one NOTIFY per statement), the gateway listening; baseline: row 5's; "
            + round_ratios(notify, off, "tps")),
    ]


def memory_rows(m, meta):
    idle = m[("idle", "gateway")]
    rss = median(idle, "rss_mib")
    steady = m[("rss_run", "gateway")]
    last, first = median(steady, "last_mib"), median(steady, "first_mib")
    return [
        row("6a", f"gateway RSS with {meta['idle_clients']:,} idle connections", rss, 64.0, ratio(rss, 64.0),
            "<= 1.0", True, "MiB", "MiB limit", f"before connecting {median(idle, 'rss_mib_before')} MiB"),
        row("6b", f"gateway RSS over the steady run: last vs first {meta['rss_window']} s", last, first, ratio(last, first),
            f"<= {1 + meta['rss_tolerance']}", True, "MiB", "MiB",
            f"{meta['rss_seconds']} s load-test run, medians of the first and last {meta['rss_window']} s "
            f"after {meta['rss_warmup']} s warm-up; peak {median(steady, 'max_mib')} MiB"),
    ]


def build_rows(m, meta):
    """The rows of the targets this run measured (BENCH_TARGETS; all of them by default)."""
    targets = set(meta.get("targets") or range(1, 8))
    rows = []
    if targets & {1, 2}:
        rows += hit_rows(m, meta)
    if 3 in targets:
        rows += miss_rows(m, meta)
    if 4 in targets:
        rows += lag_rows(m)
    if 5 in targets:
        rows += write_cost_rows(m)
    if 6 in targets:
        rows += memory_rows(m, meta)
    if 7 in targets:
        rows += tls_rows(m)
    return rows


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit in ("req/s", "fills/s", "q/s", "tps"):
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}" if unit.startswith("MiB") else f"{value:.3f} {unit}"


def render_text(rows, meta):
    header = ("target", "what", "ours", "baseline", "ratio", "required", "verdict")
    body = [(r["target"], r["what"], fmt(r["ours"], r["ours_unit"]), fmt(r["baseline"], r["baseline_unit"]),
             "n/a" if r["ratio"] is None else f"{r['ratio']:.3f}", r["required"], r["verdict"]) for r in rows]
    widths = [max(len(str(line[i])) for line in [header] + body) for i in range(len(header))]
    out = [f"quicksell bench ({meta['mode']} mode, {meta['rounds']} round(s), commit {meta['commit']}, {meta['date']}, "
           f"load average {meta.get('load_average', 'n/a')})"]
    for line in [header] + body:
        out.append("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
    if meta["mode"] == "short":
        out.append("short mode: one brief round each, to catch crashes and errors; the verdicts are not judged")
    return "\n".join(out)


def render_markdown(rows, meta):
    out = [f"Run of {meta['date']} on commit `{meta['commit']}` ({meta['mode']} mode, "
           f"{meta['rounds']} alternating round(s), medians; load average {meta.get('load_average', 'n/a')}).", "",
           "| target | what | ours | baseline | ratio | required | verdict | notes |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio_text = "n/a" if r["ratio"] is None else f"{r['ratio']:.3f}"
        out.append(f"| {r['target']} | {r['what']} | {fmt(r['ours'], r['ours_unit'])} | "
                   f"{fmt(r['baseline'], r['baseline_unit'])} | {ratio_text} | {r['required']} | "
                   f"**{r['verdict']}** | {r['note']} |")
    return "\n".join(out) + "\n"
