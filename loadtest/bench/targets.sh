# Sourced by loadtest/bench.sh: one function per target of issue 10. Each round of a
# target measures every system once, in the same order (A, B, C, A, B, C, …), and
# results.py appends one JSON line per measurement to $RESULTS (and later takes the medians).

# results.py with this run's measurement file; a failed check there fails the run.
results() { # command [arguments…]
    local command=$1; shift
    python3 "$BENCH_DIR/results.py" "$command" "$RESULTS" "$@" || exit 1
}
record() { results record "$@"; } # target system round key value [key value …]
# A results.py command that records a measurement and prints the line to show.
record_and_say() { # command [arguments…]
    local line
    line=$(results "$@") || exit 1
    say "$line"
}

# pgbench against the bench database; prints tps, fails on errors or failed transactions.
run_pgbench() { # name script seconds extra-args…
    local name=$1 script=$2 seconds=$3; shift 3
    local out="$WORK/pgbench-$name.txt"
    timeout $((seconds + 60)) "$QUICKSELL_PG_BIN/pgbench" -h 127.0.0.1 -p "$QUICKSELL_PG_PORT" -U postgres -n \
        -M prepared -T "$seconds" -D maxid="$MAX_USER_ID" -f "$BENCH_DIR/$script" "$@" "$DATABASE" >"$out" 2>&1 \
        || die "pgbench ($name) failed: $(tail -n 5 "$out")"
    local failed
    failed=$(awk '/number of failed transactions:/ { print $5 }' "$out")
    [ "${failed:-0}" = "0" ] || die "pgbench ($name): $failed failed transactions: $(grep -m 3 -i error "$out")"
    awk '/^tps = / { print $3; exit }' "$out"
}

# Targets 1 and 2: redis-benchmark GET of warm keys, direct Redis, twemproxy, gateway.
preload_hit_keys() {
    preload_hit_keys_into "$HIT_KEYS" "$REDIS_PORT"
    check_same_hit_value "$REDIS_PORT" "$PROXY_PORT" "$GATEWAY_PORT"
}

# system gateway_tls: the gateway's TLS port (its counters read on the plaintext port).
bench_hit_once() { # target system port depth requests round
    local target=$1 system=$2 port=$3 depth=$4 requests=$5 round=$6
    local out="$WORK/$target-$system-$round.csv" hits0=0 misses0=0 errors0=0 tls_args=()
    if [ "$system" = gateway_tls ]; then tls_args=(--tls --cacert "$TLS_CA"); fi
    if [[ "$system" == gateway* ]]; then
        hits0=$(user_family_counter "$GATEWAY_PORT" hits); misses0=$(user_family_counter "$GATEWAY_PORT" misses)
        errors0=$(info_field "$GATEWAY_PORT" total_error_replies)
    fi
    local measured rps p99
    measured=$(redis_benchmark_get "$system" "$port" "$depth" "$requests" "$out" ${tls_args[@]+"${tls_args[@]}"}) || exit 1
    read -r rps p99 <<<"$measured"
    if [[ "$system" == gateway* ]]; then
        check_gateway_alive "$target"
        local hits misses errors
        hits=$(( $(user_family_counter "$GATEWAY_PORT" hits) - hits0 ))
        misses=$(( $(user_family_counter "$GATEWAY_PORT" misses) - misses0 ))
        errors=$(( $(info_field "$GATEWAY_PORT" total_error_replies) - errors0 ))
        [ "$hits" -ge "$requests" ] && [ "$misses" -eq 0 ] && [ "$errors" -eq 0 ] \
            || die "gateway $target round $round: $hits hits, $misses misses, $errors error replies for $requests GETs (expected all hits)"
        say "  $target $system: $rps req/s, p99 $p99 ms ($hits hits, 0 misses)"
    else
        say "  $target $system: $rps req/s, p99 $p99 ms"
    fi
    record "$target" "$system" "$round" rps "$rps" p99_ms "$p99"
}

bench_hit_paths() {
    local round system
    for round in $(seq 1 "$ROUNDS"); do
        say "targets 1-2, round $round of $ROUNDS"
        for system in redis twemproxy gateway; do
            bench_hit_once hit_p1 "$system" "$(port_of "$system")" 1 "$HIT_REQUESTS_P1" "$round"
        done
        for system in redis twemproxy gateway; do
            bench_hit_once hit_p16 "$system" "$(port_of "$system")" 16 "$HIT_REQUESTS_P16" "$round"
        done
    done
}

# Target 7: the same GETs through the gateway's plaintext and TLS ports, alternating, so the
# TLS figure has its plaintext figure beside it (measured seconds apart on the same gateway).
bench_hit_paths_tls() {
    local round system
    for round in $(seq 1 "$ROUNDS"); do
        say "target 7, round $round of $ROUNDS"
        for system in gateway gateway_tls; do
            bench_hit_once hit_tls_p1 "$system" "$(port_of "$system")" 1 "$HIT_REQUESTS_P1" "$round"
        done
        for system in gateway gateway_tls; do
            bench_hit_once hit_tls_p16 "$system" "$(port_of "$system")" 16 "$HIT_REQUESTS_P16" "$round"
        done
    done
}

port_of() {
    case "$1" in
        redis) echo "$REDIS_PORT" ;;
        twemproxy) echo "$PROXY_PORT" ;;
        gateway) echo "$GATEWAY_PORT" ;;
        gateway_tls) echo "$GATEWAY_TLS_PORT" ;;
    esac
}

# Target 3: every GET a distinct cold key (quicksell-loadtest --mode miss-only, 50
# independent clients served by one reader thread, as redis-benchmark runs its clients)
# against pgbench's single-id point query, 8 clients.
bench_miss_path() {
    local round
    for round in $(seq 1 "$ROUNDS"); do
        say "target 3, round $round of $ROUNDS"
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" FLUSHDB >/dev/null
        local json="$WORK/miss-$round.json"
        timeout 900 "$BIN/quicksell-loadtest" run --target "127.0.0.1:$GATEWAY_PORT" --postgres-url "$BENCH_URL" \
            --mode miss-only --mix user=1 --max-keys "$USERS" --warmup 0 --duration 600 --connections 50 --threads 1 --pipeline 1 \
            --quiet --json "$json" >"$WORK/miss-$round.txt" 2>&1 \
            || die "quicksell-loadtest miss-only failed: $(tail -n 5 "$WORK/miss-$round.txt")"
        check_gateway_alive "target 3"
        record_and_say miss "$round" "$USERS" "$json"
        local tps
        tps=$(run_pgbench "miss-$round" point_query.sql "$PG_SECONDS" -c 8 -j 2)
        say "  miss pgbench: $tps q/s"
        record miss pgbench "$round" tps "$tps"
    done
}

# The invalidation sources targets 4 and 5 measure side by side (issue 17), in this order.
INVALIDATION_SOURCES=(wal notify)

# A fresh gateway on one invalidation source (wal or notify) with the triggers feeding only
# that source, so that neither the writers nor the figures pay for the other one; `default`
# is the rest of the suite's setting: both fed, the configuration's source (auto). The
# replication slot is dropped on the way: a wal gateway starts from a new slot instead of
# decoding, at start-up, the WAL the runs without it wrote.
use_invalidation_source() { # wal|notify|default
    stop_gateway
    drop_gateway_slots
    if [ "$1" = default ]; then
        set_invalidation_emitters both
        GATEWAY_SOURCE=""
    else
        set_invalidation_emitters "$1"
        GATEWAY_SOURCE=$1
    fi
    start_gateway
}

# Target 4: commit-to-key-gone lag p99 at 500 writes/s (pgbench --rate) and at the highest
# rate 8 unthrottled writers reach, per invalidation source; the gateway restarts before each
# run so that its lag window (the last 8,192 invalidations) holds that run only.
bench_lag_once() { # source rate round pgbench-args…
    local source=$1 rate=$2 round=$3; shift 3
    local system="${source}_${rate}"
    use_invalidation_source "$source"
    warm_up_invalidation
    local tps before
    before=$(info_field "$GATEWAY_PORT" invalidation_lag_samples)
    tps=$(run_pgbench "lag-$system-$round" update_user.sql "$LAG_SECONDS" "$@")
    local writes drain
    writes=$(pgbench_transactions "lag-$system-$round")
    [ -n "$writes" ] || die "target 4 ($source): no transaction count in pgbench's output"
    drain=$(await_invalidations "$source" "$before" "$writes") || exit 1
    local p50 p99
    p50=$(info_field "$GATEWAY_PORT" invalidation_lag_p50_usec)
    p99=$(info_field "$GATEWAY_PORT" invalidation_lag_p99_usec)
    [ -n "$p99" ] || die "target 4 ($source): the gateway measured no invalidation lag after $tps writes/s"
    record_and_say lag "$system" "$round" "$tps" "$p50" "$p99" "$(info_field "$GATEWAY_PORT" invalidation_lag_samples)" "$drain"
}

# The transactions a pgbench run (run_pgbench's name) completed.
pgbench_transactions() { # name
    awk '/^number of transactions actually processed:/ { print $6; exit }' "$WORK/pgbench-$1.txt"
}

# Waits until the gateway has applied every one of `writes` writes (one lag sample each) made
# after its sample count was `before`, so that the lag read next covers them all (read at
# once, a gateway behind its writers would show the lag of the few it had applied); prints
# the seconds it took after the writers stopped. Fails after LAG_DRAIN_LIMIT seconds.
await_invalidations() { # source before writes
    local source=$1 expected=$(($2 + $3)) started=$EPOCHREALTIME samples
    while :; do
        check_gateway_alive "target 4 ($source)"
        samples=$(info_field "$GATEWAY_PORT" invalidation_lag_samples)
        [ "${samples:-0}" -lt "$expected" ] || break
        awk -v s="$started" -v n="$EPOCHREALTIME" -v l="$LAG_DRAIN_LIMIT" 'BEGIN { exit !(n - s < l) }' \
            || die "target 4 ($source): the gateway applied $((${samples:-0} - $2)) of $3 writes within $LAG_DRAIN_LIMIT s after they ended"
        sleep 0.05
    done
    awk -v s="$started" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", n - s }'
}

# One write, and its invalidation awaited, before a lag run: the first message a new WAL
# sender streams after a burst of writes was seen to take about 250 ms (it rebuilds what it
# decodes from), a start-up cost that would otherwise land in every run's p99.
warm_up_invalidation() {
    local before after
    before=$(info_field "$GATEWAY_PORT" invalidation_lag_samples)
    bench_psql -c "UPDATE users SET points = points WHERE id = 1" >/dev/null
    for _ in $(seq 1 100); do
        after=$(info_field "$GATEWAY_PORT" invalidation_lag_samples)
        [ "${after:-0}" -gt "${before:-0}" ] && return 0
        sleep 0.05
    done
    say "  warning: the warm-up write was not invalidated within 5 s"
}

bench_invalidation_lag() {
    local round source
    for round in $(seq 1 "$ROUNDS"); do
        say "target 4, round $round of $ROUNDS"
        for source in "${INVALIDATION_SOURCES[@]}"; do
            bench_lag_once "$source" rate500 "$round" -c 4 -j 2 --rate 500
            bench_lag_once "$source" max "$round" -c 8 -j 2
        done
    done
    use_invalidation_source default
}

# One write-cost measurement: 8 single-row UPDATE writers for PG_SECONDS.
write_cost_once() { # system round description
    local tps
    tps=$(run_pgbench "write-$1-$2" update_user.sql "$PG_SECONDS" -c 8 -j 2)
    say "  $3: $tps tps"
    record writecost "$1" "$2" tps "$tps"
}

# Target 5: 8 single-row UPDATE writers with the invalidation triggers enabled and a gateway
# on each source in turn (the triggers feeding only that source; for wal its WAL sender
# decodes every WAL record), against the same writers without any invalidation: triggers
# disabled and no gateway (no WAL sender, no listener). A fourth measure, triggers disabled
# with the wal gateway still streaming, shows what the decoding alone costs.
bench_write_cost() {
    local round
    for round in $(seq 1 "$ROUNDS"); do
        say "target 5, round $round of $ROUNDS"
        use_invalidation_source wal
        write_cost_once wal_on "$round" "triggers on (feeding wal), gateway streaming"
        check_gateway_alive "target 5 (wal)"
        disable_user_invalidation_triggers
        write_cost_once wal_streaming_only "$round" "triggers off, gateway streaming"
        check_gateway_alive "target 5 (wal, triggers off)"
        stop_gateway
        drop_gateway_slots
        write_cost_once triggers_off "$round" "triggers off, no gateway"
        enable_user_invalidation_triggers
        use_invalidation_source notify
        write_cost_once notify_on "$round" "triggers on (feeding notify), gateway listening"
        check_gateway_alive "target 5 (notify)"
    done
    use_invalidation_source default
}

# Target 6a: RSS of a freshly started gateway holding N idle connections (each PINGed).
bench_idle_memory() {
    local round out
    for round in $(seq 1 "$ROUNDS"); do
        say "target 6a, round $round of $ROUNDS: $IDLE_CLIENTS idle connections"
        restart_gateway
        sleep 1
        out=$(timeout 300 python3 "$BENCH_DIR/idle_clients.py" --port "$GATEWAY_PORT" --pid "$GATEWAY_PID" \
            --count "$IDLE_CLIENTS" --settle "$IDLE_SETTLE") || die "idle connections to the gateway failed"
        check_gateway_alive "target 6a"
        record_and_say idle "$round" "$IDLE_CLIENTS" "$out"
    done
}

# Target 6b: RSS sampled every few seconds over a steady load-test run (the default
# family mix, Zipf reads, 50 writes/s of the tool's write mix).
bench_steady_memory() {
    say "target 6b: $RSS_SECONDS s load-test run (+ $RSS_WARMUP s warm-up), RSS every $RSS_INTERVAL s"
    restart_gateway
    local json="$WORK/steady.json" samples="$WORK/steady-rss.txt"
    : >"$samples"
    timeout $((RSS_SECONDS + RSS_WARMUP + 120)) "$BIN/quicksell-loadtest" run --target "127.0.0.1:$GATEWAY_PORT" \
        --postgres-url "$BENCH_URL" --duration "$RSS_SECONDS" --warmup "$RSS_WARMUP" --connections 8 --threads 2 \
        --pipeline 4 --write-rate 50 --quiet --json "$json" >"$WORK/steady.txt" 2>&1 &
    local load_pid=$! started=$SECONDS
    BENCH_PIDS+=("$load_pid")
    while kill -0 "$load_pid" 2>/dev/null; do
        check_gateway_alive "target 6b"
        echo "$((SECONDS - started)) $(rss_kib "$GATEWAY_PID")" >>"$samples"
        sleep "$RSS_INTERVAL"
    done
    local status=0
    wait "$load_pid" || status=$?
    forget_pid "$load_pid"
    [ "$status" -eq 0 ] || die "the steady load-test run failed (exit $status): $(tail -n 5 "$WORK/steady.txt")"
    record_and_say steady "$json" "$samples" "$RSS_WARMUP" "$RSS_WINDOW"
}
