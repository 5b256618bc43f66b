#!/usr/bin/env bash
# Profiles the gateway's hit path with perf: starts a private redis-server and the gateway
# (release build) on free loopback ports, pre-loads warm ~400-byte values, drives
# `redis-benchmark -c 50 -P <depth> GET` at the gateway and records the gateway process with
# `perf record -g` meanwhile. Prints the hottest symbols and keeps perf.data for `perf report`.
# Stops everything it started, by PID, on exit. Needs this checkout's PostgreSQL (make services).
#
# Knobs: PROFILE_PIPELINE (16), PROFILE_SECONDS (10), PROFILE_KEYS (100000),
# PROFILE_SCRATCH_PATH (.build-release), PROFILE_OUT (bench-results/hit-path.perf.data).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/bench" && pwd)"
source "$BENCH_DIR/../../scripts/env.sh"
cd "$QUICKSELL_ROOT"
PIPELINE="${PROFILE_PIPELINE:-16}"
SECONDS_RECORDED="${PROFILE_SECONDS:-10}"
KEYS="${PROFILE_KEYS:-100000}"
SCRATCH="${PROFILE_SCRATCH_PATH:-.build-release}"
OUT="${PROFILE_OUT:-bench-results/hit-path.perf.data}"

say() { echo "profile: $*" >&2; }
die() { say "error: $*"; exit 1; }
command -v perf >/dev/null || die "perf is missing (Debian package linux-perf)"
command -v redis-benchmark >/dev/null || die "redis-benchmark is missing (Debian package redis-tools)"

WORK="$(mktemp -d /tmp/quicksell-profile.XXXXXX)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() {
    for _ in $(seq 1 150); do
        [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = "PONG" ] && return 0
        sleep 0.1
    done
    die "nothing answers PING on 127.0.0.1:$1 ($2)"
}

say "building the gateway (release, $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" --product quicksell-gateway >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"

REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" >/dev/null &
PIDS+=($!)
wait_ping "$REDIS_PORT" redis-server

GATEWAY_PORT=$(free_port)
"$BIN/quicksell-gateway" --config config/gateway.yaml --host 127.0.0.1 --port "$GATEWAY_PORT" --metrics-port 0 \
    --redis-url "redis://127.0.0.1:$REDIS_PORT" --postgres-url "$QUICKSELL_POSTGRES_URL" --log-level warning \
    >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
wait_ping "$GATEWAY_PORT" quicksell-gateway
# The gateway flushes the families when it first sees this Redis: pre-load after it started.
python3 "$BENCH_DIR/preload_hits.py" "$KEYS" | redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --pipe >/dev/null

say "driving GET hits (-c 50 -P $PIPELINE) and recording the gateway for $SECONDS_RECORDED s"
redis-benchmark -h 127.0.0.1 -p "$GATEWAY_PORT" -c 50 -P "$PIPELINE" -n 100000000 -r "$KEYS" -q \
    GET 'user:1__rand_int__' >"$WORK/benchmark.txt" 2>&1 &
LOAD_PID=$!
PIDS+=($LOAD_PID)
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
