/// What to seed: the knobs of `quicksell-loadtest seed`. Equal options give byte-identical data.
public struct SeedOptions: Sendable, Equatable {
    /// What to do when the database already holds data.
    public enum ExistingData: Sendable, Equatable {
        /// Refuse with `SeedError.databaseNotEmpty` (the default).
        case fail
        /// Do nothing when `users` has rows (`--if-empty`).
        case skipIfUsersExist
        /// Empty all fifteen tables first (`--truncate`).
        case truncate
    }

    /// Number of users; every other table is sized from it.
    public var users: Int
    /// The PRNG seed.
    public var seed: UInt64
    /// "Now" of the data set, epoch seconds (UTC): every date is derived from it.
    public var referenceTime: Int64
    public var existingData: ExistingData

    public init(users: Int, seed: UInt64 = 1, referenceTime: Int64, existingData: ExistingData = .fail) {
        self.users = users
        self.seed = seed
        self.referenceTime = referenceTime
        self.existingData = existingData
    }
}
