#!/usr/bin/env python3
"""Turns the raw measurements of one bench run (JSON lines) into the verdict table.

Each target's figure is the median over its rounds of each system's figure; the ratio is
our median over the baseline's median. Prints the table, writes it as JSON and Markdown,
and exits 3 when a judged target fails (only in full mode; the short mode checks for
crashes and errors, never for speed).

  report.py RESULTS.jsonl META.json OUT.json OUT.md
"""
import json
import statistics
import sys
from collections import defaultdict


def load(path):
    by_key = defaultdict(list)
    with open(path) as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                by_key[(record["target"], record["system"])].append(record)
    return by_key


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


def build_rows(m, meta):
    rows = []
    for depth, target in (("1", "hit_p1"), ("16", "hit_p16")):
        gw, tw, rd = m[(target, "gateway")], m[(target, "twemproxy")], m[(target, "redis")]
        gw_rps, tw_rps, rd_rps = median(gw, "rps"), median(tw, "rps"), median(rd, "rps")
        gw_p99, tw_p99 = median(gw, "p99_ms"), median(tw, "p99_ms")
        n = meta["hit_keys"]
        if depth == "1":
            rows.append(row("1a", "hit path -P 1: gateway vs twemproxy req/s", gw_rps, tw_rps, ratio(gw_rps, tw_rps),
                            ">= 1.0", True, "req/s", "req/s",
                            f"direct Redis {rd_rps or 0:,.0f} req/s; {round_ratios(gw, tw, 'rps')}"))
            rows.append(row("1b", "hit path -P 1: gateway vs twemproxy p99", gw_p99, tw_p99, ratio(gw_p99, tw_p99),
                            "<= 1.0", True, "ms", "ms",
                            f"direct Redis p99 {median(rd, 'p99_ms')} ms; {n:,} keys; {round_ratios(gw, tw, 'p99_ms')}"))
        else:
            rows.append(row("2a", "hit path -P 16: gateway vs twemproxy req/s", gw_rps, tw_rps, ratio(gw_rps, tw_rps),
                            ">= 1.3", True, "req/s", "req/s",
                            f"p99 gateway {gw_p99} ms, twemproxy {tw_p99} ms; {round_ratios(gw, tw, 'rps')}"))
            rows.append(row("2b", "hit path -P 16: gateway vs direct Redis req/s", gw_rps, rd_rps, ratio(gw_rps, rd_rps),
                            ">= 0.7", False, "req/s", "req/s",
                            f"direct Redis p99 {median(rd, 'p99_ms')} ms; {round_ratios(gw, rd, 'rps')}"))
    gw_fills, pg_tps = median(m[("miss", "gateway")], "fills_per_s"), median(m[("miss", "pgbench")], "tps")
    rows.append(row("3", "miss path: gateway fills/s vs pgbench single-id q/s", gw_fills, pg_tps, ratio(gw_fills, pg_tps),
                    ">= 1.0", True, "fills/s", "q/s",
                    f"{meta['users']:,} users, 50 clients; pgbench 8 clients -M prepared; "
                    f"fill queries {median(m[('miss', 'gateway')], 'queries_per_s') or 0:,.0f}/s; "
                    + round_ratios(m[("miss", "gateway")], m[("miss", "pgbench")], "fills_per_s", "tps")))
    lag = m[("lag", "rate500")]
    p99 = median(lag, "p99_ms")
    rows.append(row("4a", "invalidation lag p99 at 500 writes/s", p99, 2.0, ratio(p99, 2.0), "<= 1.0", True, "ms", "ms limit",
                    f"p50 {median(lag, 'p50_ms')} ms at {median(lag, 'writes_per_s') or 0:,.0f} writes/s (pgbench --rate)"))
    top = highest_rate_round(m[("lag", "max")])
    rows.append(row("4b", "invalidation lag p99 at the highest write rate", top.get("p99_ms"), 2.0,
                    ratio(top.get("p99_ms"), 2.0), "<= 1.0", False, "ms", "ms limit",
                    f"{top.get('writes_per_s') or 0:,.0f} writes/s (the fastest round of pgbench -c 8 unthrottled), "
                    f"p50 {top.get('p50_ms')} ms"))
    on, off = median(m[("writecost", "triggers_on")], "tps"), median(m[("writecost", "triggers_off")], "tps")
    rows.append(row("5", "write cost: UPDATE tps with invalidation vs without any", on, off, ratio(on, off),
                    ">= 0.8", True, "tps", "tps", "pgbench -c 8 -M prepared, single-row UPDATE users; baseline: "
                    "triggers disabled and no gateway (no WAL sender); "
                    + round_ratios(m[("writecost", "triggers_on")], m[("writecost", "triggers_off")], "tps")))
    streaming = median(m[("writecost", "streaming_only")], "tps")
    rows.append(row("5b", "write cost: triggers on vs off, the gateway streaming in both", on, streaming,
                    ratio(on, streaming), ">= 0.8", False, "tps", "tps",
                    "the WAL sender decodes every write in both; "
                    + round_ratios(m[("writecost", "triggers_on")], m[("writecost", "streaming_only")], "tps")))
    idle = m[("idle", "gateway")]
    rss = median(idle, "rss_mib")
    rows.append(row("6a", f"gateway RSS with {meta['idle_clients']:,} idle connections", rss, 64.0, ratio(rss, 64.0),
                    "<= 1.0", True, "MiB", "MiB limit", f"before connecting {median(idle, 'rss_mib_before')} MiB"))
    steady = m[("rss_run", "gateway")]
    last, first = median(steady, "last_mib"), median(steady, "first_mib")
    rows.append(row("6b", f"gateway RSS over the steady run: last vs first {meta['rss_window']} s", last, first, ratio(last, first),
                    f"<= {1 + meta['rss_tolerance']}", True, "MiB", "MiB",
                    f"{meta['rss_seconds']} s load-test run, medians of the first and last {meta['rss_window']} s "
                    f"after {meta['rss_warmup']} s warm-up; peak {median(steady, 'max_mib')} MiB"))
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
    out = [f"quicksell bench ({meta['mode']} mode, {meta['rounds']} round(s), commit {meta['commit']}, {meta['date']})"]
    for line in [header] + body:
        out.append("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
    if meta["mode"] == "short":
        out.append("short mode: one brief round each, to catch crashes and errors; the verdicts are not judged")
    return "\n".join(out)


def render_markdown(rows, meta):
    out = [f"Run of {meta['date']} on commit `{meta['commit']}` ({meta['mode']} mode, "
           f"{meta['rounds']} alternating round(s), medians).", "",
           "| target | what | ours | baseline | ratio | required | verdict | notes |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio_text = "n/a" if r["ratio"] is None else f"{r['ratio']:.3f}"
        out.append(f"| {r['target']} | {r['what']} | {fmt(r['ours'], r['ours_unit'])} | "
                   f"{fmt(r['baseline'], r['baseline_unit'])} | {ratio_text} | {r['required']} | "
                   f"**{r['verdict']}** | {r['note']} |")
    return "\n".join(out) + "\n"


def main():
    results, meta_path, out_json, out_md = sys.argv[1:5]
    with open(meta_path) as f:
        meta = json.load(f)
    measurements = load(results)
    rows = build_rows(measurements, meta)
    print(render_text(rows, meta))
    with open(out_json, "w") as f:
        raw = [dict(r) for records in measurements.values() for r in records]
        json.dump({"meta": meta, "rows": rows, "measurements": raw}, f, indent=2)
        f.write("\n")
    with open(out_md, "w") as f:
        f.write(render_markdown(rows, meta))
    failed = [r["target"] for r in rows if r["verdict"] == "FAIL"]
    if failed and meta["mode"] == "full":
        print(f"targets not met: {', '.join(failed)}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
