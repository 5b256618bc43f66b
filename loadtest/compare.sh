#!/usr/bin/env bash
# Runs the same hit-only workload against the gateway, direct Redis and twemproxy (Debian's
# nutcracker), one after another on loopback, and prints a side-by-side table with ratios to
# direct Redis. Starts a private redis-server and nutcracker on free ports and the gateway
# (release build) on its own Redis database index, seeds a dedicated PostgreSQL database,
# and stops everything it started, by PID, on exit (the bench's process helpers,
# loadtest/bench/processes.sh).
#
# Needs this checkout's PostgreSQL and Redis running (make services). Environment knobs:
#   BENCH_SECONDS (10)  BENCH_USERS (2000)  BENCH_CONNECTIONS (8)  BENCH_THREADS (2)
#   BENCH_PIPELINE (4)  BENCH_CONFIG (release)  BENCH_DATABASE (quicksell_bench)  BENCH_REDIS_DB (48)
source "$(dirname "${BASH_SOURCE[0]}")/bench/prologue.sh" compare

read_knobs <<'KNOBS'
SECONDS_EACH BENCH_SECONDS     10
USERS        BENCH_USERS       2000
CONNECTIONS  BENCH_CONNECTIONS 8
THREADS      BENCH_THREADS     2
PIPELINE     BENCH_PIPELINE    4
CONFIG       BENCH_CONFIG      release
DATABASE     BENCH_DATABASE    quicksell_bench
REDIS_DB     BENCH_REDIS_DB    48
KNOBS
BENCH_URL="postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/${DATABASE}"
SEED_USERS="$USERS"
started_at=$(date +%s)

source "$BENCH_DIR/processes.sh"
source "$BENCH_DIR/database.sh"
ensure_nutcracker
WORK="$(mktemp -d /tmp/quicksell-compare.XXXXXX)"
trap 'bench_stop_all; rm -rf "$WORK"' EXIT

say "building ($CONFIG)"
for product in quicksell-gateway quicksell-loadtest quicksell-cache; do
    swift build -c "$CONFIG" --product "$product" >&2
done
BIN="$(swift build -c "$CONFIG" --show-bin-path)"

say "seeding $DATABASE ($USERS users, only if empty)"
create_seeded_database

start_redis
start_twemproxy
redis-cli -h 127.0.0.1 -p "$QUICKSELL_REDIS_PORT" -n "$REDIS_DB" FLUSHDB >/dev/null
GATEWAY_REDIS_URL="$QUICKSELL_REDIS_URL/$REDIS_DB" GATEWAY_SLOT="${DATABASE}_compare" start_gateway

run() {  # name port extra-args…
    local name=$1 port=$2; shift 2
    say "running $name (127.0.0.1:$port, ${SECONDS_EACH} s)"
    "$BIN/quicksell-loadtest" run --target "127.0.0.1:$port" --postgres-url "$BENCH_URL" --mode hit-only \
        --duration "$SECONDS_EACH" --warmup 1 --connections "$CONNECTIONS" --threads "$THREADS" \
        --pipeline "$PIPELINE" --seed 1 --quiet --json "$WORK/$name.json" "$@" >"$WORK/$name.txt"
}
run redis "$REDIS_PORT" --preload
run twemproxy "$PROXY_PORT" --preload
run gateway "$GATEWAY_PORT"

python3 "$BENCH_DIR/results.py" compare "$WORK" "$SECONDS_EACH" "$CONNECTIONS" "$THREADS" "$PIPELINE" "$USERS"
say "done in $(( $(date +%s) - started_at )) s"
