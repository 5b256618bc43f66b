/// The one SQL statement per family that builds its values. PostgreSQL makes the JSON
/// (`to_jsonb`), so numbers, decimals and timestamps keep PostgreSQL's exact text, and
/// one statement serves a whole batch of ids (`unnest($1::bigint[])`).
///
/// Row families return `(id, json or NULL for an absent row, snapshot)` for every id asked
/// for; leaderboards return `(json, seconds until the period ends, snapshot)`. The
/// snapshot (`pg_current_snapshot()`) tells which writes the value already contains, so
/// that a value read before a write is never stored after that write's invalidation.
public enum FamilyQueries {
    /// Columns that never leave PostgreSQL.
    package static let secretUserColumns = ["password_hash", "google_id", "facebook_id", "apple_id"]

    package static func statementName(_ family: KeyFamily) -> String {
        "qs_fill_" + String(family.rawValue.map { $0 == ":" ? "_" : $0 })
    }

    public static func sql(_ family: KeyFamily) -> String {
        switch family {
        case .user:
            return """
                SELECT ids.id, (to_jsonb(u) - '{password_hash,google_id,facebook_id,apple_id}'::text[])::text,
                       pg_current_snapshot()::text
                FROM unnest($1::bigint[]) AS ids(id)
                LEFT JOIN users u ON u.id = ids.id AND u.deleted_at IS NULL AND u.account_status <> 'deleted'
                """
        case .listing:
            return """
                SELECT ids.id, (to_jsonb(l) || jsonb_build_object('photos', coalesce(
                    (SELECT jsonb_agg(to_jsonb(p) ORDER BY p.display_order, p.id)
                     FROM photos p WHERE p.listing_id = l.id), '[]'::jsonb)))::text,
                       pg_current_snapshot()::text
                FROM unnest($1::bigint[]) AS ids(id)
                LEFT JOIN listings l ON l.id = ids.id AND l.deleted_at IS NULL
                """
        case .marketplaceListings:
            return """
                SELECT ids.id, CASE WHEN l.id IS NULL THEN NULL ELSE coalesce(
                    (SELECT jsonb_agg(to_jsonb(m) ORDER BY m.marketplace_name, m.id)
                     FROM marketplace_listings m WHERE m.listing_id = l.id), '[]'::jsonb)::text END,
                       pg_current_snapshot()::text
                FROM unnest($1::bigint[]) AS ids(id)
                LEFT JOIN listings l ON l.id = ids.id AND l.deleted_at IS NULL
                """
        case .userStats:
            return """
                SELECT ids.id, to_jsonb(s)::text, pg_current_snapshot()::text
                FROM unnest($1::bigint[]) AS ids(id)
                LEFT JOIN (user_stats s JOIN users u ON u.id = s.user_id
                           AND u.deleted_at IS NULL AND u.account_status <> 'deleted') ON s.user_id = ids.id
                """
        case .userBadges:
            return """
                SELECT ids.id, CASE WHEN u.id IS NULL THEN NULL ELSE coalesce(
                    (SELECT jsonb_agg(jsonb_build_object(
                        'badge_id', b.id, 'badge_key', b.badge_key, 'badge_name', b.badge_name,
                        'badge_tier', b.badge_tier, 'badge_icon_url', b.badge_icon_url,
                        'unlocked_at', ub.unlocked_at) ORDER BY ub.unlocked_at, b.id)
                     FROM user_badges ub JOIN badges b ON b.id = ub.badge_id
                     WHERE ub.user_id = u.id), '[]'::jsonb)::text END,
                       pg_current_snapshot()::text
                FROM unnest($1::bigint[]) AS ids(id)
                LEFT JOIN users u ON u.id = ids.id AND u.deleted_at IS NULL AND u.account_status <> 'deleted'
                """
        case .leaderboardWeekly:
            return leaderboard(period: "week")
        case .leaderboardMonthly:
            return leaderboard(period: "month")
        }
    }

    /// Top sellers by revenue of completed sales in the current ISO week or calendar
    /// month (UTC), ties broken by number of sales, then user id. `$1` is the size.
    private static func leaderboard(period: String) -> String {
        """
        WITH bounds AS (
            SELECT date_trunc('\(period)', now() AT TIME ZONE 'UTC') AS start,
                   date_trunc('\(period)', now() AT TIME ZONE 'UTC') + interval '1 \(period)' AS stop
        ), ranked AS (
            SELECT s.seller_id AS user_id, u.username, count(*) AS sales, sum(s.sale_price) AS revenue
            FROM sales s JOIN users u ON u.id = s.seller_id, bounds b
            WHERE s.status = 'completed' AND s.sale_date >= b.start AND s.sale_date < b.stop
              AND u.deleted_at IS NULL AND u.account_status = 'active'
            GROUP BY s.seller_id, u.username
            ORDER BY revenue DESC, sales DESC, s.seller_id
            LIMIT $1::integer
        ), numbered AS (
            SELECT row_number() OVER (ORDER BY revenue DESC, sales DESC, user_id) AS rank, * FROM ranked
        )
        SELECT coalesce((SELECT jsonb_agg(jsonb_build_object(
                   'rank', rank, 'user_id', user_id, 'username', username,
                   'sales', sales, 'revenue', revenue) ORDER BY rank) FROM numbered), '[]'::jsonb)::text,
               ceil(extract(epoch FROM (SELECT stop FROM bounds) - (now() AT TIME ZONE 'UTC')))::bigint,
               pg_current_snapshot()::text
        """
    }
}
