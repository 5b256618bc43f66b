"""The RSS trend of a steady load-test run, from `seconds rss_kib` samples: the median RSS of
the first window after the warm-up against the median of the last window (results.py records it)."""
import statistics


class TooFewSamples(Exception):
    """The samples cannot fill both windows."""


def trend(path, warmup, window):
    """{first_mib, last_mib, max_mib, samples} of the samples file at `path`, in MiB."""
    samples = []
    with open(path) as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 2:
                samples.append((float(parts[0]), int(parts[1]) / 1024))
    if not samples:
        raise TooFewSamples("no RSS samples")
    end = samples[-1][0]
    first = [rss for t, rss in samples if warmup <= t < warmup + window]
    last = [rss for t, rss in samples if t > end - window]
    if not first or not last:
        raise TooFewSamples(f"too few samples ({len(samples)}) for a {window} s window")
    return {"first_mib": round(statistics.median(first), 2), "last_mib": round(statistics.median(last), 2),
            "max_mib": round(max(rss for _, rss in samples), 2), "samples": len(samples)}
