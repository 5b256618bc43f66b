import Postgres

/// `user_challenges`: 0-4 distinct challenges per user with progress and status.
enum UserChallengesWriter: TableWriter {
    static let table = "user_challenges"
    static let columns = [
        "id", "user_id", "challenge_id", "progress", "progress_percentage", "status", "started_at", "completed_at",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 106)
        let count = ChallengesWriter.catalogue.count
        let windows = (0..<count).map { ChallengesWriter.window(plan, $0) }
        var deck = Array(0..<count)
        var id = 0
        for user in 0..<plan.userCount {
            let joined = rng.int(0...4)
            for slot in 0..<joined {
                deck.swapAt(slot, rng.int(slot...(deck.count - 1)))
                let challenge = deck[slot]
                let (start, end) = windows[challenge]
                let goal = ChallengesWriter.catalogue[challenge].7
                let started = rng.int64(start...max(start, min(end, plan.now) - UTCTime.minute))
                let finishedOrRunning = end <= plan.now
                let completed = rng.percent(finishedOrRunning ? 45 : 20)
                let progress = completed ? goal : rng.int(0...(goal - 1))
                id += 1
                copy.field(id)
                copy.field(user + 1)
                copy.field(challenge + 1)
                copy.field(progress)
                copy.hundredths(progress * 10_000 / goal)
                copy.field(completed ? "completed" : (finishedOrRunning ? "expired" : "active"))
                copy.timestamp(started)
                copy.timestamp(completed ? rng.int64(started...max(started, min(end, plan.now))) : nil)
                try copy.endRow()
            }
        }
    }
}
