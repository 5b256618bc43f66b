-- 006: cache invalidation. Triggers on every table a cached value is made from record
-- the affected cache keys in an outbox (cache_invalidations) and ring a doorbell with
-- NOTIFY. Statement-level triggers with transition tables: a bulk UPDATE of 100,000 rows
-- writes a few hundred outbox rows and one notification, not 100,000.
--
-- Notification payload (channel quicksell_invalidation), always well under 8,000 bytes:
--   <first id>-<last id>@<trigger time, microseconds since the epoch>#<transaction id>[|key,key,...]
-- The keys are inline when they fit in 4,000 bytes; otherwise the listener reads
-- them from the outbox rows first id..last id. After a reconnect the gateway replays the
-- outbox rows of transactions it may have missed (by transaction id and snapshot).

CREATE TABLE cache_invalidations (
  id bigserial PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  keys text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Replay after a reconnect looks rows up by transaction id; trimming by age.
CREATE INDEX idx_cache_invalidations_xid ON cache_invalidations (xid);
CREATE INDEX idx_cache_invalidations_created_at ON cache_invalidations (created_at);

-- Records `keys` (deduplicated, in chunks of 500 per row) and notifies once.
CREATE FUNCTION quicksell_invalidate(keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  unique_keys text[];
  first_id bigint;
  last_id bigint;
  chunk_size constant integer := 500;
  payload text;
  inline_keys text;
BEGIN
  SELECT array_agg(DISTINCT k) INTO unique_keys FROM unnest(keys) AS k WHERE k IS NOT NULL;
  IF unique_keys IS NULL OR cardinality(unique_keys) = 0 THEN
    RETURN;
  END IF;
  WITH chunks AS (
    SELECT array_agg(k ORDER BY k) AS chunk
    FROM (SELECT k, (row_number() OVER (ORDER BY k) - 1) / chunk_size AS n FROM unnest(unique_keys) AS k) numbered
    GROUP BY n
  ), inserted AS (
    INSERT INTO cache_invalidations (keys) SELECT chunk FROM chunks RETURNING id
  )
  SELECT min(id), max(id) INTO first_id, last_id FROM inserted;
  payload := first_id || '-' || last_id || '@' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
             || '#' || pg_current_xact_id()::text;
  inline_keys := array_to_string(unique_keys, ',');
  IF octet_length(inline_keys) <= 4000 THEN
    payload := payload || '|' || inline_keys;
  END IF;
  PERFORM pg_notify('quicksell_invalidation', payload);
END;
$$;

-- users → user:{id}, and the values that read the user's deleted state (user_stats,
-- user_badges); the leaderboards when a username or status changes.
CREATE FUNCTION quicksell_invalidate_users() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM quicksell_invalidate(ARRAY(
      SELECT unnest(ARRAY['user:' || id, 'user_stats:' || id, 'user_badges:' || id]) FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM quicksell_invalidate(ARRAY(
      SELECT unnest(ARRAY['user:' || id, 'user_stats:' || id, 'user_badges:' || id,
                          'leaderboard:weekly', 'leaderboard:monthly']) FROM old_rows));
  ELSE
    PERFORM quicksell_invalidate(ARRAY(
      SELECT unnest(ARRAY['user:' || n.id, 'user:' || o.id, 'user_stats:' || n.id, 'user_badges:' || n.id])
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      UNION ALL
      SELECT unnest(ARRAY['leaderboard:weekly', 'leaderboard:monthly'])
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE n.username IS DISTINCT FROM o.username OR n.account_status IS DISTINCT FROM o.account_status
         OR n.deleted_at IS DISTINCT FROM o.deleted_at));
  END IF;
  RETURN NULL;
END;
$$;

-- listings → listing:{id} and marketplace_listings:{id} (absent with the listing).
CREATE FUNCTION quicksell_invalidate_listings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM quicksell_invalidate(ARRAY(
      SELECT unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM quicksell_invalidate(ARRAY(
      SELECT unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) FROM old_rows));
  ELSE
    PERFORM quicksell_invalidate(ARRAY(
      SELECT unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) FROM new_rows
      UNION ALL
      SELECT unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) FROM old_rows));
  END IF;
  RETURN NULL;
END;
$$;

-- A table whose rows belong to one cached key by a column: `prefix` || column, for the
-- old and the new row (a photo moving between listings invalidates both).
CREATE FUNCTION quicksell_invalidate_by_column() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prefix text := TG_ARGV[0];
  column_name text := TG_ARGV[1];
  keys text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('SELECT array_agg(DISTINCT %L || %I) FROM new_rows', prefix, column_name) INTO keys;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT %L || %I) FROM old_rows', prefix, column_name) INTO keys;
  ELSE
    EXECUTE format('SELECT array_agg(DISTINCT k) FROM (SELECT %L || %I AS k FROM new_rows
                    UNION SELECT %L || %I FROM old_rows) ks', prefix, column_name, prefix, column_name) INTO keys;
  END IF;
  PERFORM quicksell_invalidate(keys);
  RETURN NULL;
END;
$$;

-- badges → user_badges:{user_id} of every holder.
CREATE FUNCTION quicksell_invalidate_badges() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    RETURN NULL;  -- a new badge has no holders yet
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM quicksell_invalidate(ARRAY(
      SELECT DISTINCT 'user_badges:' || ub.user_id FROM user_badges ub JOIN old_rows o ON o.id = ub.badge_id));
  ELSE
    PERFORM quicksell_invalidate(ARRAY(
      SELECT DISTINCT 'user_badges:' || ub.user_id FROM user_badges ub JOIN new_rows n ON n.id = ub.badge_id));
  END IF;
  RETURN NULL;
END;
$$;

-- sales → the leaderboards of the periods a changed sale falls in (old or new row).
CREATE FUNCTION quicksell_invalidate_sales() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  week_start timestamp := date_trunc('week', now() AT TIME ZONE 'UTC');
  month_start timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
  dates timestamp[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(sale_date) INTO dates FROM new_rows WHERE sale_date >= least(week_start, month_start);
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(sale_date) INTO dates FROM old_rows WHERE sale_date >= least(week_start, month_start);
  ELSE
    SELECT array_agg(d) INTO dates FROM (
      SELECT sale_date AS d FROM new_rows UNION ALL SELECT sale_date FROM old_rows) s
    WHERE d >= least(week_start, month_start);
  END IF;
  IF dates IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM quicksell_invalidate(ARRAY(
    SELECT DISTINCT k FROM (
      SELECT CASE WHEN d >= week_start THEN 'leaderboard:weekly' END AS k FROM unnest(dates) d
      UNION ALL
      SELECT CASE WHEN d >= month_start THEN 'leaderboard:monthly' END FROM unnest(dates) d) ks
    WHERE k IS NOT NULL));
  RETURN NULL;
END;
$$;

-- Three statement-level triggers per table (transition tables allow one event each).
CREATE TRIGGER trg_users_invalidate_insert AFTER INSERT ON users
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_users();
CREATE TRIGGER trg_users_invalidate_update AFTER UPDATE ON users
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_users();
CREATE TRIGGER trg_users_invalidate_delete AFTER DELETE ON users
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_users();

CREATE TRIGGER trg_listings_invalidate_insert AFTER INSERT ON listings
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_listings();
CREATE TRIGGER trg_listings_invalidate_update AFTER UPDATE ON listings
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_listings();
CREATE TRIGGER trg_listings_invalidate_delete AFTER DELETE ON listings
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_listings();

CREATE TRIGGER trg_photos_invalidate_insert AFTER INSERT ON photos
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('listing:', 'listing_id');
CREATE TRIGGER trg_photos_invalidate_update AFTER UPDATE ON photos
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('listing:', 'listing_id');
CREATE TRIGGER trg_photos_invalidate_delete AFTER DELETE ON photos
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('listing:', 'listing_id');

CREATE TRIGGER trg_marketplace_listings_invalidate_insert AFTER INSERT ON marketplace_listings
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION quicksell_invalidate_by_column('marketplace_listings:', 'listing_id');
CREATE TRIGGER trg_marketplace_listings_invalidate_update AFTER UPDATE ON marketplace_listings
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION quicksell_invalidate_by_column('marketplace_listings:', 'listing_id');
CREATE TRIGGER trg_marketplace_listings_invalidate_delete AFTER DELETE ON marketplace_listings
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION quicksell_invalidate_by_column('marketplace_listings:', 'listing_id');

CREATE TRIGGER trg_user_stats_invalidate_insert AFTER INSERT ON user_stats
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('user_stats:', 'user_id');
CREATE TRIGGER trg_user_stats_invalidate_update AFTER UPDATE ON user_stats
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('user_stats:', 'user_id');
CREATE TRIGGER trg_user_stats_invalidate_delete AFTER DELETE ON user_stats
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('user_stats:', 'user_id');

CREATE TRIGGER trg_user_badges_invalidate_insert AFTER INSERT ON user_badges
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('user_badges:', 'user_id');
CREATE TRIGGER trg_user_badges_invalidate_update AFTER UPDATE ON user_badges
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('user_badges:', 'user_id');
CREATE TRIGGER trg_user_badges_invalidate_delete AFTER DELETE ON user_badges
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_by_column('user_badges:', 'user_id');

CREATE TRIGGER trg_badges_invalidate_update AFTER UPDATE ON badges
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_badges();
CREATE TRIGGER trg_badges_invalidate_delete AFTER DELETE ON badges
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_badges();

CREATE TRIGGER trg_sales_invalidate_insert AFTER INSERT ON sales
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_sales();
CREATE TRIGGER trg_sales_invalidate_update AFTER UPDATE ON sales
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_sales();
CREATE TRIGGER trg_sales_invalidate_delete AFTER DELETE ON sales
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION quicksell_invalidate_sales();
