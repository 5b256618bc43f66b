# Sourced by loadtest/bench.sh, hit-ratio.sh and profile-hit-path.sh: the hit-path workload of
# targets 1 and 2 (warm ~400-byte keys, redis-benchmark GETs of them). Needs $WORK, $BENCH_DIR,
# say and die.

# Loads $1 keys user:1000000000000 … into the Redis on port $2 (redis-benchmark's
# `GET user:1__rand_int__ -r N` keys), straight through `redis-cli --pipe`.
preload_hit_keys_into() { # count port
    say "pre-loading $1 ~400-byte values into the Redis on 127.0.0.1:$2"
    python3 "$BENCH_DIR/preload_hits.py" "$1" \
        | timeout 300 redis-cli -h 127.0.0.1 -p "$2" --pipe >"$WORK/preload.txt" 2>&1 \
        || die "preloading Redis failed: $(tail -n 3 "$WORK/preload.txt")"
}

# Fails unless the first pre-loaded key reads the same through every port given.
check_same_hit_value() { # port…
    local key="user:1000000000000" first value port
    first=$(redis-cli -h 127.0.0.1 -p "$1" GET "$key")
    [ -n "$first" ] || die "$key is missing on 127.0.0.1:$1"
    for port in "${@:2}"; do
        value=$(redis-cli -h 127.0.0.1 -p "$port" GET "$key")
        [ "$value" = "$first" ] || die "$key differs between 127.0.0.1:$1 and 127.0.0.1:$port"
    done
}

# One `redis-benchmark -c 50 GET` run over $HIT_KEYS warm keys; prints "req/s p99-ms".
# Any error it reports fails the run. Extra arguments go to redis-benchmark (--tls --cacert …).
redis_benchmark_get() { # system port depth requests out-file [redis-benchmark arguments…]
    local system=$1 port=$2 depth=$3 requests=$4 out=$5
    shift 5
    timeout 600 redis-benchmark -h 127.0.0.1 -p "$port" "$@" -c 50 -P "$depth" -n "$requests" -r "$HIT_KEYS" \
        --csv GET 'user:1__rand_int__' >"$out" 2>"$out.err" || die "redis-benchmark against $system exited with an error: $(tail -n 3 "$out.err")"
    if grep -v "Could not fetch server CONFIG" "$out" "$out.err" | grep -qi "error"; then
        die "redis-benchmark against $system reported errors: $(grep -m 3 -i error "$out" "$out.err")"
    fi
    local line
    line=$(grep '^"GET' "$out") || die "redis-benchmark against $system printed no result: $(head -c 300 "$out")"
    echo "$line" | awk -F'","' '{ print $2, $7 }'
}
