-- Tops the bench database's users up by :missing rows after the highest id, with values
-- shaped like the seeder's (similar JSON size: about 800 bytes per user:{id}).
INSERT INTO users (id, username, email, password_hash, first_name, last_name, profile_picture_url,
                   bio, account_status, email_verified, verified_at, theme, language,
                   notification_preferences, subscription_tier, points, current_level,
                   total_sales, total_revenue, avg_rating, created_at, updated_at)
SELECT base.top + g,
       'bench_seller_' || (base.top + g),
       'bench_seller_' || (base.top + g) || '@example.com',
       md5((base.top + g)::text),
       'Bench',
       'Seller' || (base.top + g),
       'https://cdn.quicksell.app/avatars/' || (base.top + g) || '-' || substr(md5(g::text), 1, 8) || '.jpg',
       CASE WHEN g % 3 = 0 THEN 'Second-hand finds, shipped fast.' END,
       'active', true, timestamp '2025-06-01' + g * interval '1 minute',
       CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END::theme, 'en',
       '{"sms": true, "push": true, "email": false, "marketing": true}'::jsonb,
       'free', g % 1000, 1 + g % 5, g % 20, (g % 10000) / 100.0, 4.50,
       timestamp '2025-06-01' + g * interval '1 minute', timestamp '2026-01-01' + g * interval '1 second'
FROM generate_series(1, :missing) AS g,
     (SELECT coalesce(max(id), 0) AS top FROM users) AS base;
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
