/// Defaults that the gateway, its operator CLI and the load tool must agree on.
package enum GatewayDefaults {
    /// The Redis-protocol port a gateway listens on unless configured otherwise.
    package static let port = 6380
}
