#!/usr/bin/env bash
# The benchmark suite of issue 10: measures the six performance targets of the gateway (and 7, TLS)
# against their baselines in ONE invocation and prints one table (target, our figure,
# baseline figure, ratio, required, PASS/FAIL), also written as JSON and Markdown.
#
#   1-2 hit path  redis-benchmark -c 50 -P 1 / -P 16 GET of warm ~400-byte values through
#                 direct Redis, twemproxy (Debian's nutcracker) and the gateway
#   3   miss path quicksell-loadtest --mode miss-only (every GET a distinct cold key, 50
#                 clients) vs pgbench (8 clients, prepared) of the same point query
#   4   invalidation lag p99 at 500 writes/s (pgbench --rate) and at the highest rate, for
#       each invalidation source (wal: the replication stream; notify: LISTEN/NOTIFY)
#   5   write cost: 8 UPDATE writers with the triggers feeding each source vs without any
#   6   memory: RSS with N idle connections; RSS trend over a steady load-test run
#   7   hit path over TLS: redis-benchmark --tls against the gateway's TLS port beside its
#       plaintext port, -P 1 and -P 16 (informative: TLS costs what it costs)
#
# Each target runs ROUNDS alternating rounds (A, B, C, A, B, C, …); figures are medians.
# It starts its own redis-server, nutcracker and gateway on free loopback ports, seeds a
# dedicated database in this checkout's PostgreSQL (make services; `make bench` does it),
# and stops everything it started, by PID, on exit.
#
# BENCH_MODE=full (default, `make bench`): release build, 3 rounds, about 17 minutes;
# exit 0 when every judged target passes, 3 when one fails, 1 on an error.
# BENCH_MODE=short (`make bench-short`, run by `make test`): debug build, one brief round
# of every target, 500 idle connections, a 20 s steady run; it fails only on errors and
# crashes, never on ratios.
#
# Knobs (defaults full/short): BENCH_ROUNDS (3/1), BENCH_USERS (100000/20000),
# BENCH_HIT_KEYS (100000/20000), BENCH_IDLE_CLIENTS (5000/500), BENCH_RSS_SECONDS (300/20),
# BENCH_CONFIG (release/debug), BENCH_SCRATCH_PATH (.build-release/.build),
# BENCH_SKIP_BUILD (0), BENCH_DATABASE (quicksell_bench/quicksell_bench_short), BENCH_OUT (bench-results),
# BENCH_TARGETS ("1 2 3 4 5 6 7": the targets to run, e.g. "4 5"; 1 and 2 run together).
source "$(dirname "${BASH_SOURCE[0]}")/bench/prologue.sh" bench

# Each setting's full and short default; its BENCH_ knob, where it has one, wins.
read_mode_settings BENCH_MODE <<'SETTINGS'
ROUNDS            3        1      BENCH_ROUNDS
USERS             100000   20000  BENCH_USERS
HIT_KEYS          100000   20000  BENCH_HIT_KEYS
HIT_REQUESTS_P1   200000   20000  -
HIT_REQUESTS_P16  1000000  50000  -
PG_SECONDS        10       3      -
LAG_SECONDS       10       3      -
LAG_DRAIN_LIMIT   120      120    -
IDLE_CLIENTS      5000     500    BENCH_IDLE_CLIENTS
IDLE_SETTLE       3        1      -
RSS_SECONDS       300      20     BENCH_RSS_SECONDS
RSS_WARMUP        30       3      -
RSS_WINDOW        60       6      -
RSS_INTERVAL      5        1      -
CONFIG            release  debug  BENCH_CONFIG
SEED_USERS        1000     200    -
SETTINGS
case "$CONFIG" in
    release) SCRATCH="${BENCH_SCRATCH_PATH:-.build-release}" ;;
    debug) SCRATCH="${BENCH_SCRATCH_PATH:-.build}" ;;
    *) die "BENCH_CONFIG must be release or debug, got '$CONFIG'" ;;
esac
[ "$ROUNDS" -ge 1 ] || die "BENCH_ROUNDS must be at least 1, got '$ROUNDS'"
[ "$USERS" -ge 1000 ] || die "BENCH_USERS must be at least 1000, got '$USERS'"
TARGETS="${BENCH_TARGETS:-1 2 3 4 5 6 7}"
TARGETS="${TARGETS//,/ }"
[[ "$TARGETS" =~ ^[[:space:]]*[1-7]([[:space:]]+[1-7])*[[:space:]]*$ ]] \
    || die "BENCH_TARGETS must list target numbers 1 to 7, got '${BENCH_TARGETS:-}'"
# Whether this run measures target $1.
wants() { [[ " $TARGETS " == *" $1 "* ]]; }
# The short mode keeps its own, smaller database (the full mode's 100,000 users would make
# its miss path, every user once on a debug build, take minutes).
DATABASE="${BENCH_DATABASE:-$([ "$MODE" = full ] && echo quicksell_bench || echo quicksell_bench_short)}"
[[ "$DATABASE" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DATABASE must be a plain lower-case name, got '$DATABASE'"
BENCH_URL="postgresql://postgres@127.0.0.1:${QUICKSELL_PG_PORT}/${DATABASE}"
OUT_DIR="${BENCH_OUT:-$QUICKSELL_ROOT/bench-results}"
started_at=$SECONDS
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

source "$BENCH_DIR/processes.sh"
source "$BENCH_DIR/database.sh"
source "$BENCH_DIR/hits.sh"
source "$BENCH_DIR/targets.sh"
source "$BENCH_DIR/tls.sh"

for tool in redis-server redis-cli redis-benchmark curl python3 openssl; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done
[ -x "$QUICKSELL_PG_BIN/pgbench" ] || die "pgbench not found in $QUICKSELL_PG_BIN: run scripts/install-deps.sh"
ensure_nutcracker
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
    if [ -n "${DATABASE_READY:-}" ]; then
        enable_user_invalidation_triggers 2>/dev/null || true
        set_invalidation_emitters both 2>/dev/null || true
    fi
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
if wants 7; then enable_gateway_tls; fi
start_gateway
say "redis 127.0.0.1:$REDIS_PORT, twemproxy 127.0.0.1:$PROXY_PORT, gateway 127.0.0.1:$GATEWAY_PORT (pid $GATEWAY_PID)"

if wants 1 || wants 2 || wants 7; then preload_hit_keys; fi
if wants 1 || wants 2; then bench_hit_paths; fi
if wants 7; then bench_hit_paths_tls; fi
if wants 3; then bench_miss_path; fi
if wants 4; then bench_invalidation_lag; fi
if wants 5; then bench_write_cost; fi
if wants 6; then
    bench_idle_memory
    bench_steady_memory
fi

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- 2>/dev/null || commit="$commit+uncommitted"
mkdir -p "$OUT_DIR"
python3 "$BENCH_DIR/results.py" meta "$WORK/meta.json" --mode "$MODE" --rounds "$ROUNDS" --commit "$commit" \
    --users "$USERS" --hit-keys "$HIT_KEYS" --idle-clients "$IDLE_CLIENTS" --rss-seconds "$RSS_SECONDS" \
    --rss-warmup "$RSS_WARMUP" --rss-window "$RSS_WINDOW" --config "$CONFIG" --pg-bin "$QUICKSELL_PG_BIN" \
    --targets "$(echo $TARGETS)" --load-average "$LOAD_AT_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
    || die "cannot write the run's facts"
status=0
python3 "$BENCH_DIR/results.py" report "$RESULTS" "$WORK/meta.json" "$OUT_DIR/bench-$MODE.json" "$OUT_DIR/bench-$MODE.md" || status=$?
say "table written to $OUT_DIR/bench-$MODE.json and .md; done in $((SECONDS - started_at)) s"
exit "$status"
