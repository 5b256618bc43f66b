#!/usr/bin/env python3
"""Reads `seconds rss_kib` samples of a steady load-test run and compares the median RSS
of the first window after the warm-up with the median of the last window.

  rss_trend.py SAMPLES WARMUP_SECONDS WINDOW_SECONDS   -> one JSON line (MiB)
"""
import json
import statistics
import sys

path, warmup, window = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
samples = []
with open(path) as lines:
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            samples.append((float(parts[0]), int(parts[1]) / 1024))
if not samples:
    print("rss_trend: error: no RSS samples", file=sys.stderr)
    sys.exit(1)
end = samples[-1][0]
first = [rss for t, rss in samples if warmup <= t < warmup + window]
last = [rss for t, rss in samples if t > end - window]
if not first or not last:
    print(f"rss_trend: error: too few samples ({len(samples)}) for a {window} s window", file=sys.stderr)
    sys.exit(1)
print(json.dumps({"first_mib": round(statistics.median(first), 2), "last_mib": round(statistics.median(last), 2),
                  "max_mib": round(max(rss for _, rss in samples), 2), "samples": len(samples)}))
