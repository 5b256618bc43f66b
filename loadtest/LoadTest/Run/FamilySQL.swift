import CacheModel

/// The statement that builds a row family's value, exactly as the gateway runs it (the
/// gateway's own `FamilyQueries`), so that the staleness verifier compares with the very
/// text the gateway would cache. `$1` is a bigint array; column 1 is the JSON.
enum FamilySQL {
    static func sql(_ family: LoadFamily) -> String? {
        guard let key = KeyFamily(rawValue: family.rawValue), key.hasID else { return nil }
        return FamilyQueries.sql(key)
    }
}
