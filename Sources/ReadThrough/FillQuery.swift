import CacheModel
import NIOCore
import Postgres

/// Reads one batch of a family's keys from PostgreSQL (one statement) and decodes the rows.
enum FillQuery {
    /// The values found, by key (a key the query returned no row for is missing).
    static func run(
        _ keys: [CacheKey], family: KeyFamily, settings: CacheSettings, connection: PooledConnection
    ) throws -> [CacheKey: FilledValue] {
        let name = FamilyQueries.statementName(family)
        let sql = FamilyQueries.sql(family)
        if !family.hasID {
            let result = try connection.execute(prepared: name, sql: sql, [String(settings.leaderboardSize)])
            guard let key = keys.first, let row = result.rows.first, row.count == 3, let snapshot = row[2] else {
                throw PostgresError.unexpectedValue(column: "snapshot", value: nil)
            }
            let json = row[0].map { ByteBuffer(string: $0) } ?? ByteBuffer(string: "[]")
            let seconds = row[1].flatMap { Int($0) }
            return [key: FilledValue(json: json, secondsUntilPeriodEnd: seconds, snapshot: snapshot)]
        }
        let ids = "{" + keys.map { String($0.id) }.joined(separator: ",") + "}"
        let result = try connection.execute(prepared: name, sql: sql, [ids])
        var values: [CacheKey: FilledValue] = [:]
        for row in result.rows where row.count == 3 {
            guard let idText = row[0], let id = Int64(idText), let snapshot = row[2] else {
                throw PostgresError.unexpectedValue(column: "id", value: row[0])
            }
            values[CacheKey(family: family, id: id)] = FilledValue(
                json: row[1].map { ByteBuffer(string: $0) }, secondsUntilPeriodEnd: nil, snapshot: snapshot)
        }
        return values
    }
}
