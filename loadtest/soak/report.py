"""The soak's verdict (loadtest/soak.sh): lays the faults over the load tool's per-second
timeline, judges RSS growth, stale reads and crashes, prints the report and writes it as
OUT.txt and OUT.json. Exit 0 when every check passes, 3 when one fails."""
import argparse
import json
import statistics
import sys

# RSS growth allowed between the baseline and the end of the run.
RSS_GROWTH_LIMIT = 0.10
# Gateway counters worth a line in the report (INFO invalidation, gateway).
INFO_FIELDS = ("listener_connected", "listener_reconnects", "recoveries", "redis_restarts",
               "invalidation_family_flushes", "invalidation_transaction_replays", "redis_errors",
               "postgres_errors", "connected_clients")


def read_faults(path, origin):
    """[{kind, start, end, detail}] with times in seconds since the load started."""
    faults = []
    with open(path) as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 4:
                faults.append({"kind": parts[0], "start": float(parts[1]) - origin,
                               "end": float(parts[2]) - origin, "detail": parts[3]})
    return faults


def read_rss(path, origin):
    """([(seconds, MiB)], gone_at or None)."""
    samples, gone = [], None
    with open(path) as lines:
        for line in lines:
            parts = line.split()
            if len(parts) != 2:
                continue
            if parts[1] == "gone":
                gone = float(parts[0]) - origin
            elif parts[1].isdigit():
                samples.append((max(0.0, float(parts[0]) - origin), int(parts[1]) / 1024))
    return samples, gone


def read_info(path):
    info = {}
    try:
        with open(path) as lines:
            for line in lines:
                key, _, value = line.strip().partition(":")
                if key in INFO_FIELDS:
                    info[key] = value
    except OSError:
        pass
    return info


def error_windows(faults, timeline, run_seconds):
    """Per fault: the seconds of the timeline with errors, and those with almost no replies
    (under 10% of the run's median rate: clients waiting on a silent backend see no error),
    from its start to the next fault's start. A timeline entry counts the second ending at
    `second` and belongs to the fault running when that second ended."""
    intervals, previous = [], 0.0
    for entry in timeline:
        intervals.append((previous, entry["second"], entry["errors"], entry["requestsPerSecond"]))
        previous = entry["second"]
    typical = statistics.median(i[3] for i in intervals) if intervals else 0
    for index, fault in enumerate(faults):
        until = faults[index + 1]["start"] if index + 1 < len(faults) else run_seconds + 1
        own = [i for i in intervals if fault["start"] < i[1] <= until]
        failing = [i for i in own if i[2] > 0]
        stalled = [i for i in own if i[3] < 0.1 * typical]
        fault["errors"] = sum(i[2] for i in failing)
        fault["min_rps"] = min((i[3] for i in own), default=None)
        fault["stalled_s"] = len(stalled)
        fault["error_window_s"], fault["recovery_s"] = 0.0, 0.0
        if failing or stalled:
            bad = sorted(failing + stalled)
            first, last = max(bad[0][0], fault["start"]), bad[-1][1]
            fault["error_window_s"] = round(last - first, 1)
            fault["recovery_s"] = round(max(0.0, last - fault["end"]), 1)
    return faults, typical


def rss_verdict(samples, faults, run_seconds):
    """Median RSS after the warm-up against the median at the end of the run.

    The warm-up is the whole first fault cycle, not a fixed time: the first minutes fill the
    connection pools, NIO's buffer pools and malloc's arenas, and each fault's first occurrence
    (the bulk update's 100,000 keys above all) raises the high-water mark that malloc keeps and
    reuses afterwards. A leak grows with every cycle; a high-water mark does not. Both windows
    are max(10% of the run, one cycle) long, so each median spans every phase of a cycle.
    Not judged when the run is too short for two separate windows (the short mode)."""
    cycle_starts = [f["start"] for f in faults if f["kind"] == "redis_restart"]
    result = {"judged": False, "limit_pct": RSS_GROWTH_LIMIT * 100}
    if samples:
        result["first_mib"] = round(samples[0][1], 1)
        result["max_mib"] = round(max(s[1] for s in samples), 1)
        result["last_mib"] = round(samples[-1][1], 1)
    if len(cycle_starts) < 2 or not samples:
        result["reason"] = "fewer than two fault cycles: too short to judge"
        return result
    cycle = cycle_starts[1] - cycle_starts[0]
    window = max(0.1 * run_seconds, cycle)
    warm_end = cycle_starts[1]
    end = samples[-1][0]
    if warm_end + window > end - window:
        result["reason"] = f"the baseline window ({window:.0f} s after the first cycle) overlaps the end window"
        return result
    base = [rss for t, rss in samples if warm_end <= t < warm_end + window]
    last = [rss for t, rss in samples if t > end - window]
    if len(base) < 3 or len(last) < 3:
        result["reason"] = "too few samples in a window"
        return result
    baseline, final = statistics.median(base), statistics.median(last)
    growth = final / baseline - 1
    result.update({"judged": True, "window_s": round(window), "baseline_from_s": round(warm_end),
                   "baseline_mib": round(baseline, 1), "end_mib": round(final, 1),
                   "growth_pct": round(growth * 100, 2), "passed": growth <= RSS_GROWTH_LIMIT})
    return result


def main():
    parser = argparse.ArgumentParser()
    for name in ("work", "mode", "config", "commit", "load-average", "out"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--crashed", type=int, required=True)
    parser.add_argument("--load-status", type=int, required=True)
    parser.add_argument("--stale-seconds", type=float, required=True)
    parser.add_argument("--bulk-rows", type=int, required=True)
    args = parser.parse_args()

    with open(f"{args.work}/load.json") as file:
        load = json.load(file)
    origin = load.get("startedAtUnixSeconds")
    if origin is None:
        print("soak: error: the load report has no startedAtUnixSeconds", file=sys.stderr)
        return 1
    faults, typical_rps = error_windows(read_faults(f"{args.work}/faults.txt", origin), load["timeline"], args.seconds)
    samples, gone = read_rss(f"{args.work}/rss.txt", origin)
    rss = rss_verdict(samples, faults, args.seconds)
    stale = load.get("staleness") or {}
    info = read_info(f"{args.work}/info.txt")

    failures = []
    if args.crashed or gone is not None:
        failures.append("the gateway died (" + (f"gone at {gone:.1f} s" if gone is not None else "gone at the end") + ")")
    if args.load_status != 0:
        failures.append(f"the load tool exited {args.load_status}")
    if not stale:
        failures.append("no staleness figures (verifier off?)")
    elif stale.get("stale", 0) > 0:
        failures.append(f"{stale['stale']} stale reads: {', '.join(stale.get('staleKeys', [])[:10])}")
    elif stale.get("verified", 0) == 0:
        failures.append("the verifier checked no read")
    if rss.get("judged") and not rss.get("passed"):
        failures.append(f"RSS grew {rss['growth_pct']}% (limit {rss['limit_pct']:.0f}%)")
    for fault in faults:
        if "error" in fault["detail"]:
            failures.append(f"fault {fault['kind']} at {fault['start']:.0f} s failed: {fault['detail']}")

    lines = [f"soak ({args.mode}, {args.config} build, commit {args.commit}): {args.seconds} s, "
             f"load average {args.load_average}",
             f"load: {load['requests']} requests ({load['throughput']:.0f}/s), "
             f"{load['postgres']['writesApplied']} writes ({load['postgres']['writeErrors']} failed), "
             f"errors {load['errors'] or 'none'}",
             f"staleness (a read still differing from PostgreSQL after {args.stale_seconds:.0f} s is stale): "
             f"{stale.get('verified', 0)} verified, {stale.get('stale', 0)} stale, {stale.get('suspect', 0)} re-checked, "
             f"{stale.get('inconclusive', 0)} inconclusive, {stale.get('dropped', 0)} dropped, {stale.get('errors', 0)} errors",
             "gateway: " + (", ".join(f"{k}={v}" for k, v in info.items()) or "no INFO at the end"),
             "", f"faults (seconds since the load started; stalled = seconds under 10% of the median {typical_rps:.0f} replies/s; "
             "window = first to last second with errors or stalled; recovery = its end after the fault ended):",
             f"  {'at':>6}  {'fault':<17} {'took':>5}  {'errors':>7}  {'stalled':>7}  {'window':>6}  {'recovery':>8}  {'min rps':>7}  detail"]
    for fault in faults:
        min_rps = "-" if fault["min_rps"] is None else f"{fault['min_rps']:.0f}"
        lines.append(f"  {fault['start']:6.0f}  {fault['kind']:<17} {fault['end'] - fault['start']:5.1f}  "
                     f"{fault['errors']:7d}  {fault['stalled_s']:7d}  {fault['error_window_s']:6.1f}  {fault['recovery_s']:8.1f}  "
                     f"{min_rps:>7}  {fault['detail']}")
    kinds = sorted({f["kind"] for f in faults})
    summary = {}
    for kind in kinds:
        of_kind = [f for f in faults if f["kind"] == kind]
        summary[kind] = {"count": len(of_kind), "max_error_window_s": max(f["error_window_s"] for f in of_kind),
                         "max_recovery_s": max(f["recovery_s"] for f in of_kind),
                         "errors": sum(f["errors"] for f in of_kind),
                         "stalled_s": sum(f["stalled_s"] for f in of_kind)}
        lines.append(f"  {kind}: {len(of_kind)} times, window at most {summary[kind]['max_error_window_s']} s, "
                     f"recovery at most {summary[kind]['max_recovery_s']} s, {summary[kind]['errors']} errors, "
                     f"{summary[kind]['stalled_s']} s stalled")
    step = max(1, len(samples) // 20)
    lines += ["", "RSS over time (MiB): " + ", ".join(f"{t:.0f}s {m:.1f}" for t, m in samples[::step])]
    if rss.get("judged"):
        lines.append(f"RSS: baseline {rss['baseline_mib']} MiB (median of {rss['window_s']} s from {rss['baseline_from_s']} s, "
                     f"after the first fault cycle), end {rss['end_mib']} MiB (median of the last {rss['window_s']} s): "
                     f"{rss['growth_pct']:+.2f}% (limit +{rss['limit_pct']:.0f}%), max {rss['max_mib']} MiB")
    else:
        lines.append(f"RSS: not judged ({rss.get('reason')}); first {rss.get('first_mib')}, max {rss.get('max_mib')}, "
                     f"last {rss.get('last_mib')} MiB")
    lines += ["", "verdict: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures))]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(args.out + ".txt", "w") as file:
        file.write(text)
    with open(args.out + ".json", "w") as file:
        json.dump({"mode": args.mode, "config": args.config, "commit": args.commit, "seconds": args.seconds,
                   "load_average": args.load_average, "bulk_rows": args.bulk_rows, "stale_seconds": args.stale_seconds,
                   "requests": load["requests"], "errors": load["errors"],
                   "writes": load["postgres"]["writesApplied"], "staleness": stale, "gateway_info": info,
                   "median_rps": typical_rps, "faults": faults, "fault_summary": summary, "rss": rss,
                   "rss_samples": [[round(t, 1), round(m, 2)] for t, m in samples],
                   "failures": failures, "passed": not failures}, file, indent=2)
    print(f"soak: report written to {args.out}.txt and .json", file=sys.stderr)
    return 0 if not failures else 3


if __name__ == "__main__":
    sys.exit(main())
