/// Notices a PostgreSQL connection gone silent: a partition drops packets without a reset and
/// a vanished host sends nothing, so a listener waiting to read would wait (and the cache stay
/// stale) until TCP gives up, many minutes later. Half way through `limit` without a word it
/// asks for a ping (an answer a live server sends within a round trip, as PostgreSQL's
/// `wal_receiver_timeout` does); at `limit`, with the ping unanswered for half of it, it gives
/// up. Silence counts only up to the listener's last read: while it waits on Redis, an answer
/// may be sitting unread in the socket. Pure; the listener reports reads and the time.
package struct SilenceWatch: Sendable {
    package typealias Instant = ContinuousClock.Instant

    package enum Verdict: Equatable {
        case quiet
        case ping
        case giveUp(reason: String)
    }

    let limit: Duration
    private var lastHeard: Instant
    private var lastRead: Instant
    private var pingedAt: Instant?

    package init(limit: Duration, now: Instant) {
        self.limit = limit
        lastHeard = now
        lastRead = now
    }

    /// The socket was read at `now`; `heard` when the server had sent something.
    package mutating func read(now: Instant, heard: Bool) {
        lastRead = now
        if heard {
            lastHeard = now
            pingedAt = nil
        }
    }

    /// What to do at `now`: nothing, send a ping (once per silence), or give the connection up.
    package mutating func verdict(now: Instant) -> Verdict {
        let silence = lastRead - lastHeard
        if let pingedAt, silence >= limit, lastRead - pingedAt >= limit / 2 {
            return .giveUp(reason: "PostgreSQL sent nothing for \(silence.tenthsOfSeconds) s, not even an answer to a ping")
        }
        guard pingedAt == nil, now - lastHeard >= limit / 2 else { return .quiet }
        pingedAt = now
        return .ping
    }
}

extension Duration {
    /// Seconds to a tenth, for messages ("10.3").
    fileprivate var tenthsOfSeconds: String {
        let tenths = components.seconds * 10 + components.attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
