/// The bytes one connection owes its client, against the soft output limit: what its socket
/// has not taken yet, the replies written since the last flush (a run of requests answered at
/// once, from the near cache, must not pile up megabytes before the flush), plus an estimate
/// for each reply still being produced. The estimate is
/// the size of the largest recent reply (or a miss's cost, `missCost`), so a client reading
/// 8.5 KB leaderboards gets fewer requests run ahead of its reading than one reading 100-byte
/// values, and a pipeline that the client never reads stops at about the soft limit however
/// large its values are.
struct ClientOutputBudget: Equatable {
    let softLimit: Int
    /// Bytes of a reply not produced yet; starts at a guess, then follows recent replies.
    private(set) var replyEstimate: Int
    /// Bytes written for the client that its socket has not taken (last measured).
    private(set) var buffered = 0
    /// Bytes of replies written since the last flush (not yet handed to the channel).
    private(set) var unflushed = 0

    static let initialReplyEstimate = 4096
    /// A request costs the event loop work however small its reply: counted as at least this
    /// many bytes, a loop's room (512 KiB by default) holds 512 requests of tiny replies.
    static let smallestEstimate = 1024

    init(softLimit: Int) {
        self.softLimit = softLimit
        self.replyEstimate = Self.initialReplyEstimate
    }

    /// Whether another request may run while `pendingReplies` replies are still owed.
    func allowsAnotherRequest(pendingReplies: Int) -> Bool {
        buffered + unflushed + pendingReplies * replyEstimate < softLimit
    }

    /// A reply of `bytes` was written: a larger one raises the estimate at once, smaller ones
    /// lower it by a sixteenth each, so one large value is not forgotten after one small one.
    mutating func replyWritten(bytes: Int) {
        unflushed += bytes
        if bytes >= replyEstimate {
            replyEstimate = bytes
        } else {
            replyEstimate = max(Self.smallestEstimate, bytes, replyEstimate - replyEstimate >> 4)
        }
    }

    mutating func bufferedChanged(to bytes: Int) {
        buffered = bytes
    }

    /// The replies written so far went to the channel (and count in `buffered` from now on).
    mutating func flushed() {
        unflushed = 0
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

    /// What a miss adds to its request's charge: it holds its place for a PostgreSQL query
    /// (milliseconds, where a hit takes microseconds) and costs the loop several hits' work
    /// (the fill, the store, the reply), however small its answer; 32 of them fill the
    /// default room of a loop (`limits.in_flight_bytes_per_loop`, 512 KiB).
    static let missCost = 16 << 10

    /// The GET of a request missed and is being filled: returns the bytes to add to the charge
    /// (released with the client's later replies, as the rest). The estimate rises to a miss's
    /// cost too, so that a client whose GETs keep missing (a flood of distinct ids) gets as few
    /// requests run ahead as its misses cost, not as its tiny null replies weigh.
    mutating func chargeMiss() -> Int {
        guard inFlight > 0 else { return 0 }
        chargedBytes += Self.missCost
        replyEstimate = max(replyEstimate, Self.missCost)
        return Self.missCost
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
