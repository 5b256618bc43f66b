#!/usr/bin/env bash
# Runs the same hit-only workload against the gateway, direct Redis and twemproxy (Debian's
# nutcracker), one after another on loopback, and prints a side-by-side table with ratios to
# direct Redis. Starts a private redis-server and nutcracker on free ports and the gateway
# (release build) on its own Redis database index, seeds a dedicated PostgreSQL database,
# and stops everything it started, by PID, on exit.
#
# Needs this checkout's PostgreSQL and Redis running (make services). Environment knobs:
#   BENCH_SECONDS (10)  BENCH_USERS (2000)  BENCH_CONNECTIONS (8)  BENCH_THREADS (2)
#   BENCH_PIPELINE (4)  BENCH_CONFIG (release)  BENCH_DATABASE (quicksell_bench)  BENCH_REDIS_DB (48)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$QUICKSELL_ROOT"

SECONDS_EACH="${BENCH_SECONDS:-10}"
USERS="${BENCH_USERS:-2000}"
CONNECTIONS="${BENCH_CONNECTIONS:-8}"
THREADS="${BENCH_THREADS:-2}"
PIPELINE="${BENCH_PIPELINE:-4}"
CONFIG="${BENCH_CONFIG:-release}"
DATABASE="${BENCH_DATABASE:-quicksell_bench}"
REDIS_DB="${BENCH_REDIS_DB:-48}"
BENCH_URL="postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/${DATABASE}"
started_at=$(date +%s)

say() { echo "compare: $*" >&2; }

if ! command -v nutcracker >/dev/null; then
    say "installing nutcracker (twemproxy)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nutcracker >/dev/null
fi

WORK="$(mktemp -d /tmp/quicksell-compare.XXXXXX)"
PIDS=()
SLOT="${DATABASE}_compare"
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    # The gateway's replication slot would keep the server's WAL: drop it (its WAL sender
    # may take a moment to exit).
    for _ in $(seq 1 50); do
        "$QUICKSELL_PG_BIN/psql" "$BENCH_URL" -qAtc "SELECT pg_drop_replication_slot(slot_name)
            FROM pg_replication_slots WHERE slot_name = '$SLOT' AND NOT active" >/dev/null 2>&1 || true
        [ "$("$QUICKSELL_PG_BIN/psql" "$BENCH_URL" -qAtc \
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'" 2>/dev/null)" != "0" ] || break
        sleep 0.1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ping() {
    for _ in $(seq 1 100); do
        [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = "PONG" ] && return 0
        sleep 0.1
    done
    say "nothing answers PING on port $1 ($2)"; return 1
}

say "building ($CONFIG)"
swift build -c "$CONFIG" --product quicksell-gateway >&2
swift build -c "$CONFIG" --product quicksell-loadtest >&2
swift build -c "$CONFIG" --product quicksell-cache >&2
BIN="$(swift build -c "$CONFIG" --show-bin-path)"

say "seeding $DATABASE ($USERS users, only if empty)"
psql_exists=$("$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
[ "$psql_exists" = "1" ] || "$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -qc "CREATE DATABASE $DATABASE"
"$BIN/quicksell-cache" migrate --postgres-url "$BENCH_URL" >&2
"$BIN/quicksell-loadtest" seed --postgres-url "$BENCH_URL" --users "$USERS" --seed 1 --if-empty >&2

REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" >/dev/null &
PIDS+=($!)
wait_ping "$REDIS_PORT" redis-server

PROXY_PORT=$(free_port)
cat > "$WORK/nutcracker.yml" <<YAML
bench:
  listen: 127.0.0.1:$PROXY_PORT
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  timeout: 2000
  servers:
   - 127.0.0.1:$REDIS_PORT:1
YAML
nutcracker -c "$WORK/nutcracker.yml" -o "$WORK/nutcracker.log" -s "$(free_port)" &
PIDS+=($!)
wait_ping "$PROXY_PORT" nutcracker

GATEWAY_PORT=$(free_port)
redis-cli -h 127.0.0.1 -p "$QUICKSELL_REDIS_PORT" -n "$REDIS_DB" FLUSHDB >/dev/null
"$BIN/quicksell-gateway" --config config/gateway.yaml --host 127.0.0.1 --port "$GATEWAY_PORT" \
    --redis-url "$QUICKSELL_REDIS_URL/$REDIS_DB" --postgres-url "$BENCH_URL" --replication-slot "$SLOT" --log-level warning \
    >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
wait_ping "$GATEWAY_PORT" quicksell-gateway

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

python3 - "$WORK" "$SECONDS_EACH" "$CONNECTIONS" "$THREADS" "$PIPELINE" "$USERS" <<'PY'
import json, sys
work, secs, conns, threads, depth, users = sys.argv[1:]
rows = [(n, json.load(open(f"{work}/{n}.json"))) for n in ("redis", "twemproxy", "gateway")]
base = rows[0][1]
print(f"hit-only, {secs} s each, {conns} connections, {threads} threads, pipeline {depth}, zipf 0.99, {users} users")
print(f"{'target':<11}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'errors':>8}{'hit rate':>10}{'req/s ratio':>13}{'p99 ratio':>11}")
for name, r in rows:
    lat = r["latency"]
    hit = r.get("gatewayHitRate")
    errors = sum(r["errors"].values())
    print(f"{name:<11}{r['throughput']:>10.0f}{lat['p50Micros']/1000:>9.3f}{lat['p99Micros']/1000:>9.3f}"
          f"{lat['p999Micros']/1000:>10.3f}{errors:>8}{(f'{hit*100:.2f}%' if hit is not None else 'n/a'):>10}"
          f"{r['throughput']/base['throughput']:>13.2f}{lat['p99Micros']/max(1, base['latency']['p99Micros']):>11.2f}")
PY
say "done in $(( $(date +%s) - started_at )) s"
