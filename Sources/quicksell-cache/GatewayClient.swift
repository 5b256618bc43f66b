import HiredisClient

/// A blocking connection to the gateway on hiredis: what the CLI sends is what any Redis
/// client would send. Every failure becomes a one-line `CLIError` naming the address tried.
final class GatewayClient {
    let address: GatewayAddress
    private let connection: HiredisConnection

    /// Connects and authenticates (when credentials are given), then checks with PING
    /// that the gateway answers, so that "authentication required" is reported up front.
    init(_ address: GatewayAddress, timeoutSeconds: Int = 10) throws {
        self.address = address
        do throws(HiredisError) {
            connection = try HiredisConnection(host: address.host, port: address.port, timeoutSeconds: timeoutSeconds)
            if let password = address.password {
                try connection.authenticate(user: address.user, password: password)
            }
        } catch {
            throw Self.cliError(error, address, sending: false)
        }
        if case .error(let message) = try send(["PING"]) {
            if message.hasPrefix("NOAUTH") {
                throw CLIError("the gateway at \(address.display) requires authentication: pass --password "
                    + "(and --user), --url or QUICKSELL_GATEWAY_PASSWORD")
            }
            throw CLIError("the gateway at \(address.display) refused PING: \(message)")
        }
    }

    /// How long to wait for replies from now on (a family flush of millions of keys takes a while).
    func setTimeout(seconds: Int) {
        connection.setTimeout(seconds: seconds)
    }

    /// Sends one command and waits for its reply (error replies are returned, not thrown).
    func send(_ arguments: [String]) throws -> HiredisReply {
        do throws(HiredisError) {
            return try connection.command(arguments)
        } catch {
            throw Self.cliError(error, address, sending: true)
        }
    }

    /// Sends a command whose error reply ends the CLI: `ERR ` is dropped from the message.
    func call(_ arguments: [String]) throws -> HiredisReply {
        let reply = try send(arguments)
        if case .error(let message) = reply {
            throw CLIError(message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message)
        }
        return reply
    }

    private static func cliError(_ error: HiredisError, _ address: GatewayAddress, sending: Bool) -> CLIError {
        let gateway = "the gateway at \(address.display)"
        switch error {
        case .cannotConnect(_, let reason): return CLIError("cannot connect to \(gateway): \(reason)")
        case .outOfMemory: return CLIError("cannot \(sending ? "send" : "connect") to \(gateway): out of memory")
        case .connectionLost(_, let reason): return CLIError("lost the connection to \(gateway): \(reason)")
        case .authenticationRefused(_, let user, let message):
            return CLIError("authentication to \(gateway) as '\(user)' failed: \(message)")
        }
    }
}
