# Sourced by loadtest/soak.sh: the soak's database, its RSS sampler and its schedule of faults.
# Each fault is bounded (a restart, one kill, a pause of SOAK_PARTITION_SECONDS, one UPDATE)
# and recorded as "kind start end detail" (Unix seconds) in $WORK/faults.txt, which
# loadtest/soak/report.py lays over the load tool's per-second timeline.

soak_psql() { "$QUICKSELL_PG_BIN/psql" "$BENCH_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

# Migrates and seeds the private database, then tops the listings up to $BULK_ROWS (plain rows
# of one user, inserted before the gateway's slot exists) so that the bulk UPDATE has its size.
soak_prepare_database() {
    "$BIN/quicksell-cache" migrate --postgres-url "$BENCH_URL" >>"$WORK/prepare.log" 2>&1 \
        || die "migrate failed: $(tail -n 5 "$WORK/prepare.log")"
    "$BIN/quicksell-loadtest" seed --postgres-url "$BENCH_URL" --users "$SEED_USERS" --seed 1 --if-empty \
        >>"$WORK/prepare.log" 2>&1 || die "seed failed: $(tail -n 5 "$WORK/prepare.log")"
    soak_psql -v rows="$BULK_ROWS" >/dev/null <<'SQL' || die "cannot top up the listings"
INSERT INTO listings (user_id, title, description, category, condition, price, status)
SELECT (SELECT min(id) FROM users), 'soak listing ' || g, 'bulk-update target', 'soak', 'new', 10, 'published'
FROM generate_series(1, GREATEST(0, :rows - (SELECT count(*) FROM listings))) g;
VACUUM ANALYZE listings;
SQL
    say "database: $(soak_psql -c "SELECT count(*) FROM users") users, $(soak_psql -c "SELECT count(*) FROM listings") listings"
}

# Every $RSS_INTERVAL s: "unix_seconds rss_kib" of the gateway, or "unix_seconds gone" once it died.
soak_sample_rss() {
    while true; do
        if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
            echo "$(date +%s.%N) gone" >>"$WORK/rss.txt"
            return 0
        fi
        echo "$(date +%s.%N) $(rss_kib "$GATEWAY_PID")" >>"$WORK/rss.txt"
        sleep "$RSS_INTERVAL"
    done
}

soak_record() { # kind start detail
    echo "$1 $2 $(date +%s.%N) $3" >>"$WORK/faults.txt"
}

soak_fault_redis_restart() {
    local start; start=$(date +%s.%N)
    services stop redis && services start redis || die "the private Redis did not restart (see $WORK/services.log)"
    soak_record redis_restart "$start" -
}

soak_fault_postgres_restart() {
    local start; start=$(date +%s.%N)
    services stop postgres && services start postgres || die "the private PostgreSQL did not restart (see $WORK/services.log)"
    soak_record postgres_restart "$start" -
}

# The backend of the gateway's replication (or LISTEN) connection, terminated.
soak_fault_listener_kill() {
    local start killed; start=$(date +%s.%N)
    killed=$(soak_psql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                           WHERE application_name = 'quicksell-gateway listener'" 2>/dev/null || echo error)
    soak_record listener_kill "$start" "backends=$killed"
}

# Redis stopped without closing anything: the gateway's sockets stay open and its calls get no
# answer (a silent peer, as a partition without a reset looks), then it resumes.
soak_fault_partition() {
    local start pid; start=$(date +%s.%N)
    pid=$(cat "$QUICKSELL_DATA_DIR/redis/redis.pid" 2>/dev/null) || die "no pid file of the private Redis"
    REDIS_STOPPED_PID=$pid
    kill -STOP "$pid"
    sleep "$PARTITION_SECONDS"
    kill -CONT "$pid"
    REDIS_STOPPED_PID=""
    soak_record partition "$start" "seconds=$PARTITION_SECONDS"
}

# One transaction updating $BULK_ROWS listings (the cached ones among them).
soak_fault_bulk_update() {
    local start rows; start=$(date +%s.%N)
    rows=$(soak_psql -c "WITH changed AS (UPDATE listings SET view_count = view_count + 1
                         WHERE id IN (SELECT id FROM listings ORDER BY id LIMIT $BULK_ROWS) RETURNING 1)
                         SELECT count(*) FROM changed" 2>&1) || rows="error: ${rows//$'\n'/ }"
    soak_record bulk_update "$start" "rows=${rows// /_}"
}

SOAK_FAULTS=(redis_restart postgres_restart listener_kill partition bulk_update)

# The schedule: the faults in turn, $GAP_SECONDS apart, until $TAIL_SECONDS before the load ends;
# stops early (and interrupts the load tool) when the gateway dies.
soak_run_faults() { # load_started_unix run_seconds
    local stop_at next=0 now
    stop_at=$(python3 -c "print(int($1 + $2 - $TAIL_SECONDS))")
    sleep "$GAP_SECONDS"
    while true; do
        now=$(date +%s)
        [ "$now" -lt "$stop_at" ] || break
        if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
            say "the gateway died; stopping the load"
            kill -INT "$LOAD_PID" 2>/dev/null || true
            return 0
        fi
        kill -0 "$LOAD_PID" 2>/dev/null || return 0
        "soak_fault_${SOAK_FAULTS[next]}"
        say "fault ${SOAK_FAULTS[next]} done ($(tail -n 1 "$WORK/faults.txt" | cut -d' ' -f4))"
        next=$(( (next + 1) % ${#SOAK_FAULTS[@]} ))
        sleep "$GAP_SECONDS"
    done
}
