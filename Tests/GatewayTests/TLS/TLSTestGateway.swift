import Foundation
import Gateway

/// Runs `body` against an in-process gateway with a TLS listener on a free port (and the
/// plaintext one unless `plaintext` is false), shut down afterwards.
func withTLSGateway<T>(
    _ tls: TLSSettings, plaintext: Bool = true, maxClients: Int = 10_000,
    _ body: (GatewayServer) async throws -> T
) async throws -> T {
    try await withGateway(maxClients: maxClients, configure: { configuration in
        configuration.tls = tls
        configuration.plaintext = plaintext
    }, body)
}

/// `redis-cli --tls --cacert CA -p PORT args…` (plus `extra`, e.g. a client certificate),
/// bounded to 10 s.
func tlsRedisCLI(port: Int, caCertificate: String, _ arguments: [String], extra: [String] = []) async throws -> SubprocessResult {
    let all = ["-h", "127.0.0.1", "-p", String(port), "--tls", "--cacert", caCertificate] + extra + arguments
    let result = try await runProcess("/usr/bin/redis-cli", all, timeout: .seconds(10))
    guard !result.timedOut else { throw TestFailure("redis-cli --tls \(arguments) timed out") }
    return result
}

/// redis-py with `ssl=True, ssl_ca_certs=CA`: PING then ECHO, printed; a connection error is
/// printed as `error: …` (exit status 1). Bounded to 20 s.
func redisPyOverTLS(port: Int, caCertificate: String, clientCertificate: (String, String)? = nil) async throws -> SubprocessResult {
    let script = """
        import sys, redis
        port, ca = int(sys.argv[1]), sys.argv[2]
        extra = {"ssl_certfile": sys.argv[3], "ssl_keyfile": sys.argv[4]} if len(sys.argv) > 4 else {}
        client = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca, socket_timeout=5,
                             socket_connect_timeout=5, **extra)
        try:
            print(client.ping())
            print(client.echo("over-tls"))
        except redis.exceptions.RedisError as error:
            print("error:", error)
            sys.exit(1)
        """
    var arguments = ["python3", "-c", script, String(port), caCertificate]
    if let (certificate, key) = clientCertificate { arguments += [certificate, key] }
    let result = try await runProcess("/usr/bin/env", arguments, timeout: .seconds(20))
    guard !result.timedOut else { throw TestFailure("redis-py over TLS timed out") }
    return result
}
