#!/usr/bin/env bash
# Starts, stops and reports the private Redis and PostgreSQL of this checkout.
#   scripts/services.sh start [redis|postgres]   idempotent; waits until each answers
#   scripts/services.sh stop  [redis|postgres]   stops only what this checkout started (by PID)
#   scripts/services.sh status
# Both listen on 127.0.0.1 only; data lives in $QUICKSELL_DATA_DIR (git-ignored).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { echo "services: $*"; }
die() { echo "services: error: $*" >&2; exit 1; }

redis_dir="$QUICKSELL_DATA_DIR/redis"
redis_pidfile="$redis_dir/redis.pid"

# PostgreSQL refuses to run as root: run it as the postgres user, which must be able
# to reach its data folder. When the checkout is not reachable for it, fall back to a
# folder under /tmp named after the checkout.
pg_base="$QUICKSELL_DATA_DIR"
as_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
    mkdir -p "$QUICKSELL_DATA_DIR"
    if ! runuser -u postgres -- test -x "$QUICKSELL_DATA_DIR"; then
        pg_base="/tmp/quicksell-services-$(echo "$QUICKSELL_ROOT" | md5sum | cut -c1-12)"
    fi
fi
pg_dir="$pg_base/postgres"
pg_data="$pg_dir/data"
pg_sock="$pg_dir/sock"
pg_pidfile="$pg_data/postmaster.pid"

redis_pid() { [ -f "$redis_pidfile" ] && cat "$redis_pidfile" 2>/dev/null || true; }
redis_alive() {
    local pid; pid=$(redis_pid)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
redis_answers() { redis-cli -h 127.0.0.1 -p "$QUICKSELL_REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

pg_pid() { [ -f "$pg_pidfile" ] && head -n 1 "$pg_pidfile" 2>/dev/null || true; }
pg_alive() {
    local pid; pid=$(pg_pid)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
pg_answers() { "$QUICKSELL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$QUICKSELL_PG_PORT" 2>/dev/null; }

wait_for() { # name, seconds, probe command...
    local name=$1 seconds=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || die "$name did not answer within ${seconds}s"
        sleep 0.2
    done
}

start_redis() {
    command -v redis-server >/dev/null || die "redis-server not found: run scripts/install-deps.sh"
    if redis_alive && redis_answers; then
        log "redis already running on 127.0.0.1:$QUICKSELL_REDIS_PORT (pid $(redis_pid))"
        return
    fi
    if redis_answers; then
        die "something else already answers on 127.0.0.1:$QUICKSELL_REDIS_PORT; set QUICKSELL_REDIS_PORT"
    fi
    mkdir -p "$redis_dir"
    redis-server --bind 127.0.0.1 --port "$QUICKSELL_REDIS_PORT" --daemonize yes \
        --pidfile "$redis_pidfile" --dir "$redis_dir" --logfile "$redis_dir/redis.log" \
        --save "" --appendonly no --maxclients 20000 --databases 64 >/dev/null
    wait_for "redis on 127.0.0.1:$QUICKSELL_REDIS_PORT" 20 redis_answers
    log "redis started on 127.0.0.1:$QUICKSELL_REDIS_PORT (pid $(redis_pid))"
}

start_postgres() {
    [ -x "$QUICKSELL_PG_BIN/pg_ctl" ] || die "PostgreSQL server binaries not found (looked in '$QUICKSELL_PG_BIN'): run scripts/install-deps.sh"
    if pg_alive && pg_answers; then
        log "postgres already running on 127.0.0.1:$QUICKSELL_PG_PORT (pid $(pg_pid))"
        return
    fi
    if pg_answers; then
        die "something else already answers on 127.0.0.1:$QUICKSELL_PG_PORT; set QUICKSELL_PG_PORT"
    fi
    mkdir -p "$pg_dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pg_dir"
    if [ ! -f "$pg_data/PG_VERSION" ]; then
        as_pg "$QUICKSELL_PG_BIN/initdb" -D "$pg_data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$pg_dir/initdb.log" 2>&1 \
            || die "initdb failed; see $pg_dir/initdb.log"
    fi
    as_pg mkdir -p "$pg_sock"
    # Tuned for a disposable development and test server: durability off (fsync), speed on.
    # wal_level=logical: the gateways may stream invalidations from replication slots (one WAL
    # sender and slot each); max_slot_wal_keep_size bounds what a forgotten slot can keep.
    # QUICKSELL_PG_WAL_LEVEL=replica starts it as PostgreSQL comes out of the box (the gateway's
    # auto source then listens for notifications); it applies when PostgreSQL (re)starts.
    # synchronous_commit stays on: logical decoding sees a commit once its WAL is flushed,
    # and with fsync off a flush is a plain write (asynchronous commit would delay every
    # invalidation by up to wal_writer_delay, 200 ms).
    as_pg "$QUICKSELL_PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_dir/postgres.log" -w -t 60 start -o \
        "-p $QUICKSELL_PG_PORT -k $pg_sock -c listen_addresses=127.0.0.1 -c max_connections=300 \
         -c wal_level=$QUICKSELL_PG_WAL_LEVEL -c max_wal_senders=64 -c max_replication_slots=64 -c max_slot_wal_keep_size=1GB \
         -c fsync=off -c synchronous_commit=on -c full_page_writes=off -c timezone=UTC -c log_timezone=UTC \
         -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" \
        >/dev/null || die "postgres did not start; see $pg_dir/postgres.log"
    wait_for "postgres on 127.0.0.1:$QUICKSELL_PG_PORT" 30 pg_answers
    log "postgres started on 127.0.0.1:$QUICKSELL_PG_PORT (pid $(pg_pid))"
}

ensure_database() {
    local exists
    exists=$(psql "$QUICKSELL_POSTGRES_ADMIN_URL" -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = '$QUICKSELL_PG_DATABASE'")
    if [ "$exists" != "1" ]; then
        psql "$QUICKSELL_POSTGRES_ADMIN_URL" -qc "CREATE DATABASE \"$QUICKSELL_PG_DATABASE\"" >/dev/null
        log "created database $QUICKSELL_PG_DATABASE"
    fi
}

stop_redis() {
    if redis_alive; then
        local pid; pid=$(redis_pid)
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        log "redis stopped (pid $pid)"
    else
        log "redis not running"
    fi
    rm -f "$redis_pidfile"
}

stop_postgres() {
    if pg_alive; then
        local pid; pid=$(pg_pid)
        as_pg "$QUICKSELL_PG_BIN/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null
        log "postgres stopped (pid $pid)"
    else
        log "postgres not running"
    fi
}

status() {
    if redis_alive && redis_answers; then log "redis: running on 127.0.0.1:$QUICKSELL_REDIS_PORT (pid $(redis_pid))"
    else log "redis: stopped"; fi
    if pg_alive && pg_answers; then log "postgres: running on 127.0.0.1:$QUICKSELL_PG_PORT (pid $(pg_pid))"
    else log "postgres: stopped"; fi
}

cmd=${1:-status}
which=${2:-all}
case "$cmd" in
    start)
        case "$which" in
            redis) start_redis ;;
            postgres) start_postgres; ensure_database ;;
            all) start_redis; start_postgres; ensure_database ;;
            *) die "unknown service '$which' (expected redis, postgres or all)" ;;
        esac ;;
    stop)
        case "$which" in
            redis) stop_redis ;;
            postgres) stop_postgres ;;
            all) stop_redis; stop_postgres ;;
            *) die "unknown service '$which' (expected redis, postgres or all)" ;;
        esac ;;
    running) # exit 0 when the named service runs (for scripts)
        case "$which" in
            redis) redis_alive && redis_answers ;;
            postgres) pg_alive && pg_answers ;;
            *) die "'running' takes redis or postgres" ;;
        esac ;;
    status) status ;;
    *) die "unknown command '$cmd' (expected start, stop or status)" ;;
esac
