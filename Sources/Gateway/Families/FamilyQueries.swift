/// The one SQL statement per family that builds its values. PostgreSQL makes the JSON
/// (`to_jsonb`), so numbers, decimals and timestamps keep PostgreSQL's exact text, and
/// one statement serves a whole batch of ids (`= ANY($1)`).
///
/// Row families return `(id, json)` for the ids that exist; missing ids are absent rows.
/// Leaderboards return `(json, seconds until the period ends)`.
enum FamilyQueries {
    /// Columns that never leave PostgreSQL.
    static let secretUserColumns = ["password_hash", "google_id", "facebook_id", "apple_id"]

    static func statementName(_ family: KeyFamily) -> String {
        "qs_fill_" + String(family.rawValue.map { $0 == ":" ? "_" : $0 })
    }

    static func sql(_ family: KeyFamily) -> String {
        switch family {
        case .user:
            return """
                SELECT u.id, (to_jsonb(u) - '{password_hash,google_id,facebook_id,apple_id}'::text[])::text
                FROM users u
                WHERE u.id = ANY($1::bigint[]) AND u.deleted_at IS NULL AND u.account_status <> 'deleted'
                """
        case .listing:
            return """
                SELECT l.id, (to_jsonb(l) || jsonb_build_object('photos', coalesce(
                    (SELECT jsonb_agg(to_jsonb(p) ORDER BY p.display_order, p.id)
                     FROM photos p WHERE p.listing_id = l.id), '[]'::jsonb)))::text
                FROM listings l
                WHERE l.id = ANY($1::bigint[]) AND l.deleted_at IS NULL
                """
        case .marketplaceListings:
            return """
                SELECT l.id, coalesce(
                    (SELECT jsonb_agg(to_jsonb(m) ORDER BY m.marketplace_name, m.id)
                     FROM marketplace_listings m WHERE m.listing_id = l.id), '[]'::jsonb)::text
                FROM listings l
                WHERE l.id = ANY($1::bigint[]) AND l.deleted_at IS NULL
                """
        case .userStats:
            return """
                SELECT s.user_id, to_jsonb(s)::text
                FROM user_stats s JOIN users u ON u.id = s.user_id
                WHERE s.user_id = ANY($1::bigint[]) AND u.deleted_at IS NULL AND u.account_status <> 'deleted'
                """
        case .userBadges:
            return """
                SELECT u.id, coalesce(
                    (SELECT jsonb_agg(jsonb_build_object(
                        'badge_id', b.id, 'badge_key', b.badge_key, 'badge_name', b.badge_name,
                        'badge_tier', b.badge_tier, 'badge_icon_url', b.badge_icon_url,
                        'unlocked_at', ub.unlocked_at) ORDER BY ub.unlocked_at, b.id)
                     FROM user_badges ub JOIN badges b ON b.id = ub.badge_id
                     WHERE ub.user_id = u.id), '[]'::jsonb)::text
                FROM users u
                WHERE u.id = ANY($1::bigint[]) AND u.deleted_at IS NULL AND u.account_status <> 'deleted'
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
               ceil(extract(epoch FROM (SELECT stop FROM bounds) - (now() AT TIME ZONE 'UTC')))::bigint
        """
    }
}
