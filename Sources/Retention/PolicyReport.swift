/// The source document's retention policies, in the order a run applies them: analytics first
/// (their deletion frees listings that only events named), then the listings, their photos,
/// and the archive's end.
public enum RetentionPolicy: String, CaseIterable, Sendable {
    case analytics
    case deletedListings = "deleted_listings"
    case unusedPhotos = "unused_photos"
    case listingArchive = "listing_archive"

    /// What the policy keeps, for the report's first column.
    public var rule: String {
        switch self {
        case .analytics: return "analytics events older than a year: exported to CSV.gz, then deleted"
        case .deletedListings: return "deleted listings: moved to the archive tables"
        case .unusedPhotos: return "photos of listings deleted over 30 days ago: removed, URLs written out"
        case .listingArchive: return "archived listings deleted over 90 days ago: removed"
        }
    }
}

/// What one policy did (or, on a dry run, would do): named counts in a fixed order, and
/// the files it wrote.
public struct PolicyReport: Sendable, Equatable {
    public let policy: RetentionPolicy
    public internal(set) var counts: [(name: String, value: Int)]
    public internal(set) var files: [String] = []
    public internal(set) var batches = 0

    init(_ policy: RetentionPolicy, counts: [String]) {
        self.policy = policy
        self.counts = counts.map { ($0, 0) }
    }

    /// The count called `name` (0 when the policy has none).
    public func count(_ name: String) -> Int {
        counts.first { $0.name == name }?.value ?? 0
    }

    mutating func add(_ name: String, _ value: Int) {
        if let index = counts.firstIndex(where: { $0.name == name }) {
            counts[index].value += value
        } else {
            counts.append((name, value))
        }
    }

    /// `deleted_listings: listings=3 photos=7 …` plus the files written.
    public func line(dryRun: Bool) -> String {
        let numbers = counts.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        var text = "\(policy.rawValue): \(dryRun ? "would " : "")\(numbers)"
        if !dryRun { text += " in \(batches) batch(es)" }
        for file in files { text += "\n  wrote \(file)" }
        return text
    }

    public static func == (lhs: PolicyReport, rhs: PolicyReport) -> Bool {
        lhs.policy == rhs.policy && lhs.files == rhs.files && lhs.batches == rhs.batches
            && lhs.counts.map(\.name) == rhs.counts.map(\.name) && lhs.counts.map(\.value) == rhs.counts.map(\.value)
    }
}
