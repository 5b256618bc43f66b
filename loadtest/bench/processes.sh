# Sourced by loadtest/bench.sh: starts the benchmark's private processes and stops them.
# Every process started here is recorded by PID and stopped by the EXIT trap, by PID only.
# Everything binds 127.0.0.1.

BENCH_PIDS=()

bench_stop_all() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    BENCH_PIDS=()
    drop_gateway_slots
}

# The replication slot of the next gateway started (slot names are server-wide: one per bench
# database unless GATEWAY_SLOT names another), and the slots of the gateways started so far.
BENCH_SLOTS=()
gateway_slot() { echo "${GATEWAY_SLOT:-${DATABASE:-quicksell_profile}_gateway}"; }

# Drops the gateways' replication slots once the gateways have stopped: a slot left behind
# would keep the server's WAL (a WAL sender takes a moment to exit, hence the retries).
drop_gateway_slots() {
    [ -n "${BENCH_URL:-}" ] && [ "${#BENCH_SLOTS[@]}" -gt 0 ] || return 0
    local names left
    names=$(printf "'%s'," "${BENCH_SLOTS[@]}"); names=${names%,}
    for _ in $(seq 1 50); do
        left=$("$QUICKSELL_PG_BIN/psql" "$BENCH_URL" -qAtc "SELECT count(pg_drop_replication_slot(slot_name) IS NULL)
            FROM pg_replication_slots WHERE slot_name IN ($names) AND NOT active;
            SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ($names)" 2>/dev/null | tail -n 1)
        [ "$left" != "0" ] || { BENCH_SLOTS=(); return 0; }
        sleep 0.1
    done
    echo "bench: warning: replication slot(s) $names still in use; drop them with pg_drop_replication_slot" >&2
}

# Forgets a process that has already been waited for.
forget_pid() {
    local kept=() p
    for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
    BENCH_PIDS=("${kept[@]}")
}

# Stops one process this script started (SIGTERM, then SIGKILL after 15 s) and forgets it.
bench_stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ping() { # port name pid
    for _ in $(seq 1 150); do
        [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = "PONG" ] && return 0
        kill -0 "$3" 2>/dev/null || die "$2 exited during start-up (see $WORK)"
        sleep 0.1
    done
    die "nothing answers PING on 127.0.0.1:$1 ($2)"
}

# Resident memory of a process in KiB (VmRSS of /proc/PID/status).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start_redis() {
    REDIS_PORT=$(free_port)
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK" \
        --logfile "$WORK/redis.log" --maxclients 20000 >/dev/null &
    REDIS_PID=$!
    BENCH_PIDS+=("$REDIS_PID")
    wait_ping "$REDIS_PORT" redis-server "$REDIS_PID"
}

# Installs twemproxy (Debian's nutcracker) when it is missing.
ensure_nutcracker() {
    command -v nutcracker >/dev/null && return 0
    say "installing nutcracker (twemproxy)"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nutcracker >/dev/null \
        || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nutcracker >/dev/null; } \
        || die "cannot install nutcracker"
}

start_twemproxy() {
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
    nutcracker -c "$WORK/nutcracker.yml" -o "$WORK/nutcracker.log" -a 127.0.0.1 -s "$(free_port)" &
    PROXY_PID=$!
    BENCH_PIDS+=("$PROXY_PID")
    wait_ping "$PROXY_PORT" nutcracker "$PROXY_PID"
}

# Starts the gateway on the private Redis and the bench database and waits until it is
# ready (/readyz: Redis, PostgreSQL and the invalidation listener up) and its start-up
# recovery (a replay from its replication slot, or a family flush for a new slot) has finished.
# GATEWAY_EXTRA_ARGS (an array, empty by default) adds gateway options, e.g. (--threads 1);
# GATEWAY_REDIS_URL puts its cache elsewhere than the private Redis; GATEWAY_SOURCE (wal or
# notify; empty: the configuration's, auto) is the invalidation source it must run, checked in
# its INFO so that a silent fallback to the other source cannot pass for a measurement of this one.
start_gateway() {
    BENCH_SLOTS+=("$(gateway_slot)")
    GATEWAY_PORT=${GATEWAY_PORT:-$(free_port)}
    METRICS_PORT=${METRICS_PORT:-$(free_port)}
    local source_args=()
    if [ -n "${GATEWAY_SOURCE:-}" ]; then source_args=(--invalidation-source "$GATEWAY_SOURCE"); fi
    "$BIN/quicksell-gateway" --config config/gateway.yaml --host 127.0.0.1 --port "$GATEWAY_PORT" \
        --metrics-port "$METRICS_PORT" --redis-url "${GATEWAY_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}" --postgres-url "$BENCH_URL" \
        --replication-slot "$(gateway_slot)" --log-level warning ${source_args[@]+"${source_args[@]}"} \
        ${GATEWAY_EXTRA_ARGS[@]+"${GATEWAY_EXTRA_ARGS[@]}"} >>"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    BENCH_PIDS+=("$GATEWAY_PID")
    wait_ping "$GATEWAY_PORT" quicksell-gateway "$GATEWAY_PID"
    for _ in $(seq 1 150); do
        if curl -fs "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null 2>&1 \
            && [ "$(info_field "$GATEWAY_PORT" flush_in_progress)" = "0" ]; then
            check_gateway_source
            return 0
        fi
        kill -0 "$GATEWAY_PID" 2>/dev/null || die "quicksell-gateway exited during start-up (see $WORK/gateway.log)"
        sleep 0.1
    done
    die "quicksell-gateway on 127.0.0.1:$GATEWAY_PORT not ready within 15 s (see $WORK/gateway.log)"
}

# Stops the gateway, if one runs; the next start_gateway takes new ports (the old ones may
# linger in TIME_WAIT).
stop_gateway() {
    if [ -n "${GATEWAY_PID:-}" ]; then bench_stop_pid "$GATEWAY_PID"; fi
    GATEWAY_PID=""
    GATEWAY_PORT=""
    METRICS_PORT=""
}

# A fresh gateway process.
restart_gateway() {
    stop_gateway
    start_gateway
}

# Fails the run when the gateway runs another invalidation source than GATEWAY_SOURCE.
check_gateway_source() {
    [ -n "${GATEWAY_SOURCE:-}" ] || return 0
    local running
    running=$(info_field "$GATEWAY_PORT" invalidation_source)
    [ "$running" = "$GATEWAY_SOURCE" ] \
        || die "quicksell-gateway runs invalidation source '$running', not '$GATEWAY_SOURCE' ($(info_field "$GATEWAY_PORT" invalidation_source_reason))"
}

# Fails the run when the gateway is gone (a crash is what the short mode exists to catch).
check_gateway_alive() {
    kill -0 "$GATEWAY_PID" 2>/dev/null || die "quicksell-gateway (pid $GATEWAY_PID) died during $1; last log lines:
$(tail -n 20 "$WORK/gateway.log")"
}

# One INFO field of a Redis-protocol endpoint (empty when absent).
info_field() { # port field
    redis-cli -h 127.0.0.1 -p "$1" INFO all 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print substr($0, length(f) + 2); exit }'
}

# One counter of the gateway's `INFO families` line of the user family.
user_family_counter() { # port counter
    info_field "$1" family_user | tr ',' '\n' | awk -F= -v c="$2" '$1 == c { print $2 }'
}
