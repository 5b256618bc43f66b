import Postgres

/// Rows every read-through test starts from, with explicit ids so tests can name them.
///
/// Users: 1 alice (active, with secrets), 2 bob (suspended), 3 carol (status deleted),
/// 4 dave (deleted_at set), 5..9 sellers for the leaderboards. Listing 10 has three photos
/// whose display order differs from their ids; listing 11 is deleted.
enum Fixtures {
    static func load(_ connection: PostgresConnection) throws {
        try connection.execute(sql)
    }

    static let sql = """
        INSERT INTO users (id, username, email, password_hash, google_id, facebook_id, apple_id, account_status,
                           deleted_at, total_revenue, avg_rating, notification_preferences) VALUES
          (1, 'alice', 'alice@example.com', 'secret-hash-1', 'google-secret-1', 'facebook-secret-1', 'apple-secret-1',
           'active', NULL, 1234.50, 4.75, '{"email": true}'),
          (2, 'bob', 'bob@example.com', 'secret-hash-2', NULL, NULL, NULL, 'suspended', NULL, 0, NULL, NULL),
          (3, 'carol', 'carol@example.com', 'secret-hash-3', NULL, NULL, NULL, 'deleted', NULL, 0, NULL, NULL),
          (4, 'dave', 'dave@example.com', 'secret-hash-4', NULL, NULL, NULL, 'active', '2026-01-01', 0, NULL, NULL),
          (5, 'erin', 'erin@example.com', 'x', NULL, NULL, NULL, 'active', NULL, 0, NULL, NULL),
          (6, 'frank', 'frank@example.com', 'x', NULL, NULL, NULL, 'active', NULL, 0, NULL, NULL),
          (7, 'grace', 'grace@example.com', 'x', NULL, NULL, NULL, 'active', NULL, 0, NULL, NULL),
          (8, 'heidi', 'heidi@example.com', 'x', NULL, NULL, NULL, 'active', NULL, 0, NULL, NULL),
          (9, 'ivan', 'ivan@example.com', 'x', NULL, NULL, NULL, 'active', NULL, 0, NULL, NULL);
        SELECT setval('users_id_seq', 100);

        INSERT INTO listings (id, user_id, title, description, category, condition, price, status, deleted_at) VALUES
          (10, 1, 'Lamp', 'A lamp', 'home', 'good', 19.99, 'published', NULL),
          (11, 1, 'Old chair', 'Gone', 'home', 'fair', 5.00, 'published', '2026-01-01'),
          (12, 2, 'Bike', 'A bike', 'sports', 'like_new', 250.00, 'published', NULL),
          (51, 1, 's', 's', 'x', 'new', 1, 'sold', NULL), (52, 5, 's', 's', 'x', 'new', 1, 'sold', NULL),
          (53, 6, 's', 's', 'x', 'new', 1, 'sold', NULL), (54, 7, 's', 's', 'x', 'new', 1, 'sold', NULL),
          (55, 8, 's', 's', 'x', 'new', 1, 'sold', NULL), (56, 9, 's', 's', 'x', 'new', 1, 'sold', NULL),
          (57, 2, 's', 's', 'x', 'new', 1, 'sold', NULL);
        SELECT setval('listings_id_seq', 100);

        INSERT INTO photos (id, listing_id, user_id, original_url, display_order, is_primary) VALUES
          (100, 10, 1, 'https://img/100.jpg', 2, false),
          (101, 10, 1, 'https://img/101.jpg', 1, true),
          (102, 10, 1, 'https://img/102.jpg', 1, false);
        SELECT setval('photos_id_seq', 1000);

        INSERT INTO marketplace_accounts (id, user_id, marketplace_name, access_token, refresh_token) VALUES
          (20, 1, 'ebay', 'token-secret-a', 'refresh-secret-a'),
          (21, 1, 'mercari', 'token-secret-b', 'refresh-secret-b');
        INSERT INTO marketplace_listings (id, listing_id, marketplace_account_id, marketplace_name,
                                          marketplace_listing_id, sync_status, posted_price, synced_data) VALUES
          (30, 10, 20, 'ebay', 'EB-1', 'active', 21.00, '{"views": 3}'),
          (31, 10, 21, 'mercari', 'ME-1', 'draft', 20.00, NULL);
        SELECT setval('marketplace_listings_id_seq', 1000);

        INSERT INTO user_stats (user_id, total_points, total_revenue, average_rating) VALUES
          (1, 120, 1234.50, 4.75), (2, 5, 0, NULL);

        INSERT INTO badges (id, badge_key, badge_name, badge_tier, badge_icon_url) VALUES
          (40, 'first_sale', 'First Sale', '1', 'https://img/b40.png'),
          (41, 'power_seller', 'Power Seller', 'special', 'https://img/b41.png');
        SELECT setval('badges_id_seq', 1000);
        INSERT INTO user_badges (user_id, badge_id, unlocked_at) VALUES
          (1, 40, '2026-01-02 10:00:00'), (1, 41, '2026-02-03 11:00:00');

        -- Leaderboards: sales just inside and just outside the current ISO week and month (UTC).
        WITH b AS (SELECT date_trunc('week', now() AT TIME ZONE 'UTC') AS week,
                          date_trunc('month', now() AT TIME ZONE 'UTC') AS month)
        INSERT INTO sales (listing_id, seller_id, sale_price, status, sale_date)
        SELECT * FROM (VALUES
          (51, 1, 100.00, 'completed'::sale_status, (SELECT week FROM b) + interval '1 second'),
          (52, 5, 500.00, 'completed'::sale_status, (SELECT week FROM b) - interval '1 second'),
          (53, 6, 300.00, 'completed'::sale_status, (SELECT month FROM b) + interval '1 second'),
          (54, 7, 700.00, 'completed'::sale_status, (SELECT month FROM b) - interval '1 second'),
          (54, 7, 900.00, 'pending'::sale_status, (SELECT week FROM b) + interval '2 seconds'),
          (55, 8, 50.00, 'completed'::sale_status, (SELECT week FROM b) + interval '3 seconds'),
          (55, 8, 50.00, 'completed'::sale_status, (SELECT week FROM b) + interval '4 seconds'),
          (56, 9, 100.00, 'completed'::sale_status, (SELECT week FROM b) + interval '5 seconds'),
          (57, 2, 1000.00, 'completed'::sale_status, (SELECT week FROM b) + interval '6 seconds')
        ) AS v;
        """
}
