#!/usr/bin/env bash
# Runs a command with this checkout's Redis, PostgreSQL and local Redis Cluster up, then stops
# whichever of them it had to start (services already running are left running).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/env.sh"

started=()
for svc in redis postgres; do
    if ! "$here/services.sh" running "$svc"; then started+=("$svc"); fi
done
cluster_started=0
"$here/cluster.sh" running || cluster_started=1
cleanup() {
    for svc in "${started[@]}"; do "$here/services.sh" stop "$svc" || true; done
    if [ "$cluster_started" -eq 1 ]; then "$here/cluster.sh" stop || true; fi
}
trap cleanup EXIT
"$here/services.sh" start
"$here/cluster.sh" start
"$@"
