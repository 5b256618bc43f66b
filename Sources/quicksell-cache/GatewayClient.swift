import CHiredis
import Foundation

/// A blocking connection to the gateway on hiredis, the reference C client: what the CLI
/// sends is what any Redis client would send. Every failure becomes a one-line `CLIError`
/// naming the address tried.
final class GatewayClient {
    let address: GatewayAddress
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects and authenticates (when credentials are given), then checks with PING
    /// that the gateway answers, so that "authentication required" is reported up front.
    init(_ address: GatewayAddress, timeoutSeconds: Int = 10) throws {
        self.address = address
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(address.host, Int32(address.port), timeout) else {
            throw CLIError("cannot connect to the gateway at \(address.display): out of memory")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw CLIError("cannot connect to the gateway at \(address.display): \(reason)")
        }
        redisSetTimeout(context, timeout)
        self.context = context
        if let password = address.password {
            let reply = try send(["AUTH", address.user ?? "default", password])
            if case .error(let message) = reply {
                throw CLIError("authentication to the gateway at \(address.display) as '\(address.user ?? "default")' failed: \(message)")
            }
        }
        if case .error(let message) = try send(["PING"]) {
            if message.hasPrefix("NOAUTH") {
                throw CLIError("the gateway at \(address.display) requires authentication: pass --password "
                    + "(and --user), --url or QUICKSELL_GATEWAY_PASSWORD")
            }
            throw CLIError("the gateway at \(address.display) refused PING: \(message)")
        }
    }

    deinit { redisFree(context) }

    /// How long to wait for replies from now on (a family flush of millions of keys takes a while).
    func setTimeout(seconds: Int) {
        redisSetTimeout(context, timeval(tv_sec: seconds, tv_usec: 0))
    }

    /// Sends one command and waits for its reply (error replies are returned, not thrown).
    func send(_ arguments: [String]) throws -> GatewayReply {
        // hiredis copies the arguments into its output buffer during the call.
        let owned: [UnsafeMutableBufferPointer<UInt8>] = arguments.map { argument in
            let bytes = Array(argument.utf8)
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
            _ = copy.initialize(from: bytes)
            return copy
        }
        defer { owned.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = owned.map { buffer in
            buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
        }
        var lengths = arguments.map { $0.utf8.count }
        let status: Int32 = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeMutableBufferPointer { lens in
                redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, lens.baseAddress)
            }
        }
        guard status == REDIS_OK else { throw CLIError("cannot send to the gateway at \(address.display): out of memory") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw CLIError("lost the connection to the gateway at \(address.display): \(Self.errorText(context))")
        }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Sends a command whose error reply ends the CLI: `ERR ` is dropped from the message.
    func call(_ arguments: [String]) throws -> GatewayReply {
        let reply = try send(arguments)
        if case .error(let message) = reply {
            throw CLIError(message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message)
        }
        return reply
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafePointer(to: context.pointee.errstr) {
            $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> GatewayReply {
        let value = reply.pointee
        func text() -> String {
            guard let str = value.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(value.len)), as: UTF8.self)
        }
        switch value.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var items: [GatewayReply] = []
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { items.append(convert(element)) }
            }
            return .array(items)
        default: return .null
        }
    }
}
