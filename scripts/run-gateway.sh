#!/usr/bin/env bash
# Runs the gateway in the foreground against this checkout's services.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$QUICKSELL_ROOT"
if [ ! -d Sources/Gateway ] || ! grep -rqs "GatewayServer" Sources/Gateway; then
    echo "run: the demo database is migrated and seeded at $QUICKSELL_POSTGRES_URL"
    echo "run: the gateway server is not built yet (see the open issues); stopping after the seed"
    exit 0
fi
swift build --product quicksell-gateway
echo "run: gateway on 127.0.0.1:$QUICKSELL_GATEWAY_PORT; try: redis-cli -p $QUICKSELL_GATEWAY_PORT GET user:1"
exec .build/debug/quicksell-gateway --host 127.0.0.1 --port "$QUICKSELL_GATEWAY_PORT" \
    --redis-url "$QUICKSELL_REDIS_URL" --postgres-url "$QUICKSELL_POSTGRES_URL"
