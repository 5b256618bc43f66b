import Foundation
import Postgres
import TestSupport

/// The rows the fault tests write (`listings` 1…count with a `view_count` that only
/// grows) and the check that every one reads back exactly as PostgreSQL has it.
enum ListingRows {
    static func setUp(count: Int) -> (PostgresConnection) throws -> Void {
        { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'fault', 'fault@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price, view_count)
                SELECT g, 1, 't', 'd', 'c', 'new', 1, 0 FROM generate_series(1, \(count)) g;
                """)
        }
    }

    /// Bumps the view count of `id` (one statement, one invalidation).
    static func write(_ connection: PostgresConnection, id: Int) throws {
        try connection.execute("UPDATE listings SET view_count = view_count + 1 WHERE id = \(id)")
    }

    /// Every listing whose value through the gateway differs from PostgreSQL's row.
    static func staleKeys(client: RedisTestClient, connection: PostgresConnection) throws -> [String] {
        let rows = try connection.query("SELECT id, view_count FROM listings ORDER BY id")
        var expected: [Int: Int] = [:]
        for row in rows.rows {
            if let id = row[0].flatMap({ Int($0) }), let count = row[1].flatMap({ Int($0) }) { expected[id] = count }
        }
        var stale: [String] = []
        let ids = expected.keys.sorted()
        for start in stride(from: 0, to: ids.count, by: 200) {
            let chunk = ids[start..<min(start + 200, ids.count)]
            let reply = try client.command(["MGET"] + chunk.map { "listing:\($0)" })
            guard case .array(let values) = reply, values.count == chunk.count else {
                return ["MGET failed: \(reply)"]
            }
            for (id, value) in zip(chunk, values) where InvalidationRaceTests.viewCount(value.string ?? "") != expected[id] {
                stale.append("listing:\(id) \(value) (PostgreSQL: \(expected[id] ?? -1))")
            }
        }
        return stale
    }
}
