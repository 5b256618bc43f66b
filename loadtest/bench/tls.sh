# Sourced by loadtest/bench.sh: the TLS side of target 7 (the hit path over the gateway's
# TLS port). Needs $WORK, say and die.

# A throwaway CA and a server certificate for 127.0.0.1 in $WORK/tls (EC P-256: quick to make).
make_tls_certificates() {
    local dir="$WORK/tls"
    mkdir -p "$dir"
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
            -out "$dir/ca.pem" -days 2 -subj "/CN=QuickSell bench CA" \
        && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/server.key" \
            -out "$dir/server.csr" -subj "/CN=quicksell-bench" \
        && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/server.ext" \
        && openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
            -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem"
    } >"$dir/openssl.log" 2>&1 || die "cannot make the TLS certificates: $(tail -n 3 "$dir/openssl.log")"
    TLS_CA="$dir/ca.pem"
}

# Makes every gateway this run starts listen for TLS too, on GATEWAY_TLS_PORT (the gateway
# reads its QUICKSELL_SERVER_* variables; nothing else the bench runs does).
enable_gateway_tls() {
    make_tls_certificates
    GATEWAY_TLS_PORT=$(free_port)
    export QUICKSELL_SERVER_TLS_PORT="$GATEWAY_TLS_PORT" QUICKSELL_SERVER_TLS_CERT_FILE="$WORK/tls/server.pem" \
        QUICKSELL_SERVER_TLS_KEY_FILE="$WORK/tls/server.key"
}
