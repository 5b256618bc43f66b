#!/usr/bin/env bash
# The soak of issue 22 (`make soak`): the load tool's workload with writes and its staleness
# verifier runs against one gateway process for SOAK_MINUTES (default 30) while a schedule of
# bounded faults repeats: Redis restart, PostgreSQL restart, listener kill, a silent Redis
# (SIGSTOP for SOAK_PARTITION_SECONDS, then SIGCONT: a partition without a reset), a bulk
# UPDATE of SOAK_BULK_ROWS listings. It samples the gateway's RSS every SOAK_RSS_INTERVAL s
# and reports RSS over time, each fault's error window and recovery, and the verifier's counts
# (loadtest/soak/report.py, written to bench-results/soak-<date>.txt and .json). It fails
# (exit 3) on any stale read, a crash of the gateway, or RSS growth beyond 10%; exit 1 on an
# error of the soak itself.
#
# Everything runs on private servers: its own Redis and PostgreSQL (scripts/services.sh with a
# data folder and free ports of its own, so the faults never touch this checkout's services or
# the test suites'), and its own gateway; every process is stopped on exit.
#
# SOAK_MODE=full (default, `make soak`) or short (`make test`: 50 s of load, each fault
# once, RSS reported but not judged). Knobs (full/short defaults): SOAK_MINUTES (30) or
# SOAK_SECONDS (-/50), SOAK_GAP_SECONDS between faults (20/4), SOAK_PARTITION_SECONDS (10/5),
# SOAK_BULK_ROWS (100000/20000), SOAK_USERS seeded (1000/200), SOAK_WRITE_RATE (50/50),
# SOAK_VERIFY share of reads verified (0.02/0.05), SOAK_STALE_SECONDS a read may differ from
# PostgreSQL before it is stale (30/30), SOAK_RSS_INTERVAL (5/1), SOAK_CONFIG (release when
# .build-release/release/quicksell-gateway exists, else debug), SOAK_TAIL_SECONDS of load after the last fault (30/8), SOAK_SKIP_BUILD (0), SOAK_KEEP=1 (keep the logs of a passing run),
# SOAK_OUT (bench-results).
source "$(dirname "${BASH_SOURCE[0]}")/bench/prologue.sh" soak

read_mode_settings SOAK_MODE <<'SETTINGS'
GAP_SECONDS        20      4      SOAK_GAP_SECONDS
PARTITION_SECONDS  10      5      SOAK_PARTITION_SECONDS
BULK_ROWS          100000  20000  SOAK_BULK_ROWS
SEED_USERS         1000    200    SOAK_USERS
WRITE_RATE         50      50     SOAK_WRITE_RATE
VERIFY             0.02    0.05   SOAK_VERIFY
STALE_SECONDS      30      30     SOAK_STALE_SECONDS
RSS_INTERVAL       5       1      SOAK_RSS_INTERVAL
TAIL_SECONDS       30      8      SOAK_TAIL_SECONDS
SETTINGS
if [ -n "${SOAK_SECONDS:-}" ]; then
    RUN_SECONDS=$SOAK_SECONDS
elif [ -n "${SOAK_MINUTES:-}" ] || [ "$MODE" = full ]; then
    RUN_SECONDS=$(( ${SOAK_MINUTES:-30} * 60 ))
else
    RUN_SECONDS=50
fi
[[ "$RUN_SECONDS" =~ ^[0-9]+$ ]] && [ "$RUN_SECONDS" -ge 30 ] || die "the soak must last at least 30 s, got '$RUN_SECONDS'"
# The stale bound: the longest lag the README states (a 100,000-row UPDATE on a busy machine,
# BulkUpdateBound in the tests); a value still served after it is a lost invalidation.
CONFIG="${SOAK_CONFIG:-$([ -x .build-release/release/quicksell-gateway ] && echo release || echo debug)}"
case "$CONFIG" in
    release) BIN=.build-release/release; BUILD_ARGS=(-c release --scratch-path .build-release) ;;
    debug) BIN=.build/debug; BUILD_ARGS=() ;;
    *) die "SOAK_CONFIG must be release or debug, got '$CONFIG'" ;;
esac
OUT_DIR="${SOAK_OUT:-$QUICKSELL_ROOT/bench-results}"
for tool in redis-server redis-cli curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done

WORK="$(mktemp -d /tmp/quicksell-soak.XXXXXX)"
# PostgreSQL runs as the postgres user when we are root: it must reach its data folder here,
# or services.sh would fall back to this checkout's own folder under /tmp.
chmod 755 "$WORK"
source "$BENCH_DIR/processes.sh"
source "$BENCH_DIR/../soak/faults.sh"

# The private servers: services.sh with a data folder and ports of their own.
export QUICKSELL_DATA_DIR="$WORK/services"
QUICKSELL_REDIS_PORT=$(free_port)
QUICKSELL_PG_PORT=$(free_port)
QUICKSELL_PG_DATABASE=quicksell_soak
export QUICKSELL_REDIS_PORT QUICKSELL_PG_PORT QUICKSELL_PG_DATABASE
source "$QUICKSELL_ROOT/scripts/env.sh"
REDIS_PORT=$QUICKSELL_REDIS_PORT
DATABASE=$QUICKSELL_PG_DATABASE
BENCH_URL=$QUICKSELL_POSTGRES_URL

services() { "$QUICKSELL_ROOT/scripts/services.sh" "$@" >>"$WORK/services.log" 2>&1; }
cleanup() {
    local status=$?
    [ -z "${REDIS_STOPPED_PID:-}" ] || kill -CONT "$REDIS_STOPPED_PID" 2>/dev/null || true
    bench_stop_all
    services stop || true
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
        say "failed; logs kept in $WORK"
    elif [ "$status" -eq 3 ]; then
        say "soak failed its checks; logs kept in $WORK"
    elif [ "${SOAK_KEEP:-0}" = 1 ]; then
        say "logs kept in $WORK (SOAK_KEEP=1)"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${SOAK_SKIP_BUILD:-0}" != 1 ]; then
    say "building ($CONFIG)"
    for product in quicksell-gateway quicksell-loadtest quicksell-cache; do
        swift build ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"} --product "$product" >&2
    done
fi
for product in quicksell-gateway quicksell-loadtest quicksell-cache; do
    [ -x "$BIN/$product" ] || die "$BIN/$product is missing: build it (or drop SOAK_SKIP_BUILD)"
done

say "private redis :$REDIS_PORT and postgres :$QUICKSELL_PG_PORT in $WORK"
services start || die "the private services did not start: $(tail -n 5 "$WORK/services.log")"
soak_prepare_database
start_gateway
say "gateway pid $GATEWAY_PID on :$GATEWAY_PORT ($CONFIG); $RUN_SECONDS s of load, a fault every ~$GAP_SECONDS s"

: >"$WORK/faults.txt"
: >"$WORK/rss.txt"
"$BIN/quicksell-loadtest" run --target "127.0.0.1:$GATEWAY_PORT" --postgres-url "$BENCH_URL" \
    --duration "$RUN_SECONDS" --warmup 0 --connections 8 --threads 2 --pipeline 4 \
    --write-rate "$WRITE_RATE" --verify "$VERIFY" --verify-patience "$STALE_SECONDS" --quiet \
    --json "$WORK/load.json" >"$WORK/load.txt" 2>&1 &
LOAD_PID=$!
BENCH_PIDS+=("$LOAD_PID")
LOAD_STARTED=$(date +%s.%N)

soak_sample_rss &
SAMPLER_PID=$!
BENCH_PIDS+=("$SAMPLER_PID")
soak_run_faults "$LOAD_STARTED" "$RUN_SECONDS"

load_status=0
wait "$LOAD_PID" || load_status=$?
forget_pid "$LOAD_PID"
bench_stop_pid "$SAMPLER_PID"
crashed=0
kill -0 "$GATEWAY_PID" 2>/dev/null || crashed=1
redis-cli -h 127.0.0.1 -p "$GATEWAY_PORT" INFO all 2>/dev/null | tr -d '\r' >"$WORK/info.txt" || true
[ "$load_status" -eq 0 ] || [ -s "$WORK/load.json" ] \
    || die "the load tool failed (exit $load_status): $(tail -n 5 "$WORK/load.txt")"
tail -n 30 "$WORK/gateway.log" >"$WORK/gateway-tail.txt" 2>/dev/null || true

mkdir -p "$OUT_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
status=0
python3 "$QUICKSELL_ROOT/loadtest/soak/report.py" --work "$WORK" --mode "$MODE" --config "$CONFIG" \
    --seconds "$RUN_SECONDS" --crashed "$crashed" --load-status "$load_status" \
    --stale-seconds "$STALE_SECONDS" --bulk-rows "$BULK_ROWS" \
    --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    --load-average "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --out "$OUT_DIR/soak-$MODE-$stamp" || status=$?
exit "$status"
