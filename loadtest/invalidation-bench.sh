#!/usr/bin/env bash
# Issue 10, targets 4 and 5: what invalidation costs writers, and how fast it is.
#
#  write cost: pgbench, 8 clients, single-row `UPDATE users SET bio = … WHERE id = :id` over
#    100,000 users, BENCH_SECONDS each, BENCH_ROUNDS alternating rounds with the invalidation
#    triggers of users disabled and enabled, the gateway (release build) running and
#    listening throughout. Prints each round, the medians and their ratio (target >= 0.8).
#    A third arm (BENCH_COMPARE_006=1, the default) runs the same writers against a second
#    database migrated only up to 006 (every statement notifies), with its own gateway.
#  lag: the same UPDATE at fixed rates (pgbench --rate, BENCH_LAG_RATES), a fresh gateway for
#    each rate; prints the achieved rate and INFO's invalidation lag p50/p99 (commit-side
#    trigger time to keys gone; target p99 <= 2 ms at 500 writes/s).
#
# Needs this checkout's PostgreSQL and Redis running (make services). Knobs: BENCH_SECONDS (10)
# BENCH_ROUNDS (3) BENCH_LAG_RATES ("500 2000 5000") BENCH_CLIENTS (8) BENCH_DATABASE
# (quicksell_invalidation_bench) BENCH_REDIS_DB (47) BENCH_SKIP_BUILD (unset).
# Stops what it started (the gateway), by PID, on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$QUICKSELL_ROOT"

SECONDS_EACH="${BENCH_SECONDS:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
LAG_RATES="${BENCH_LAG_RATES:-500 2000 5000}"
CLIENTS="${BENCH_CLIENTS:-8}"
DATABASE="${BENCH_DATABASE:-quicksell_invalidation_bench}"
COMPARE_006="${BENCH_COMPARE_006:-1}"
DATABASE_006="${DATABASE}_006"
REDIS_DB="${BENCH_REDIS_DB:-47}"
SCRATCH=".build-release"
BENCH_URL="postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/${DATABASE}"
PSQL=("$QUICKSELL_PG_BIN/psql" "$BENCH_URL" -qAt -v ON_ERROR_STOP=1)
PGBENCH="$QUICKSELL_PG_BIN/pgbench"

say() { echo "invalidation-bench: $*" >&2; }

WORK="$(mktemp -d /tmp/quicksell-invalidation-bench.XXXXXX)"
GATEWAY_PID=""
stop_gateway() {
    if [ -n "$GATEWAY_PID" ]; then
        kill "$GATEWAY_PID" 2>/dev/null || true
        wait "$GATEWAY_PID" 2>/dev/null || true
        GATEWAY_PID=""
    fi
}
GATEWAY_006_PID=""
cleanup() {
    stop_gateway
    if [ -n "$GATEWAY_006_PID" ]; then kill "$GATEWAY_006_PID" 2>/dev/null || true; wait "$GATEWAY_006_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    say "building (release, --scratch-path $SCRATCH)"
    swift build -c release --scratch-path "$SCRATCH" --product quicksell-gateway >&2
    swift build -c release --scratch-path "$SCRATCH" --product quicksell-cache >&2
fi
BIN="$SCRATCH/release"

prepare_database() {  # name schema-dir
    local name=$1 dir=$2 url="postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/$1"
    local exists
    exists=$("$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")
    [ "$exists" = "1" ] || "$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -qc "CREATE DATABASE $name"
    "$BIN/quicksell-cache" migrate --postgres-url "$url" --schema-dir "$dir" >&2
    "$QUICKSELL_PG_BIN/psql" "$url" -qAt -v ON_ERROR_STOP=1 -c "INSERT INTO users (username, email, password_hash, bio)
        SELECT 'bench' || g, 'bench' || g || '@example.com', 'x', 'bio'
        FROM generate_series(1, 100000 - (SELECT count(*) FROM users)) g" \
        -c "TRUNCATE cache_invalidations" -c "VACUUM ANALYZE users"
}
prepare_database "$DATABASE" config/schema
if [ "$COMPARE_006" = "1" ]; then
    mkdir -p "$WORK/schema-006"
    cp config/schema/00[1-6]_*.sql "$WORK/schema-006/"
    prepare_database "$DATABASE_006" "$WORK/schema-006"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GATEWAY_PORT=""
start_gateway() {  # [database] [redis db]
    local database=${1:-$DATABASE} redis_db=${2:-$REDIS_DB}
    GATEWAY_PORT=$(free_port)
    redis-cli -h 127.0.0.1 -p "$QUICKSELL_REDIS_PORT" -n "$redis_db" FLUSHDB >/dev/null
    "$BIN/quicksell-gateway" --config config/gateway.yaml --host 127.0.0.1 --port "$GATEWAY_PORT" --metrics-port "$(free_port)" \
        --redis-url "$QUICKSELL_REDIS_URL/$redis_db" --postgres-url "postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/$database" \
        --log-level warning >>"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    for _ in $(seq 1 100); do
        [ "$(info listener_connected)" = "1" ] && return 0
        sleep 0.1
    done
    say "the gateway's listener did not connect; log:"; cat "$WORK/gateway.log" >&2; exit 1
}
info() { redis-cli -h 127.0.0.1 -p "$GATEWAY_PORT" INFO invalidation 2>/dev/null | tr -d '\r' | sed -n "s/^$1://p"; }

cat > "$WORK/update.sql" <<'SQL'
\set id random(1, 100000)
UPDATE users SET bio = 'bench ' || :id WHERE id = :id;
SQL
TRIGGERS=(trg_users_invalidate_insert trg_users_invalidate_update trg_users_invalidate_delete)
triggers() {  # ENABLE | DISABLE
    for name in "${TRIGGERS[@]}"; do "${PSQL[@]}" -c "ALTER TABLE users $1 TRIGGER $name"; done
}
pgbench_tps() {  # database, extra pgbench args…
    local database=$1; shift
    "$PGBENCH" -h 127.0.0.1 -p "$QUICKSELL_PG_PORT" -U postgres -n -M prepared -c "$CLIENTS" -j 2 \
        -T "$SECONDS_EACH" -f "$WORK/update.sql" "$@" "$database" 2>&1 | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

if [ "$COMPARE_006" = "1" ]; then
    start_gateway "$DATABASE_006" $((REDIS_DB - 1))
    GATEWAY_006_PID=$GATEWAY_PID
fi
start_gateway
say "write cost: $ROUNDS rounds x (triggers off, 007 triggers on${GATEWAY_006_PID:+, 006 triggers}), $CLIENTS clients, ${SECONDS_EACH} s each"
off=(); on=(); old=()
for round in $(seq 1 "$ROUNDS"); do
    triggers DISABLE; off+=("$(pgbench_tps "$DATABASE")")
    triggers ENABLE; on+=("$(pgbench_tps "$DATABASE")")
    if [ -n "$GATEWAY_006_PID" ]; then old+=("$(pgbench_tps "$DATABASE_006")"); fi
    echo "round $round: triggers off ${off[-1]} tps, 007 on ${on[-1]} tps${GATEWAY_006_PID:+, 006 on ${old[-1]:-} tps}" >&2
done
notifications=$(info notifications_received)
stop_gateway
if [ -n "$GATEWAY_006_PID" ]; then
    kill "$GATEWAY_006_PID" 2>/dev/null || true; wait "$GATEWAY_006_PID" 2>/dev/null || true; GATEWAY_006_PID=""
fi
"${PSQL[@]}" -c "TRUNCATE cache_invalidations"

lag_lines=()
for rate in $LAG_RATES; do
    start_gateway
    tps=$(pgbench_tps "$DATABASE" --rate "$rate")
    lag_lines+=("$(printf '%-8s %10s %9s %9s %9s %8s %14s' "$rate" "$tps" "$(info invalidation_lag_p50_usec)" \
        "$(info invalidation_lag_p99_usec)" "$(info invalidation_lag_max_usec)" "$(info invalidation_lag_samples)" \
        "$(info notifications_received)")")
    stop_gateway
    "${PSQL[@]}" -c "TRUNCATE cache_invalidations"
done

python3 - "${off[*]}" "${on[*]}" "$notifications" "${old[*]:-}" <<'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
old = [float(x) for x in sys.argv[4].split()] if len(sys.argv) > 4 and sys.argv[4].strip() else []
mo, mn = statistics.median(off), statistics.median(on)
ratio = mn / mo
print("write cost (8 single-row UPDATE writers, gateway listening)")
print(f"  triggers off:   {' '.join(f'{x:.0f}' for x in off)} tps, median {mo:.0f}")
print(f"  007 (doorbell): {' '.join(f'{x:.0f}' for x in on)} tps, median {mn:.0f}, ratio {ratio:.2f}"
      f" (target >= 0.80: {'PASS' if ratio >= 0.8 else 'FAIL'}); notifications received {sys.argv[3]}")
if old:
    mold = statistics.median(old)
    print(f"  006 (NOTIFY every statement): {' '.join(f'{x:.0f}' for x in old)} tps, median {mold:.0f}, ratio {mold / mo:.2f}")
PY
echo "invalidation lag (commit-side trigger time to keys gone), a fresh gateway per rate"
printf '%-8s %10s %9s %9s %9s %8s %14s\n' "rate/s" "tps" "p50 us" "p99 us" "max us" "samples" "notifications"
printf '%s\n' "${lag_lines[@]}"
