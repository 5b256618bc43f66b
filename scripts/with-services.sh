#!/usr/bin/env bash
# Runs a command with this checkout's Redis and PostgreSQL up, then stops whichever
# of them it had to start (services already running are left running).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/env.sh"

started=()
for svc in redis postgres; do
    if ! "$here/services.sh" running "$svc"; then started+=("$svc"); fi
done
cleanup() {
    for svc in "${started[@]}"; do "$here/services.sh" stop "$svc" || true; done
}
trap cleanup EXIT
"$here/services.sh" start
"$@"
