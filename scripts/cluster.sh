#!/usr/bin/env bash
# Starts, stops and reports this checkout's local Redis Cluster: 3 primaries + 3 replicas on
# 127.0.0.1 ports $QUICKSELL_CLUSTER_BASE_PORT..+5 (cluster bus: +10000), node timeout
# $QUICKSELL_CLUSTER_NODE_TIMEOUT ms (low, so that a failover takes a few seconds).
#   scripts/cluster.sh start             fresh cluster (idempotent while it runs); waits for cluster_state:ok
#   scripts/cluster.sh stop              stops every node this checkout started (by PID), removes the data
#   scripts/cluster.sh start-node PORT   restarts one stopped node with its saved state (it rejoins)
#   scripts/cluster.sh pid PORT          prints the PID of the node on PORT
#   scripts/cluster.sh running | status
# Data and PID files live in $QUICKSELL_CLUSTER_DIR/<port>/ (git-ignored).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { echo "cluster: $*"; }
die() { echo "cluster: error: $*" >&2; exit 1; }

ports=()
for i in 0 1 2 3 4 5; do ports+=($((QUICKSELL_CLUSTER_BASE_PORT + i))); done

node_dir() { echo "$QUICKSELL_CLUSTER_DIR/$1"; }
node_pid() { local f; f="$(node_dir "$1")/redis.pid"; [ -f "$f" ] && cat "$f" 2>/dev/null || true; }
node_alive() { local pid; pid=$(node_pid "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
node_answers() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
cluster_ok() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
all_ok() { for p in "${ports[@]}"; do cluster_ok "$p" || return 1; done; }
all_running() { for p in "${ports[@]}"; do node_alive "$p" || return 1; done; }

wait_for() { # description, seconds, probe...
    local what=$1 seconds=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || die "$what not reached within ${seconds}s"
        sleep 0.2
    done
}

# A daemon must not keep the caller's descriptors (a test runner waits for its pipes to close).
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

start_node() {
    local port=$1 dir; dir=$(node_dir "$port")
    mkdir -p "$dir"
    ( close_inherited_fds; exec redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
        --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
        --cluster-node-timeout "$QUICKSELL_CLUSTER_NODE_TIMEOUT" --cluster-require-full-coverage no \
        --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" \
        --save "" --appendonly no --maxclients 10000 </dev/null >/dev/null 2>&1 )
    wait_for "node 127.0.0.1:$port answering" 20 node_answers "$port"
}

start() {
    command -v redis-server >/dev/null || die "redis-server not found: run scripts/install-deps.sh"
    if all_running && all_ok; then
        log "already running on 127.0.0.1:${ports[0]}-${ports[5]}"
        return
    fi
    stop >/dev/null
    for p in "${ports[@]}"; do
        if node_answers "$p"; then die "something else already answers on 127.0.0.1:$p; set QUICKSELL_CLUSTER_BASE_PORT"; fi
    done
    for p in "${ports[@]}"; do start_node "$p"; done
    local addresses=()
    for p in "${ports[@]}"; do addresses+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes \
        >"$QUICKSELL_CLUSTER_DIR/create.log" 2>&1 || die "redis-cli --cluster create failed; see $QUICKSELL_CLUSTER_DIR/create.log"
    wait_for "cluster_state:ok on every node" 60 all_ok
    # Every replica in sync with its primary, so that a failover test starts from a settled cluster.
    wait_for "replicas in sync" 30 replicas_synced
    log "started on 127.0.0.1:${ports[0]}-${ports[5]} (3 primaries, 3 replicas, node timeout ${QUICKSELL_CLUSTER_NODE_TIMEOUT} ms)"
}

replicas_synced() {
    local count=0
    for p in "${ports[@]}"; do
        if redis-cli -h 127.0.0.1 -p "$p" info replication 2>/dev/null | grep -q '^master_link_status:up'; then
            count=$((count + 1))
        fi
    done
    [ "$count" -ge 3 ]
}

stop() {
    local stopped=() p
    for p in "${ports[@]}"; do
        local pid; pid=$(node_pid "$p")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            # SHUTDOWN NOSAVE first: a cluster node that cannot rewrite nodes.conf on SIGTERM
            # refuses to exit. Then SIGTERM, and SIGKILL after 10 s, to this PID only.
            redis-cli -h 127.0.0.1 -p "$p" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
            kill "$pid" 2>/dev/null || true
            stopped+=("$pid")
        fi
    done
    for pid in "${stopped[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$QUICKSELL_CLUSTER_DIR"
    if [ ${#stopped[@]} -gt 0 ]; then log "stopped (pids ${stopped[*]})"; else log "not running"; fi
}

cmd=${1:-status}
case "$cmd" in
    start) start ;;
    stop) stop ;;
    start-node)
        port=${2:-}; [ -n "$port" ] || die "start-node needs a port"
        node_alive "$port" && { log "node $port already running"; exit 0; }
        [ -f "$(node_dir "$port")/nodes.conf" ] || die "node $port has no saved state: start the cluster first"
        start_node "$port"
        log "node 127.0.0.1:$port started (pid $(node_pid "$port"))" ;;
    pid)
        port=${2:-}; [ -n "$port" ] || die "pid needs a port"
        pid=$(node_pid "$port"); [ -n "$pid" ] || die "no node on port $port"
        echo "$pid" ;;
    running) all_running && all_ok ;;
    status)
        for p in "${ports[@]}"; do
            if node_alive "$p"; then
                role=$(redis-cli -h 127.0.0.1 -p "$p" role 2>/dev/null | head -n 1)
                log "127.0.0.1:$p pid $(node_pid "$p") $role"
            else
                log "127.0.0.1:$p stopped"
            fi
        done ;;
    *) die "unknown command '$cmd' (expected start, stop, start-node, pid, running or status)" ;;
esac
