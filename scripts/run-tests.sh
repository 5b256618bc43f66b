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
# The overload test holds 5,000 client connections (10,000 descriptors in one process).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
swift build --build-tests
# Serially: the suites measure timeouts and latencies that parallel suites on 2 cores would distort.
swift test --skip-build --no-parallel "$@"
# Then every benchmark target once, briefly, on the debug build just made: it catches crashes
# and errors under load, it does not judge speed (make bench does, see BENCHMARKS.md).
if [ $# -eq 0 ]; then
    BENCH_MODE=short BENCH_SKIP_BUILD=1 loadtest/bench.sh
else
    echo "run-tests: a filtered run ($*): the short benchmark (loadtest/bench.sh) is not run"
fi
