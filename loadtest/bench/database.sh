# Sourced by loadtest/bench.sh: the dedicated bench database (schema, data, triggers).

bench_psql() { "$QUICKSELL_PG_BIN/psql" "$BENCH_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

# Creates $DATABASE when it is missing, migrates it and, when it has no data yet, seeds a
# full data set of $SEED_USERS users with the load-test tool (every family has rows).
create_seeded_database() {
    local exists
    exists=$("$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
    [ "$exists" = "1" ] || "$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -qc "CREATE DATABASE $DATABASE"
    "$BIN/quicksell-cache" migrate --postgres-url "$BENCH_URL" >&2
    "$BIN/quicksell-loadtest" seed --postgres-url "$BENCH_URL" --users "$SEED_USERS" --seed 1 --if-empty >&2
}

# The bench database: a small full data set (for the steady-state run), then the users topped
# up to $USERS with one INSERT … SELECT generate_series (the seeder is slow for 100,000 users).
prepare_database() {
    create_seeded_database
    local count
    count=$(bench_psql -c "SELECT count(*) FROM users")
    if [ "$count" -lt "$USERS" ]; then
        say "adding $((USERS - count)) users with generate_series (bench database has $count)"
        bench_psql -v missing="$((USERS - count))" -f "$BENCH_DIR/users.sql" >/dev/null
    fi
    enable_user_invalidation_triggers
    set_invalidation_emitters both
    bench_psql -c "VACUUM ANALYZE users" >/dev/null
    say "bench database $DATABASE: $(bench_psql -c "SELECT count(*) FROM users") users"
}

# The invalidation trigger of `users`, by name (trg_users_invalidate_*: 008 names it
# trg_users_invalidate_row).
user_invalidation_triggers() {
    bench_psql -c "SELECT tgname FROM pg_trigger WHERE tgrelid = 'users'::regclass
                   AND NOT tgisinternal AND tgname LIKE 'trg_users_invalidate_%' ORDER BY tgname"
}

set_user_invalidation_triggers() { # ENABLE|DISABLE
    local name statements=""
    for name in $(user_invalidation_triggers); do statements+="ALTER TABLE users $1 TRIGGER $name; "; done
    [ -n "$statements" ] || die "no trg_users_invalidate_* triggers on users in $DATABASE"
    bench_psql -c "$statements" >/dev/null
}
enable_user_invalidation_triggers() { set_user_invalidation_triggers ENABLE; }
disable_user_invalidation_triggers() { set_user_invalidation_triggers DISABLE; }

# Which invalidation sources the triggers feed (migration 009): wal, notify or both. Writers
# pick the change up at their next statement; a gateway checks it only when it starts.
set_invalidation_emitters() { # wal|notify|both
    local flags
    case "$1" in
        wal) flags="true, false" ;;
        notify) flags="false, true" ;;
        both) flags="true, true" ;;
        *) die "set_invalidation_emitters: wal, notify or both, not '$1'" ;;
    esac
    bench_psql -c "SELECT quicksell_set_invalidation_emitters($flags)" >/dev/null
}
