/// The writes the load generator applies to PostgreSQL, one statement each, so that the
/// gateway's triggers and invalidation are part of every mixed run. `$1` is a user or listing
/// id drawn uniformly from the key universe.
public enum WriteKind: String, CaseIterable, Sendable, Codable {
    case user, listing, photo, marketplaceCopy = "marketplace_copy", stats, badge, sale

    var idSource: IDSource {
        switch self {
        case .user, .stats, .badge, .sale: return .users
        case .listing, .photo, .marketplaceCopy: return .listings
        }
    }

    var sql: String {
        switch self {
        case .user:
            return "UPDATE users SET points = points + 1 WHERE id = $1::integer"
        case .listing:
            return "UPDATE listings SET view_count = view_count + 1 WHERE id = $1::integer"
        case .photo:
            return """
                UPDATE photos SET quality_score = round((random() * 0.99)::numeric, 2)
                WHERE id = (SELECT id FROM photos WHERE listing_id = $1::integer ORDER BY id LIMIT 1)
                """
        case .marketplaceCopy:
            return """
                UPDATE marketplace_listings SET views_on_marketplace = views_on_marketplace + 1
                WHERE id = (SELECT id FROM marketplace_listings WHERE listing_id = $1::integer ORDER BY id LIMIT 1)
                """
        case .stats:
            return "UPDATE user_stats SET total_points = total_points + 1 WHERE user_id = $1::integer"
        case .badge:
            return """
                UPDATE user_badges SET unlocked_at = unlocked_at + interval '1 second'
                WHERE id = (SELECT id FROM user_badges WHERE user_id = $1::integer ORDER BY id LIMIT 1)
                """
        case .sale:
            return """
                INSERT INTO sales (listing_id, seller_id, sale_price, final_amount, status, sale_date, completed_date)
                SELECT l.id, l.user_id, l.price, l.price, 'completed', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                FROM listings l WHERE l.user_id = $1::integer ORDER BY l.id LIMIT 1
                """
        }
    }
}
