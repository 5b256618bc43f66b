#!/usr/bin/env bash
# Runs the whole test suite against this checkout's services (started by the caller).
# Integration tests read their server addresses from these variables and fail, never
# skip, when they are missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$QUICKSELL_ROOT"
export QUICKSELL_TEST_POSTGRES_URL="$QUICKSELL_POSTGRES_ADMIN_URL"
export QUICKSELL_TEST_REDIS_URL="$QUICKSELL_REDIS_URL"
export QUICKSELL_SCHEMA_DIR="$QUICKSELL_ROOT/config/schema"
# The local Redis Cluster (scripts/cluster.sh): seed URLs, and its folder (PID files of the nodes).
export QUICKSELL_TEST_CLUSTER_URLS="$QUICKSELL_CLUSTER_URLS"
export QUICKSELL_TEST_CLUSTER_DIR="$QUICKSELL_CLUSTER_DIR"
export QUICKSELL_TEST_CLUSTER_SCRIPT="$QUICKSELL_ROOT/scripts/cluster.sh"
# The overload test holds 5,000 client connections (10,000 descriptors in one process).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The replication slots of test gateways (qs_test_*) that a test process left behind, for
# example when it was interrupted: a slot keeps the server's WAL until it is dropped.
drop_test_slots() {
    "$QUICKSELL_PG_BIN/psql" "$QUICKSELL_POSTGRES_ADMIN_URL" -qAtc "SELECT count(pg_drop_replication_slot(slot_name))
        FROM pg_replication_slots WHERE slot_name LIKE 'qs\_test\_%' AND NOT active" >/dev/null || true
}
trap drop_test_slots EXIT
drop_test_slots
swift build --build-tests
# The suites that depend on the invalidation source (the mappings, the stale-set race, the
# killed listener, the bulk update, two gateways, the stress test, Redis and PostgreSQL faults,
# a bad network to PostgreSQL).
NOTIFY_PASS_SUITES='GatewayTests\.((InvalidationMappingTests|InvalidationRaceTests|InvalidationStressTests|RedisRestartRaceTests|PostgresRestartTests|RedisFaultTests)/|NetworkFaultTests/faultsBetweenTheGatewayAndPostgreSQL)'
# Serially: the suites measure timeouts and latencies that parallel suites on 2 cores would distort.
status=0
swift test --skip-build --no-parallel "$@" || status=$?
if [ $# -eq 0 ]; then
    # The read-through and invalidation suites a second time, with the gateways on the Redis
    # Cluster instead of the single Redis.
    echo "run-tests: read-through and invalidation suites again, on the Redis Cluster"
    QUICKSELL_TEST_REDIS_MODE=cluster swift test --skip-build --no-parallel \
        --filter 'GatewayTests\.(ReadThroughTests|InvalidationMappingTests)/' || status=$?
    # The invalidation suites once more with every test gateway on the notify source (the
    # first pass ran them on the stream: the test server allows it, so `auto` picks wal).
    echo "run-tests: invalidation suites again, on the notify source (single Redis, then the Redis Cluster)"
    QUICKSELL_TEST_INVALIDATION_SOURCE=notify swift test --skip-build --no-parallel \
        --filter "$NOTIFY_PASS_SUITES" || status=$?
    QUICKSELL_TEST_INVALIDATION_SOURCE=notify QUICKSELL_TEST_REDIS_MODE=cluster swift test --skip-build --no-parallel \
        --filter 'GatewayTests\.InvalidationMappingTests/' || status=$?
    # Then every benchmark target once, briefly, on the debug build just made: it catches
    # crashes and errors under load, it does not judge speed (make bench does, see BENCHMARKS.md).
    BENCH_MODE=short BENCH_SKIP_BUILD=1 loadtest/bench.sh || status=$?
    # And the soak's short mode: 50 s of the load tool's workload through each fault once, on
    # private servers of its own (its restarts never touch the suites' services), debug build.
    SOAK_MODE=short SOAK_CONFIG=debug SOAK_SKIP_BUILD=1 loadtest/soak.sh || status=$?
else
    echo "run-tests: a filtered run ($*): the cluster pass and the short benchmark are not run"
fi
exit "$status"
