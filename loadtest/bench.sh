#!/usr/bin/env bash
# The benchmark suite of issue 10: measures the six performance targets of the gateway
# against their baselines in ONE invocation and prints one table (target, our figure,
# baseline figure, ratio, required, PASS/FAIL), also written as JSON and Markdown.
#
#   1-2 hit path  redis-benchmark -c 50 -P 1 / -P 16 GET of warm ~400-byte values through
#                 direct Redis, twemproxy (Debian's nutcracker) and the gateway
#   3   miss path quicksell-loadtest --mode miss-only (every GET a distinct cold key, 50
#                 clients) vs pgbench (8 clients, prepared) of the same point query
#   4   invalidation lag p99 at 500 writes/s (pgbench --rate) and at the highest rate
#   5   write cost: 8 UPDATE writers with vs without the invalidation triggers
#   6   memory: RSS with N idle connections; RSS trend over a steady load-test run
#
# Each target runs ROUNDS alternating rounds (A, B, C, A, B, C, …); figures are medians.
# It starts its own redis-server, nutcracker and gateway on free loopback ports, seeds a
# dedicated database in this checkout's PostgreSQL (make services; `make bench` does it),
# and stops everything it started, by PID, on exit.
#
# BENCH_MODE=full (default, `make bench`): release build, 3 rounds, about 15 minutes;
# exit 0 when every judged target passes, 3 when one fails, 1 on an error.
# BENCH_MODE=short (`make bench-short`, run by `make test`): debug build, one brief round
# of every target, 500 idle connections, a 20 s steady run; it fails only on errors and
# crashes, never on ratios.
#
# Knobs (defaults full/short): BENCH_ROUNDS (3/1), BENCH_USERS (100000/20000),
# BENCH_HIT_KEYS (100000/20000), BENCH_IDLE_CLIENTS (5000/500), BENCH_RSS_SECONDS (300/20),
# BENCH_CONFIG (release/debug), BENCH_SCRATCH_PATH (.build-release/.build),
# BENCH_SKIP_BUILD (0), BENCH_DATABASE (quicksell_bench/quicksell_bench_short), BENCH_OUT (bench-results).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/bench" && pwd)"
source "$BENCH_DIR/../../scripts/env.sh"
cd "$QUICKSELL_ROOT"

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

MODE="${BENCH_MODE:-full}"
case "$MODE" in
    full)
        ROUNDS="${BENCH_ROUNDS:-3}"; USERS="${BENCH_USERS:-100000}"; HIT_KEYS="${BENCH_HIT_KEYS:-100000}"
        HIT_REQUESTS_P1=200000; HIT_REQUESTS_P16=1000000; PG_SECONDS=10; LAG_SECONDS=10
        IDLE_CLIENTS="${BENCH_IDLE_CLIENTS:-5000}"; IDLE_SETTLE=3
        RSS_SECONDS="${BENCH_RSS_SECONDS:-300}"; RSS_WARMUP=30; RSS_WINDOW=60; RSS_INTERVAL=5
        CONFIG="${BENCH_CONFIG:-release}"; SEED_USERS=1000 ;;
    short)
        ROUNDS="${BENCH_ROUNDS:-1}"; USERS="${BENCH_USERS:-20000}"; HIT_KEYS="${BENCH_HIT_KEYS:-20000}"
        HIT_REQUESTS_P1=20000; HIT_REQUESTS_P16=50000; PG_SECONDS=3; LAG_SECONDS=3
        IDLE_CLIENTS="${BENCH_IDLE_CLIENTS:-500}"; IDLE_SETTLE=1
        RSS_SECONDS="${BENCH_RSS_SECONDS:-20}"; RSS_WARMUP=3; RSS_WINDOW=6; RSS_INTERVAL=1
        CONFIG="${BENCH_CONFIG:-debug}"; SEED_USERS=200 ;;
    *) die "BENCH_MODE must be full or short, got '$MODE'" ;;
esac
case "$CONFIG" in
    release) SCRATCH="${BENCH_SCRATCH_PATH:-.build-release}" ;;
    debug) SCRATCH="${BENCH_SCRATCH_PATH:-.build}" ;;
    *) die "BENCH_CONFIG must be release or debug, got '$CONFIG'" ;;
esac
[ "$ROUNDS" -ge 1 ] || die "BENCH_ROUNDS must be at least 1, got '$ROUNDS'"
[ "$USERS" -ge 1000 ] || die "BENCH_USERS must be at least 1000, got '$USERS'"
# The short mode keeps its own, smaller database (the full mode's 100,000 users would make
# its miss path, every user once on a debug build, take minutes).
DATABASE="${BENCH_DATABASE:-$([ "$MODE" = full ] && echo quicksell_bench || echo quicksell_bench_short)}"
[[ "$DATABASE" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DATABASE must be a plain lower-case name, got '$DATABASE'"
BENCH_URL="postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/${DATABASE}"
OUT_DIR="${BENCH_OUT:-$QUICKSELL_ROOT/bench-results}"
started_at=$SECONDS

source "$BENCH_DIR/processes.sh"
source "$BENCH_DIR/database.sh"
source "$BENCH_DIR/targets.sh"

for tool in redis-server redis-cli redis-benchmark curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done
[ -x "$QUICKSELL_PG_BIN/pgbench" ] || die "pgbench not found in $QUICKSELL_PG_BIN: run scripts/install-deps.sh"
if ! command -v nutcracker >/dev/null; then
    say "installing nutcracker (twemproxy)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nutcracker >/dev/null \
        || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nutcracker >/dev/null; } \
        || die "cannot install nutcracker"
fi
"$QUICKSELL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$QUICKSELL_PG_PORT" \
    || die "no PostgreSQL on 127.0.0.1:$QUICKSELL_PG_PORT: start it with make services (make bench does)"
# 5,000 idle clients need 5,000 descriptors in the gateway and as many in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((IDLE_CLIENTS + 200)) ] \
    || die "the descriptor limit $(ulimit -n) is too low for $IDLE_CLIENTS idle connections"

WORK="$(mktemp -d /tmp/quicksell-bench.XXXXXX)"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
cleanup() {
    local status=$?
    bench_stop_all
    if [ -n "${DATABASE_READY:-}" ]; then enable_user_invalidation_triggers 2>/dev/null || true; fi
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
        say "failed after $((SECONDS - started_at)) s; logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIN="$SCRATCH/$CONFIG"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "building ($CONFIG, scratch path $SCRATCH)"
    for product in quicksell-gateway quicksell-loadtest quicksell-cache; do
        swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product "$product" >&2
    done
fi
for product in quicksell-gateway quicksell-loadtest quicksell-cache; do
    [ -x "$BIN/$product" ] || die "$BIN/$product is missing: build it (or drop BENCH_SKIP_BUILD)"
done

say "preparing database $DATABASE ($USERS users)"
prepare_database
DATABASE_READY=1
MAX_USER_ID=$(bench_psql -c "SELECT max(id) FROM users")

start_redis
start_twemproxy
start_gateway
say "redis 127.0.0.1:$REDIS_PORT, twemproxy 127.0.0.1:$PROXY_PORT, gateway 127.0.0.1:$GATEWAY_PORT (pid $GATEWAY_PID)"

preload_hit_keys
bench_hit_paths
bench_miss_path
bench_invalidation_lag
bench_write_cost
bench_idle_memory
bench_steady_memory

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- 2>/dev/null || commit="$commit+uncommitted"
mkdir -p "$OUT_DIR"
python3 - "$WORK/meta.json" <<PY
import json, sys
json.dump({"mode": "$MODE", "rounds": $ROUNDS, "commit": "$commit", "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
           "users": $USERS, "hit_keys": $HIT_KEYS, "idle_clients": $IDLE_CLIENTS, "rss_seconds": $RSS_SECONDS,
           "rss_warmup": $RSS_WARMUP, "rss_window": $RSS_WINDOW, "rss_tolerance": 0.05, "config": "$CONFIG",
           "machine": {"nproc": "$(nproc)", "cpu": "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)",
                       "memory": "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)",
                       "redis": "$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')",
                       "nutcracker": "$(nutcracker --version 2>&1 | awk '{ print $NF; exit }')",
                       "postgres": "$("$QUICKSELL_PG_BIN/postgres" --version | awk '{ print $3 }')"}},
          open(sys.argv[1], "w"), indent=2)
PY
status=0
python3 "$BENCH_DIR/report.py" "$RESULTS" "$WORK/meta.json" "$OUT_DIR/bench-$MODE.json" "$OUT_DIR/bench-$MODE.md" || status=$?
say "table written to $OUT_DIR/bench-$MODE.json and .md; done in $((SECONDS - started_at)) s"
exit "$status"
