#!/usr/bin/env python3
"""Writes RESP commands for `redis-cli --pipe`: SET user:<id> to ~400 bytes of JSON with a long
TTL for every id redis-benchmark's `GET user:1__rand_int__ -r N` can produce
(1 followed by 12 zero-padded digits: 1000000000000 .. 1000000000000 + N - 1)."""
import sys

count = int(sys.argv[1])
ttl = sys.argv[2] if len(sys.argv) > 2 else "86400"
out = sys.stdout.buffer
base = 10**12
for n in range(count):
    key = f"user:{base + n}"
    head = f'{{"id": {base + n}, "username": "bench_hit_{n}", "source": "quicksell bench preload", "padding": "'
    value = head + "x" * (398 - len(head)) + '"}'
    parts = [b"SET", key.encode(), value.encode(), b"EX", ttl.encode()]
    out.write(b"*%d\r\n" % len(parts))
    for part in parts:
        out.write(b"$%d\r\n%s\r\n" % (len(part), part))
