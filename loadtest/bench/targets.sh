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

bench_hit_once() { # target system port depth requests round
    local target=$1 system=$2 port=$3 depth=$4 requests=$5 round=$6
    local out="$WORK/$target-$system-$round.csv" hits0=0 misses0=0 errors0=0
    if [ "$system" = gateway ]; then
        hits0=$(user_family_counter "$port" hits); misses0=$(user_family_counter "$port" misses)
        errors0=$(info_field "$port" total_error_replies)
    fi
    local measured rps p99
    measured=$(redis_benchmark_get "$system" "$port" "$depth" "$requests" "$out") || exit 1
    read -r rps p99 <<<"$measured"
    if [ "$system" = gateway ]; then
        check_gateway_alive "$target"
        local hits misses errors
        hits=$(( $(user_family_counter "$port" hits) - hits0 ))
        misses=$(( $(user_family_counter "$port" misses) - misses0 ))
        errors=$(( $(info_field "$port" total_error_replies) - errors0 ))
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

port_of() {
    case "$1" in
        redis) echo "$REDIS_PORT" ;;
        twemproxy) echo "$PROXY_PORT" ;;
        gateway) echo "$GATEWAY_PORT" ;;
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

# Target 4: commit-to-key-gone lag p99 at 500 writes/s (pgbench --rate) and at the
# highest rate 8 unthrottled writers reach; the gateway restarts before each run so
# that its lag window (the last 8,192 invalidations) holds that run only.
bench_lag_once() { # system round pgbench-args…
    local system=$1 round=$2; shift 2
    restart_gateway
    warm_up_invalidation
    local tps
    tps=$(run_pgbench "lag-$system-$round" update_user.sql "$LAG_SECONDS" "$@")
    sleep 0.5
    check_gateway_alive "target 4"
    local samples p50 p99
    samples=$(info_field "$GATEWAY_PORT" invalidation_lag_samples)
    p50=$(info_field "$GATEWAY_PORT" invalidation_lag_p50_usec)
    p99=$(info_field "$GATEWAY_PORT" invalidation_lag_p99_usec)
    [ "${samples:-0}" -gt 0 ] && [ -n "$p99" ] \
        || die "target 4: the gateway measured no invalidation lag after $tps writes/s (samples '${samples}')"
    record_and_say lag "$system" "$round" "$tps" "$p50" "$p99" "$samples"
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
    local round
    for round in $(seq 1 "$ROUNDS"); do
        say "target 4, round $round of $ROUNDS"
        bench_lag_once rate500 "$round" -c 4 -j 2 --rate 500
        bench_lag_once max "$round" -c 8 -j 2
    done
}

# Target 5: 8 single-row UPDATE writers with the invalidation triggers enabled and the
# gateway streaming them (its WAL sender decodes every WAL record), against the same writers
# without any invalidation: triggers disabled and the gateway stopped (no WAL sender). A third
# measure, triggers disabled with the gateway still streaming, shows what the decoding alone costs.
bench_write_cost() {
    local round tps
    for round in $(seq 1 "$ROUNDS"); do
        say "target 5, round $round of $ROUNDS"
        enable_user_invalidation_triggers
        tps=$(run_pgbench "write-on-$round" update_user.sql "$PG_SECONDS" -c 8 -j 2)
        say "  triggers on, gateway streaming: $tps tps"
        record writecost triggers_on "$round" tps "$tps"
        check_gateway_alive "target 5"
        disable_user_invalidation_triggers
        tps=$(run_pgbench "write-streaming-$round" update_user.sql "$PG_SECONDS" -c 8 -j 2)
        say "  triggers off, gateway streaming: $tps tps"
        record writecost streaming_only "$round" tps "$tps"
        bench_stop_pid "$GATEWAY_PID"
        tps=$(run_pgbench "write-off-$round" update_user.sql "$PG_SECONDS" -c 8 -j 2)
        enable_user_invalidation_triggers
        say "  triggers off, no gateway: $tps tps"
        record writecost triggers_off "$round" tps "$tps"
        GATEWAY_PORT=""; METRICS_PORT=""
        start_gateway
    done
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
