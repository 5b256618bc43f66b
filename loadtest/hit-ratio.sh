#!/usr/bin/env bash
# Targets 1 and 2 of issue 10 only, quickly and side by side: one redis-server, nutcracker
# (twemproxy) in front of it and one or more gateways on the same Redis, warm ~400-byte keys
# exactly as the bench suite loads them (loadtest/bench/hits.sh), then alternating rounds
# of `redis-benchmark -c 50 -P 1 GET` and `-P 16` (twemproxy, gateway A, gateway B, …).
# Prints every measurement and, at the end, medians and each gateway's ratios to twemproxy.
# Several gateways in one run compare a change with its baseline in the same period, which a
# shared, noisy machine needs. Stops everything it started, by PID, on exit. Needs this
# checkout's PostgreSQL (make services); migrates its database with the release build.
#
# Knobs: HIT_ROUNDS (5), HIT_KEYS (100000), HIT_REQUESTS_P1 (200000), HIT_REQUESTS_P16
# (1000000), HIT_DEPTHS ("1 16"), HIT_SCRATCH_PATH (.build-release), HIT_SKIP_BUILD (0),
# HIT_GATEWAYS: space-separated name=bin-dir[:extra gateway args with commas], e.g.
#   HIT_GATEWAYS="main=/tmp/main-bin new=.build-release/release one=.build-release/release:--threads,1"
# (default: "gateway=" this checkout's release build, default arguments).
source "$(dirname "${BASH_SOURCE[0]}")/bench/prologue.sh" hit-ratio

read_knobs <<'KNOBS'
ROUNDS           HIT_ROUNDS       5
HIT_KEYS         HIT_KEYS         100000
HIT_REQUESTS_P1  HIT_REQUESTS_P1  200000
HIT_REQUESTS_P16 HIT_REQUESTS_P16 1000000
DEPTHS           HIT_DEPTHS       1 16
SCRATCH          HIT_SCRATCH_PATH .build-release
KNOBS
for tool in redis-server redis-cli redis-benchmark nutcracker curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh (nutcracker: apt-get install nutcracker)"
done
"$QUICKSELL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$QUICKSELL_PG_PORT" \
    || die "no PostgreSQL on 127.0.0.1:$QUICKSELL_PG_PORT: start it with make services"

source "$BENCH_DIR/processes.sh"
source "$BENCH_DIR/hits.sh"
WORK="$(mktemp -d /tmp/quicksell-hit-ratio.XXXXXX)"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
trap 'bench_stop_all; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

if [ "${HIT_SKIP_BUILD:-0}" != 1 ]; then
    say "building (release, $SCRATCH)"
    for product in quicksell-gateway quicksell-cache; do
        swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2
    done
fi
OWN_BIN="$SCRATCH/release"
BENCH_URL="$QUICKSELL_POSTGRES_URL"
"$OWN_BIN/quicksell-cache" migrate --postgres-url "$BENCH_URL" >"$WORK/migrate.txt" 2>&1 \
    || die "migrating $BENCH_URL failed: $(tail -n 3 "$WORK/migrate.txt")"

start_redis
start_twemproxy
NAMES=()
declare -A PORTS
for spec in ${HIT_GATEWAYS:-gateway=$OWN_BIN}; do
    name="${spec%%=*}"; rest="${spec#*=}"
    BIN="${rest%%:*}"
    extra=""; [ "$rest" != "$BIN" ] && extra="${rest#*:}"
    [ -x "$BIN/quicksell-gateway" ] || die "$BIN/quicksell-gateway is missing (gateway '$name')"
    IFS=',' read -r -a GATEWAY_EXTRA_ARGS <<<"$extra"
    GATEWAY_PORT=""; METRICS_PORT=""
    GATEWAY_SLOT="quicksell_hit_$(echo "$name" | tr -c 'a-z0-9\n' '_')"  # one replication slot per gateway
    start_gateway
    NAMES+=("$name"); PORTS[$name]=$GATEWAY_PORT
    say "gateway $name: $BIN/quicksell-gateway ${GATEWAY_EXTRA_ARGS[*]} on 127.0.0.1:$GATEWAY_PORT (pid $GATEWAY_PID)"
done
GATEWAY_EXTRA_ARGS=()
unset GATEWAY_SLOT

# The gateways flush the families when they first see this Redis: pre-load once they are ready.
preload_hit_keys_into "$HIT_KEYS" "$REDIS_PORT"
check_same_hit_value "$REDIS_PORT" "$PROXY_PORT" "${PORTS[@]}"

bench_once() { # system port depth round
    local system=$1 port=$2 depth=$3 round=$4 requests=$HIT_REQUESTS_P1
    [ "$depth" = 1 ] || requests=$HIT_REQUESTS_P16
    local out="$WORK/P$depth-$system-$round.csv" errors0=0
    [ "$system" = twemproxy ] || errors0=$(info_field "$port" total_error_replies)
    local measured rps p99
    measured=$(redis_benchmark_get "$system" "$port" "$depth" "$requests" "$out") || exit 1
    read -r rps p99 <<<"$measured"
    if [ "$system" != twemproxy ]; then
        local errors=$(( $(info_field "$port" total_error_replies) - errors0 ))
        [ "$errors" -eq 0 ] || die "gateway $system: $errors error replies in round $round"
    fi
    say "  -P$depth $system: $rps req/s, p99 $p99 ms"
    python3 "$BENCH_DIR/results.py" record "$RESULTS" "hit_p$depth" "$system" "$round" rps "$rps" p99_ms "$p99" || exit 1
}

for round in $(seq 1 "$ROUNDS"); do
    say "round $round of $ROUNDS ($(uptime | sed 's/.*load/load/'))"
    for depth in $DEPTHS; do
        bench_once twemproxy "$PROXY_PORT" "$depth" "$round"
        for name in "${NAMES[@]}"; do bench_once "$name" "${PORTS[$name]}" "$depth" "$round"; done
    done
done

python3 "$BENCH_DIR/results.py" hit-ratio "$RESULTS" "$ROUNDS" "${NAMES[@]}"
