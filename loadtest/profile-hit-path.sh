#!/usr/bin/env bash
# Profiles the gateway's hit path with perf: starts a private redis-server and the gateway
# (release build) on free loopback ports, pre-loads warm ~400-byte values, drives
# `redis-benchmark -c 50 -P <depth> GET` at the gateway and records the gateway process with
# `perf record -g` meanwhile. Prints the hottest symbols and keeps perf.data for `perf report`.
# Stops everything it started, by PID, on exit. Needs this checkout's PostgreSQL (make services).
#
# Knobs: PROFILE_PIPELINE (16), PROFILE_SECONDS (10), PROFILE_KEYS (100000),
# PROFILE_SCRATCH_PATH (.build-release), PROFILE_OUT (bench-results/hit-path.perf.data).
source "$(dirname "${BASH_SOURCE[0]}")/bench/prologue.sh" profile
read_knobs <<'KNOBS'
PIPELINE         PROFILE_PIPELINE     16
SECONDS_RECORDED PROFILE_SECONDS      10
KEYS             PROFILE_KEYS         100000
SCRATCH          PROFILE_SCRATCH_PATH .build-release
OUT              PROFILE_OUT          bench-results/hit-path.perf.data
KNOBS

command -v perf >/dev/null || die "perf is missing (Debian package linux-perf)"
command -v redis-benchmark >/dev/null || die "redis-benchmark is missing (Debian package redis-tools)"

# The benchmark suite's helpers: start_redis, start_gateway, stop by PID; the warm keys.
source "$BENCH_DIR/processes.sh"
source "$BENCH_DIR/hits.sh"
WORK="$(mktemp -d /tmp/quicksell-profile.XXXXXX)"
trap 'bench_stop_all; rm -rf "$WORK"' EXIT

say "building the gateway (release, $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" --product quicksell-gateway >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
BENCH_URL="$QUICKSELL_POSTGRES_URL"

start_redis
start_gateway
# The gateway flushes the families when it first sees this Redis: pre-load once it is ready.
preload_hit_keys_into "$KEYS" "$REDIS_PORT"

say "driving GET hits (-c 50 -P $PIPELINE) and recording the gateway for $SECONDS_RECORDED s"
redis-benchmark -h 127.0.0.1 -p "$GATEWAY_PORT" -c 50 -P "$PIPELINE" -n 100000000 -r "$KEYS" -q \
    GET 'user:1__rand_int__' >"$WORK/benchmark.txt" 2>&1 &
LOAD_PID=$!
BENCH_PIDS+=("$LOAD_PID")
sleep 2
mkdir -p "$(dirname "$OUT")"
timeout $((SECONDS_RECORDED + 30)) perf record -F 999 -g -p "$GATEWAY_PID" -o "$OUT" -- sleep "$SECONDS_RECORDED" \
    >"$WORK/perf.txt" 2>&1 || die "perf record failed: $(tail -n 3 "$WORK/perf.txt")"
kill "$LOAD_PID" 2>/dev/null || true
misses=$(redis-cli -h 127.0.0.1 -p "$GATEWAY_PORT" INFO | grep -o 'family_user:hits=[0-9]*,misses=[0-9]*' || true)
say "gateway counters: ${misses:-none}"
echo "hottest symbols of the gateway (self time), $OUT:"
perf report -i "$OUT" --no-children --sort symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | head -n 30 | cut -c1-160
