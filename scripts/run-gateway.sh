#!/usr/bin/env bash
# Runs the gateway in the foreground against this checkout's services.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$QUICKSELL_ROOT"
swift build --product quicksell-gateway
cat <<MSG

  The gateway serves the demo data on 127.0.0.1:$QUICKSELL_GATEWAY_PORT. In another terminal:

    redis-cli -p $QUICKSELL_GATEWAY_PORT GET user:1
    redis-cli -p $QUICKSELL_GATEWAY_PORT MGET listing:1 listing:2
    redis-cli -p $QUICKSELL_GATEWAY_PORT GET leaderboard:weekly
    redis-cli -p $QUICKSELL_GATEWAY_PORT INFO families

  Ctrl-C stops it (Redis and PostgreSQL keep running: make stop).

MSG
exec .build/debug/quicksell-gateway --config config/gateway.yaml --host 127.0.0.1 --port "$QUICKSELL_GATEWAY_PORT" \
    --redis-url "$QUICKSELL_REDIS_URL" --postgres-url "$QUICKSELL_POSTGRES_URL"
