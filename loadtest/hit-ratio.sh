#!/usr/bin/env bash
# Targets 1 and 2 of issue 10 only, quickly and side by side: one redis-server, nutcracker
# (twemproxy) in front of it and one or more gateways on the same Redis, warm ~400-byte keys
# exactly as the bench suite loads them (loadtest/bench/targets.sh), then alternating rounds
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
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/bench" && pwd)"
source "$BENCH_DIR/../../scripts/env.sh"
cd "$QUICKSELL_ROOT"

say() { echo "hit-ratio: $*" >&2; }
die() { say "error: $*"; exit 1; }

ROUNDS="${HIT_ROUNDS:-5}"
HIT_KEYS="${HIT_KEYS:-100000}"
HIT_REQUESTS_P1="${HIT_REQUESTS_P1:-200000}"
HIT_REQUESTS_P16="${HIT_REQUESTS_P16:-1000000}"
DEPTHS="${HIT_DEPTHS:-1 16}"
SCRATCH="${HIT_SCRATCH_PATH:-.build-release}"
for tool in redis-server redis-cli redis-benchmark nutcracker curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh (nutcracker: apt-get install nutcracker)"
done
"$QUICKSELL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$QUICKSELL_PG_PORT" \
    || die "no PostgreSQL on 127.0.0.1:$QUICKSELL_PG_PORT: start it with make services"

source "$BENCH_DIR/processes.sh"
WORK="$(mktemp -d /tmp/quicksell-hit-ratio.XXXXXX)"
RESULTS="$WORK/results.txt"
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
say "pre-loading $HIT_KEYS ~400-byte values"
python3 "$BENCH_DIR/preload_hits.py" "$HIT_KEYS" | timeout 300 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --pipe >"$WORK/preload.txt" 2>&1 \
    || die "preloading Redis failed: $(tail -n 3 "$WORK/preload.txt")"
key="user:1000000000000"
direct=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" GET "$key")
[ -n "$direct" ] && [ "$direct" = "$(redis-cli -h 127.0.0.1 -p "$PROXY_PORT" GET "$key")" ] || die "$key differs via twemproxy"
for name in "${NAMES[@]}"; do
    [ "$direct" = "$(redis-cli -h 127.0.0.1 -p "${PORTS[$name]}" GET "$key")" ] || die "$key differs via gateway $name"
done

bench_once() { # system port depth round
    local system=$1 port=$2 depth=$3 round=$4 requests=$HIT_REQUESTS_P1
    [ "$depth" = 1 ] || requests=$HIT_REQUESTS_P16
    local out="$WORK/P$depth-$system-$round.csv" errors0=0
    [ "$system" = twemproxy ] || errors0=$(info_field "$port" total_error_replies)
    timeout 600 redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -P "$depth" -n "$requests" -r "$HIT_KEYS" \
        --csv GET 'user:1__rand_int__' >"$out" 2>"$out.err" || die "redis-benchmark against $system failed: $(tail -n 3 "$out.err")"
    local line
    line=$(grep '^"GET' "$out") || die "redis-benchmark against $system printed no result: $(head -c 300 "$out")"
    if [ "$system" != twemproxy ]; then
        local errors=$(( $(info_field "$port" total_error_replies) - errors0 ))
        [ "$errors" -eq 0 ] || die "gateway $system: $errors error replies in round $round"
    fi
    local rps p99
    rps=$(echo "$line" | awk -F'","' '{ print $2 }')
    p99=$(echo "$line" | awk -F'","' '{ print $7 }')
    say "  -P$depth $system: $rps req/s, p99 $p99 ms"
    echo "$depth $system $round $rps $p99" >>"$RESULTS"
}

for round in $(seq 1 "$ROUNDS"); do
    say "round $round of $ROUNDS ($(uptime | sed 's/.*load/load/'))"
    for depth in $DEPTHS; do
        bench_once twemproxy "$PROXY_PORT" "$depth" "$round"
        for name in "${NAMES[@]}"; do bench_once "$name" "${PORTS[$name]}" "$depth" "$round"; done
    done
done

python3 - "$RESULTS" "$ROUNDS" "${NAMES[@]}" <<'PY'
import statistics, sys
path, rounds, names = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [line.split() for line in open(path)]
def median(depth, system, column):
    return statistics.median(float(r[column]) for r in rows if r[0] == depth and r[1] == system)
for depth in sorted({r[0] for r in rows}, key=int):
    base_rps, base_p99 = median(depth, "twemproxy", 3), median(depth, "twemproxy", 4)
    print(f"-P{depth} medians of {rounds} rounds: twemproxy {base_rps:,.0f} req/s, p99 {base_p99:.3f} ms")
    for name in names:
        rps, p99 = median(depth, name, 3), median(depth, name, 4)
        # Per-round ratios (same round, seconds apart) cancel most of the load of other users.
        pairs = [(float(r[3]) / float(t[3]), float(r[4]) / float(t[4]))
                 for r in rows if r[0] == depth and r[1] == name
                 for t in rows if t[0] == depth and t[1] == "twemproxy" and t[2] == r[2]]
        rps_ratio = statistics.median(p[0] for p in pairs)
        p99_ratio = statistics.median(p[1] for p in pairs)
        wins = sum(1 for p in pairs if p[0] >= 1.0)
        print(f"  {name}: {rps:,.0f} req/s ({rps / base_rps:.3f}x), p99 {p99:.3f} ms ({p99 / base_p99:.2f}x); "
              f"median per-round ratios: req/s {rps_ratio:.3f}x, p99 {p99_ratio:.2f}x; rounds >= 1.0x: {wins}")
PY
