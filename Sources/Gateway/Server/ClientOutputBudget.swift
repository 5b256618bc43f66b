/// The bytes one connection owes its client, against the soft output limit: what its socket
/// has not taken yet, plus an estimate for each reply still being produced. The estimate is
/// the size of the largest recent reply, so a client reading 8.5 KB leaderboards gets fewer
/// requests run ahead of its reading than one reading 100-byte values, and a pipeline that
/// the client never reads stops at about the soft limit however large its values are.
struct ClientOutputBudget: Equatable {
    let softLimit: Int
    /// Bytes of a reply not produced yet; starts at a guess, then follows recent replies.
    private(set) var replyEstimate: Int
    /// Bytes written for the client that its socket has not taken (last measured).
    private(set) var buffered = 0

    static let initialReplyEstimate = 4096
    private static let smallestEstimate = 16

    init(softLimit: Int) {
        self.softLimit = softLimit
        self.replyEstimate = Self.initialReplyEstimate
    }

    /// Whether another request may run while `pendingReplies` replies are still owed.
    func allowsAnotherRequest(pendingReplies: Int) -> Bool {
        buffered + pendingReplies * replyEstimate < softLimit
    }

    /// A reply of `bytes` was written: a larger one raises the estimate at once, smaller ones
    /// lower it by a sixteenth each, so one large value is not forgotten after one small one.
    mutating func replyWritten(bytes: Int) {
        if bytes >= replyEstimate {
            replyEstimate = bytes
        } else {
            replyEstimate = max(Self.smallestEstimate, bytes, replyEstimate - replyEstimate >> 4)
        }
    }

    mutating func bufferedChanged(to bytes: Int) {
        buffered = bytes
    }

    /// What this client's requests awaiting a backend were charged to its event loop.
    private(set) var chargedBytes = 0
    private(set) var inFlight = 0

    /// A request now awaits a backend: returns the bytes to charge the loop (the estimate).
    mutating func charge() -> Int {
        chargedBytes += replyEstimate
        inFlight += 1
        return replyEstimate
    }

    /// One awaited reply arrived: returns the bytes to release (an equal share of the charge,
    /// so that everything charged is released once the last one arrives).
    mutating func release() -> Int {
        guard inFlight > 0 else { return 0 }
        let share = inFlight == 1 ? chargedBytes : chargedBytes / inFlight
        chargedBytes -= share
        inFlight -= 1
        return share
    }

    /// The connection is gone: returns everything still charged.
    mutating func releaseAll() -> Int {
        defer {
            chargedBytes = 0
            inFlight = 0
        }
        return chargedBytes
    }
}
