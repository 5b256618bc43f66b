/// The statements that build a row family's value, as the gateway runs them.
///
/// Copied verbatim (value and id columns) from `Sources/Gateway/Families/FamilyQueries.swift`,
/// which is internal to the gateway: the staleness verifier must compare with exactly the
/// text the gateway would cache. Keep the two in step; the integration test fails (values
/// never match) if they drift. `$1` is a one-element bigint array; column 1 is the JSON.
enum FamilySQL {
    static func sql(_ family: LoadFamily) -> String? {
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
        case .leaderboardWeekly, .leaderboardMonthly:
            return nil
        }
    }
}
