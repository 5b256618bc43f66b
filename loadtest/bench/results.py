#!/usr/bin/env python3
"""The one writer of the bench's result files: every measurement line, the run's facts, the
verdict table (JSON and Markdown), and the side-by-side summaries of compare.sh and
hit-ratio.sh. The shell scripts run the tools; what a tool's output means, and how it is
written down, is decided here, so no figure is assembled by string concatenation in bash.

  results.py record RESULTS TARGET SYSTEM ROUND [KEY VALUE]...   one measurement (a number, or empty for none)
  results.py miss RESULTS ROUND USERS LOADTEST_JSON               checks and records a miss-path run
  results.py lag RESULTS SYSTEM ROUND WRITES_PER_S P50_USEC P99_USEC SAMPLES DRAIN_S
  results.py idle RESULTS ROUND CONNECTIONS IDLE_CLIENTS_JSON
  results.py steady RESULTS LOADTEST_JSON RSS_SAMPLES WARMUP WINDOW
  results.py meta META_JSON --mode … (bench.sh's settings; the machine's facts are read here)
  results.py report RESULTS META_JSON OUT_JSON OUT_MD             prints and writes the table; exit 3 on a failed target (full mode)
  results.py hit-ratio RESULTS ROUNDS NAME...                     hit-ratio.sh's medians and per-round ratios
  results.py compare WORK SECONDS CONNECTIONS THREADS PIPELINE USERS   compare.sh's side-by-side table

The record-like commands print the line the calling script shows; a failed check prints the
bench's error text on stderr and exits 1.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import report
import rss_trend


class CheckFailed(Exception):
    """A measurement that must fail the run (an error, a crash, too few fills)."""


def append(results, target, system, round_number, fields):
    """One measurement line of RESULTS: target, system, round, then the figures in order."""
    line = {"target": target, "system": system, "round": int(round_number)}
    line.update(fields)
    with open(results, "a") as out:
        out.write(json.dumps(line, separators=(",", ":")) + "\n")


def number(text):
    """A figure as a tool printed it: an int or a float, or None when it printed nothing."""
    if text == "":
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise CheckFailed(f"'{text}' is not a number")
    return value


def load_json(path):
    with open(path) as f:
        return json.load(f)


def record(args):
    if len(args.pairs) % 2:
        raise CheckFailed("record takes KEY VALUE pairs")
    pairs = list(zip(args.pairs[::2], args.pairs[1::2]))
    append(args.results, args.target, args.system, args.round, {key: number(value) for key, value in pairs})


def miss(args):
    run = load_json(args.loadtest_json)
    gateway = run["families"][0]["gateway"]
    fills = gateway["fills"] + gateway["absentFills"]
    seconds, requests = run["measuredSeconds"], run["requests"]
    errors = sum(run["errors"].values())
    queries = run["postgres"]["gatewayQueries"] or 0
    if errors != 0:
        raise CheckFailed(f"miss path round {args.round}: {errors} errors: {run['errors']}")
    if requests < args.users or fills < args.users * 99 // 100:
        raise CheckFailed(f"miss path round {args.round}: {requests} requests made {fills} fills "
                          f"(expected every one of {args.users} users a miss)")
    fills_per_s, queries_per_s = round(fills / seconds, 1), round(queries / seconds, 1)
    append(args.results, "miss", "gateway", args.round,
           {"fills_per_s": fills_per_s, "queries_per_s": queries_per_s, "fills": fills, "seconds": seconds})
    print(f"  miss gateway: {fills} fills in {seconds} s = {fills_per_s} fills/s ({queries_per_s} queries/s)")


def lag(args):
    p50_ms, p99_ms = args.p50_usec / 1000, args.p99_usec / 1000
    writes = number(args.writes_per_s)
    append(args.results, "lag", args.system, args.round,
           {"writes_per_s": writes, "p50_ms": p50_ms, "p99_ms": p99_ms, "samples": args.samples,
            "drain_s": args.drain_s})
    print(f"  lag {args.system}: {args.writes_per_s} writes/s, lag p50 {p50_ms} ms, p99 {p99_ms} ms "
          f"({args.samples} samples; every write applied {args.drain_s} s after the writers stopped)")


def idle(args):
    measured = json.loads(args.idle_clients_json)
    rss, before = round(measured["rss_kib"] / 1024, 2), round(measured["rss_kib_before"] / 1024, 2)
    append(args.results, "idle", "gateway", args.round,
           {"rss_mib": rss, "rss_mib_before": before, "connections": args.connections})
    print(f"  gateway RSS {rss} MiB with {args.connections} connections ({before} MiB before)")


def steady(args):
    run = load_json(args.loadtest_json)
    errors, requests = sum(run["errors"].values()), run["requests"]
    if errors != 0:
        raise CheckFailed(f"steady run: {errors} errors in {requests} requests: {run['errors']}")
    try:
        trend = rss_trend.trend(args.samples, args.warmup, args.window)
    except rss_trend.TooFewSamples as error:
        raise CheckFailed(f"no RSS trend: {error}")
    append(args.results, "rss_run", "gateway", 1,
           {"first_mib": trend["first_mib"], "last_mib": trend["last_mib"], "max_mib": trend["max_mib"],
            "requests": requests})
    print(f"  steady run: {requests} requests, RSS {json.dumps(trend)}")


def version_word(command, index):
    """One word of the first line a version command prints (stdout, then stderr), or ''."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout + done.stderr).splitlines()
    words = lines[0].split() if lines else []
    return words[index] if -len(words) <= index < len(words) else ""


def proc_value(path, prefix):
    with open(path) as f:
        for line in f:
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    return ""


def machine(pg_bin):
    memory_kib = int(proc_value("/proc/meminfo", "MemTotal").split()[0] or 0)
    return {"nproc": str(len(os.sched_getaffinity(0))),
            "cpu": proc_value("/proc/cpuinfo", "model name"),
            "memory": f"{memory_kib / 1048576:.1f} GiB",
            "redis": version_word(["redis-server", "--version"], 2).replace("v=", ""),
            "nutcracker": version_word(["nutcracker", "--version"], -1),
            "postgres": version_word([os.path.join(pg_bin, "postgres"), "--version"], 2)}


def meta(args):
    facts = {"mode": args.mode, "rounds": args.rounds, "commit": args.commit,
             "date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), "users": args.users,
             "hit_keys": args.hit_keys, "idle_clients": args.idle_clients, "rss_seconds": args.rss_seconds,
             "rss_warmup": args.rss_warmup, "rss_window": args.rss_window, "rss_tolerance": 0.05,
             "config": args.config, "targets": [int(t) for t in args.targets.split()],
             "load_average": args.load_average, "machine": machine(args.pg_bin)}
    with open(args.meta_json, "w") as f:
        json.dump(facts, f, indent=2)


def load_measurements(path):
    by_key = defaultdict(list)
    with open(path) as lines:
        for line in lines:
            if line.strip():
                measurement = json.loads(line)
                by_key[(measurement["target"], measurement["system"])].append(measurement)
    return by_key


def write_report(args):
    facts = load_json(args.meta_json)
    measurements = load_measurements(args.results)
    rows = report.build_rows(measurements, facts)
    print(report.render_text(rows, facts))
    with open(args.out_json, "w") as f:
        raw = [dict(m) for records in measurements.values() for m in records]
        json.dump({"meta": facts, "rows": rows, "measurements": raw}, f, indent=2)
        f.write("\n")
    with open(args.out_md, "w") as f:
        f.write(report.render_markdown(rows, facts))
    failed = [r["target"] for r in rows if r["verdict"] == "FAIL"]
    if failed and facts["mode"] == "full":
        print(f"targets not met: {', '.join(failed)}", file=sys.stderr)
        return 3
    return 0


def hit_ratio(args):
    measurements = load_measurements(args.results)
    depths = sorted({target for target, _ in measurements}, key=lambda t: int(t.removeprefix("hit_p")))
    for target in depths:
        depth = target.removeprefix("hit_p")
        base = {m["round"]: m for m in measurements[(target, "twemproxy")]}
        base_rps = statistics.median(m["rps"] for m in base.values())
        base_p99 = statistics.median(m["p99_ms"] for m in base.values())
        print(f"-P{depth} medians of {args.rounds} rounds: twemproxy {base_rps:,.0f} req/s, p99 {base_p99:.3f} ms")
        for name in args.names:
            ours = measurements[(target, name)]
            rps = statistics.median(m["rps"] for m in ours)
            p99 = statistics.median(m["p99_ms"] for m in ours)
            # Per-round ratios (same round, seconds apart) cancel most of the load of other users.
            pairs = [(m["rps"] / base[m["round"]]["rps"], m["p99_ms"] / base[m["round"]]["p99_ms"])
                     for m in ours if m["round"] in base]
            rps_ratio = statistics.median(p[0] for p in pairs)
            p99_ratio = statistics.median(p[1] for p in pairs)
            wins = sum(1 for p in pairs if p[0] >= 1.0)
            print(f"  {name}: {rps:,.0f} req/s ({rps / base_rps:.3f}x), p99 {p99:.3f} ms ({p99 / base_p99:.2f}x); "
                  f"median per-round ratios: req/s {rps_ratio:.3f}x, p99 {p99_ratio:.2f}x; rounds >= 1.0x: {wins}")


def compare(args):
    rows = [(name, load_json(os.path.join(args.work, f"{name}.json"))) for name in ("redis", "twemproxy", "gateway")]
    base = rows[0][1]
    print(f"hit-only, {args.seconds} s each, {args.connections} connections, {args.threads} threads, "
          f"pipeline {args.pipeline}, zipf 0.99, {args.users} users")
    print(f"{'target':<11}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'errors':>8}{'hit rate':>10}"
          f"{'req/s ratio':>13}{'p99 ratio':>11}")
    for name, run in rows:
        latency = run["latency"]
        hit = run.get("gatewayHitRate")
        errors = sum(run["errors"].values())
        hit_text = f"{hit * 100:.2f}%" if hit is not None else "n/a"
        print(f"{name:<11}{run['throughput']:>10.0f}{latency['p50Micros'] / 1000:>9.3f}{latency['p99Micros'] / 1000:>9.3f}"
              f"{latency['p999Micros'] / 1000:>10.3f}{errors:>8}{hit_text:>10}"
              f"{run['throughput'] / base['throughput']:>13.2f}"
              f"{latency['p99Micros'] / max(1, base['latency']['p99Micros']):>11.2f}")


def parser():
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    def command(name, handler, *positionals):
        sub = commands.add_parser(name)
        for spec in positionals:
            arg, kind = spec if isinstance(spec, tuple) else (spec, str)
            sub.add_argument(arg, type=kind)
        sub.set_defaults(handler=handler)
        return sub

    command("record", record, "results", "target", "system", ("round", int)).add_argument("pairs", nargs="*")
    command("miss", miss, "results", ("round", int), ("users", int), "loadtest_json")
    command("lag", lag, "results", "system", ("round", int), "writes_per_s", ("p50_usec", int), ("p99_usec", int),
            ("samples", int), ("drain_s", float))
    command("idle", idle, "results", ("round", int), ("connections", int), "idle_clients_json")
    command("steady", steady, "results", "loadtest_json", "samples", ("warmup", float), ("window", float))
    facts = command("meta", meta, "meta_json")
    for name, kind in (("mode", str), ("rounds", int), ("commit", str), ("users", int), ("hit-keys", int),
                       ("idle-clients", int), ("rss-seconds", int), ("rss-warmup", int), ("rss-window", int),
                       ("config", str), ("pg-bin", str), ("targets", str), ("load-average", str)):
        facts.add_argument(f"--{name}", type=kind, required=True)
    command("report", write_report, "results", "meta_json", "out_json", "out_md")
    command("hit-ratio", hit_ratio, "results", "rounds").add_argument("names", nargs="+")
    command("compare", compare, "work", "seconds", "connections", "threads", "pipeline", "users")
    return top


def main():
    args = parser().parse_args()
    try:
        return args.handler(args) or 0
    except CheckFailed as failure:
        print(f"bench: error: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
