#!/usr/bin/env bash
# Backups of the QuickSell database with pgBackRest: WAL archiving, two repositories (the
# second stands for a second site), weekly full and daily differential backups, expiry per
# the retention policy, and point-in-time restore into a fresh data directory.
#
#   scripts/backup.sh setup                 configure pgBackRest and WAL archiving (restarts PostgreSQL
#                                           when archive_mode was off), create the stanza, check it
#   scripts/backup.sh full|diff [--repo N]  take a full / differential backup (both repositories unless --repo)
#   scripts/backup.sh scheduled             what the daily timer runs: full on Sundays (repo 1) and on the
#                                           1st of the month (repo 2), differential otherwise, then expire
#   scripts/backup.sh expire                apply the retention policy now (backups also expire after each backup)
#   scripts/backup.sh check | info          verify archiving (forces a WAL switch) / list the backups
#   scripts/backup.sh restore --target 'YYYY-MM-DD HH:MM:SS+00' --to DIR [--repo N] [--archive-off]
#                                           restore to that time into DIR (new or empty), ready to start
#   scripts/backup.sh schedule              print the cron lines of the schedule
#
# Settings (environment; defaults: this checkout's services):
#   QUICKSELL_BACKUP_DIR      folder of the configuration, logs and, here, both repositories
#   QUICKSELL_BACKUP_REPO1 / _REPO2   repository paths (default $QUICKSELL_BACKUP_DIR/repo1, /repo2)
#   QUICKSELL_BACKUP_PG_DATA  the server's data directory; QUICKSELL_BACKUP_PG_PORT, _PG_SOCKET its port
#                             and socket folder, QUICKSELL_BACKUP_PG_LOG its log (a restart keeps it);
#                             QUICKSELL_BACKUP_STANZA (quicksell)
#
# Retention (README, "Data lifecycle"): repository 1 keeps 4 full backups (weekly: a month of
# point-in-time recovery) and the differentials of the newest; repository 2 keeps its monthly
# full backups for a year (time-based retention, 365 days) and WAL for the newest two only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

die() { echo "backup: error: $*" >&2; exit 1; }
log() { echo "backup: $*"; }

services_pg_dir="$QUICKSELL_DATA_DIR/postgres"
if [ ! -d "$services_pg_dir" ]; then
    services_pg_dir="/tmp/quicksell-services-$(echo "$QUICKSELL_ROOT" | md5sum | cut -c1-12)/postgres"
fi
backup_dir="${QUICKSELL_BACKUP_DIR:-$(dirname "$services_pg_dir")/backup}"
repo1="${QUICKSELL_BACKUP_REPO1:-$backup_dir/repo1}"
repo2="${QUICKSELL_BACKUP_REPO2:-$backup_dir/repo2}"
pg_data="${QUICKSELL_BACKUP_PG_DATA:-$services_pg_dir/data}"
pg_port="${QUICKSELL_BACKUP_PG_PORT:-$QUICKSELL_PG_PORT}"
pg_socket="${QUICKSELL_BACKUP_PG_SOCKET:-$services_pg_dir/sock}"
pg_log="${QUICKSELL_BACKUP_PG_LOG:-$(dirname "$pg_data")/postgres.log}"
stanza="${QUICKSELL_BACKUP_STANZA:-quicksell}"
config="$backup_dir/pgbackrest.conf"

# pgBackRest runs as the owner of the data directory (archive_command runs as the server).
as_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; fi
command -v pgbackrest >/dev/null || die "pgbackrest is not installed: run scripts/install-deps.sh"
pgbr() { as_pg pgbackrest --config="$config" --stanza="$stanza" "$@"; }
psql_pg() { as_pg "$QUICKSELL_PG_BIN/psql" -h "$pg_socket" -p "$pg_port" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }

write_config() {
    mkdir -p "$backup_dir/log" "$backup_dir/spool" "$repo1" "$repo2"
    [ "$(id -u)" -ne 0 ] || chown -R postgres "$backup_dir" "$repo1" "$repo2"
    cat >"$config" <<EOF
# Written by scripts/backup.sh setup; edit the script, not this file.
[global]
log-path=$backup_dir/log
spool-path=$backup_dir/spool
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=zst
# WAL goes to both repositories; asynchronous push keeps archive_command quick.
archive-async=y
archive-timeout=60
process-max=2

# Repository 1: this site. Weekly full backups, daily differentials; 4 fulls kept.
repo1-path=$repo1
repo1-retention-full=4
repo1-retention-diff=7

# Repository 2: the second site (here a folder; in production an object store in another
# region, e.g. repo2-type=s3 with repo2-s3-region and its own credentials, encrypted with
# repo2-cipher-type=aes-256-cbc). Monthly full backups kept for a year; WAL for the newest two.
repo2-path=$repo2
repo2-retention-full-type=time
repo2-retention-full=365
repo2-retention-diff=7
repo2-retention-archive-type=full
repo2-retention-archive=2

[$stanza]
pg1-path=$pg_data
pg1-port=$pg_port
pg1-socket-path=$pg_socket
pg1-user=postgres
EOF
    [ "$(id -u)" -ne 0 ] || chown postgres "$config"
}

setup() {
    write_config
    psql_pg -c "ALTER SYSTEM SET archive_command = 'pgbackrest --config=$config --stanza=$stanza archive-push %p'"
    if [ "$(psql_pg -c 'SHOW archive_mode')" != "on" ]; then
        psql_pg -c "ALTER SYSTEM SET archive_mode = 'on'"
        log "archive_mode needs a restart: restarting PostgreSQL ($pg_data)"
        as_pg "$QUICKSELL_PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_log" -m fast -w -t 60 restart >/dev/null 2>&1
    else
        psql_pg -c "SELECT pg_reload_conf()" >/dev/null
    fi
    pgbr stanza-create
    pgbr check
    log "stanza $stanza ready: WAL archived to $repo1 and $repo2"
}

backup_type() {
    local type=$1; shift
    local repos=(1 2)
    if [ "${1:-}" = "--repo" ]; then repos=("${2:?--repo needs a number}"); fi
    for repo in "${repos[@]}"; do
        pgbr --repo="$repo" --type="$type" backup
        log "$type backup taken in repository $repo"
    done
}

# Run daily: full on Sunday (repo 1) / the 1st (repo 2), else a differential. pgBackRest
# itself turns a differential into a full when the repository has no full backup yet.
scheduled() {
    if [ "$(date -u +%u)" = 7 ]; then backup_type full --repo 1; else backup_type diff --repo 1; fi
    if [ "$(date -u +%d)" = 01 ]; then backup_type full --repo 2; else backup_type diff --repo 2; fi
}

restore() {
    local target="" to="" repo="" archive_off=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --target) target="$2"; shift 2 ;;
            --to) to="$2"; shift 2 ;;
            --repo) repo="--repo=$2"; shift 2 ;;
            --archive-off) archive_off="--archive-mode=off"; shift ;;
            *) die "restore: unknown argument $1" ;;
        esac
    done
    [ -n "$target" ] && [ -n "$to" ] || die "restore needs --target 'YYYY-MM-DD HH:MM:SS+00' and --to DIR"
    if [ -d "$to" ] && [ -n "$(ls -A "$to")" ]; then die "restore: $to is not empty (restore into a fresh directory)"; fi
    mkdir -p "$to"
    chmod 700 "$to"
    [ "$(id -u)" -ne 0 ] || chown postgres "$to"
    # --type=time stops replay at the target; promote makes the restored server writable then.
    pgbr --pg1-path="$to" $repo $archive_off --type=time --target="$target" --target-action=promote restore
    log "restored to $target into $to: start PostgreSQL on it, then flush the cache (quicksell-cache flush --all)"
}

case "${1:-}" in
    setup) setup ;;
    full|diff) type=$1; shift; backup_type "$type" "$@" ;;
    scheduled) scheduled; pgbr expire ;;
    expire) pgbr expire ;;
    check) pgbr check ;;
    info) pgbr info ;;
    restore) shift; restore "$@" ;;
    schedule)
        echo "# crontab of the postgres user (UTC): daily backup at 02:30, retention jobs at 03:15"
        echo "30 2 * * * $QUICKSELL_ROOT/scripts/backup.sh scheduled >>$backup_dir/log/cron.log 2>&1"
        echo "15 3 * * * QUICKSELL_POSTGRES_URL=$QUICKSELL_POSTGRES_URL $QUICKSELL_ROOT/.build/release/quicksell-cache retention run --archive-dir /var/lib/quicksell/archive >>$backup_dir/log/retention.log 2>&1" ;;
    *) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
