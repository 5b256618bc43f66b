-- 007: the invalidation doorbell. Writers keep recording every invalidation in the outbox
-- (cache_invalidations, migration 006), but ring NOTIFY only when a listener may be asleep.
--
-- Why: NOTIFY takes a database-wide lock at commit (PreCommit_Notify) and holds it through
-- the commit, so concurrent writers that all notify commit one at a time (8 single-row
-- UPDATE writers ran at about 0.48x their speed without the triggers). A listener that is
-- already awake does not need the doorbell: it is about to read the outbox anyway.
--
-- How (no lost wakeup):
--   * Each listening backend registers in cache_invalidation_listeners (UNLOGGED: a
--     registration means nothing after a crash) and, while it waits for notifications,
--     holds a session-level EXCLUSIVE advisory lock on (quicksell_doorbell_space(), its pid).
--   * A writer's trigger tries pg_try_advisory_xact_lock_shared on every registered key.
--     If a try fails, that listener is asleep (or about to sleep): NOTIFY as in 006. If every
--     try succeeds, every listener is awake: no NOTIFY, and the writer holds the shared
--     locks until it commits or aborts. With no listener registered, writers never notify.
--   * A listener that wakes releases its lock, reads the outbox (rows of transactions that
--     its previous read's snapshot did not see), and before sleeping again re-acquires its
--     exclusive lock. That waits for every writer that skipped NOTIFY to end, and a queued
--     exclusive request makes new shared tries fail (those writers notify); PostgreSQL
--     releases a transaction's locks after it became visible, so one more outbox read then
--     sees every skipped writer. Then it sleeps.
--   * A writer whose statement read the registry just before a new listener's row was
--     committed may skip NOTIFY without holding that listener's lock: a listener therefore
--     polls the outbox every few milliseconds after registering until every transaction that
--     was running at registration has ended, and reads it at least every 250 ms regardless.
--
-- Payload and outbox rows are those of 006, so the gateway reads both the same way.

-- The advisory lock namespace of the doorbell (classid of the two-key lock functions).
CREATE FUNCTION quicksell_doorbell_space() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1364411458 $$;  -- 'QSDB'

-- Trimming by age needs no B-tree kept up to date by every writer: a BRIN index (a few
-- bytes per 128 pages, nothing to do for most inserts) finds the old rows as well.
DROP INDEX idx_cache_invalidations_created_at;
CREATE INDEX idx_cache_invalidations_created_at ON cache_invalidations USING brin (created_at);

-- One row per listening backend.
CREATE UNLOGGED TABLE cache_invalidation_listeners (
  pid integer PRIMARY KEY,
  registered_at timestamptz NOT NULL DEFAULT now()
);

-- Called by a listener after LISTEN, in its own session: takes its exclusive doorbell lock
-- (the listener starts asleep), forgets listeners whose backends are gone and registers.
CREATE FUNCTION quicksell_listener_register() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_lock(quicksell_doorbell_space(), pg_backend_pid());
  DELETE FROM cache_invalidation_listeners l
  WHERE l.pid = pg_backend_pid()
     OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.pid);
  INSERT INTO cache_invalidation_listeners (pid) VALUES (pg_backend_pid());
END;
$$;

-- Called by a listener that stops listening (a crashed one is forgotten at the next registration).
CREATE FUNCTION quicksell_listener_unregister() RETURNS void
LANGUAGE sql AS $$
  DELETE FROM cache_invalidation_listeners WHERE pid = pg_backend_pid();
$$;

-- Rings the doorbell for outbox rows first_id..last_id holding `keys` (payload as in 006).
-- PL/pgSQL, not SQL: a SQL function would be planned again at every call.
CREATE FUNCTION quicksell_ring(first_id bigint, last_id bigint, keys text[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  payload text := first_id || '-' || last_id || '@' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                  || '#' || pg_current_xact_id()::text;
  inline_keys text := array_to_string(keys, ',');
BEGIN
  IF octet_length(inline_keys) <= 4000 THEN
    payload := payload || '|' || inline_keys;
  END IF;
  PERFORM pg_notify('quicksell_invalidation', payload);
  RETURN true;
END;
$$;

-- Records `keys` (deduplicated, in chunks of 500 per row) and rings the doorbell when a
-- listener may be asleep. Used for large statements and the rarely written tables; the hot
-- trigger functions below record a small statement's keys inline (one INSERT statement).
CREATE OR REPLACE FUNCTION quicksell_invalidate(keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  unique_keys text[];
  first_id bigint;
  last_id bigint;
  chunk_size constant integer := 500;
BEGIN
  SELECT array_agg(DISTINCT k) INTO unique_keys FROM unnest(keys) AS k WHERE k IS NOT NULL;
  IF unique_keys IS NULL THEN
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
  -- Some listener may be asleep (its lock is held or requested): ring. For every listener
  -- that is awake, the shared lock taken here is held until this transaction ends, so that
  -- listener waits for this writer before it sleeps.
  IF EXISTS (SELECT 1 FROM cache_invalidation_listeners l
             WHERE NOT pg_try_advisory_xact_lock_shared(quicksell_doorbell_space(), l.pid)) THEN
    PERFORM quicksell_ring(first_id, last_id, unique_keys);
  END IF;
END;
$$;

-- The hot trigger functions: the same keys as 006, computed by one deduplicating query, then
-- (for up to 500 keys) one statement that writes the outbox row and rings only when needed.
-- No nested PL/pgSQL call and no EXECUTE (PL/pgSQL keeps one plan per table and statement):
-- these run in every writing statement, so each saved statement is writer throughput.
CREATE OR REPLACE FUNCTION quicksell_invalidate_users() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys text[];
  rang boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    keys := ARRAY(SELECT DISTINCT k FROM new_rows,
                  LATERAL unnest(ARRAY['user:' || id, 'user_stats:' || id, 'user_badges:' || id]) k ORDER BY k);
  ELSIF TG_OP = 'DELETE' THEN
    keys := ARRAY(SELECT DISTINCT k FROM old_rows,
                  LATERAL unnest(ARRAY['user:' || id, 'user_stats:' || id, 'user_badges:' || id,
                                       'leaderboard:weekly', 'leaderboard:monthly']) k ORDER BY k);
  ELSE
    keys := ARRAY(SELECT DISTINCT k FROM new_rows n JOIN old_rows o ON o.id = n.id,
                  LATERAL unnest(ARRAY['user:' || n.id, 'user:' || o.id, 'user_stats:' || n.id, 'user_badges:' || n.id]
                                 || CASE WHEN n.username IS DISTINCT FROM o.username
                                              OR n.account_status IS DISTINCT FROM o.account_status
                                              OR n.deleted_at IS DISTINCT FROM o.deleted_at
                                         THEN ARRAY['leaderboard:weekly', 'leaderboard:monthly'] END) k
                  ORDER BY k);
  END IF;
  IF cardinality(keys) BETWEEN 1 AND 500 THEN
    WITH recorded AS (INSERT INTO cache_invalidations (keys) VALUES (keys) RETURNING id)
    SELECT quicksell_ring(id, id, keys) INTO rang FROM recorded
    WHERE EXISTS (SELECT 1 FROM cache_invalidation_listeners l    -- see quicksell_invalidate
                  WHERE NOT pg_try_advisory_xact_lock_shared(quicksell_doorbell_space(), l.pid));
  ELSIF cardinality(keys) > 500 THEN
    PERFORM quicksell_invalidate(keys);
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION quicksell_invalidate_listings() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys text[];
  rang boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    keys := ARRAY(SELECT DISTINCT k FROM new_rows,
                  LATERAL unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) k ORDER BY k);
  ELSIF TG_OP = 'DELETE' THEN
    keys := ARRAY(SELECT DISTINCT k FROM old_rows,
                  LATERAL unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) k ORDER BY k);
  ELSE
    keys := ARRAY(SELECT DISTINCT k FROM (SELECT id FROM new_rows UNION ALL SELECT id FROM old_rows) ids,
                  LATERAL unnest(ARRAY['listing:' || id, 'marketplace_listings:' || id]) k ORDER BY k);
  END IF;
  IF cardinality(keys) BETWEEN 1 AND 500 THEN
    WITH recorded AS (INSERT INTO cache_invalidations (keys) VALUES (keys) RETURNING id)
    SELECT quicksell_ring(id, id, keys) INTO rang FROM recorded
    WHERE EXISTS (SELECT 1 FROM cache_invalidation_listeners l    -- see quicksell_invalidate
                  WHERE NOT pg_try_advisory_xact_lock_shared(quicksell_doorbell_space(), l.pid));
  ELSIF cardinality(keys) > 500 THEN
    PERFORM quicksell_invalidate(keys);
  END IF;
  RETURN NULL;
END;
$$;

-- A table whose rows belong to one cached key by a column (006 used EXECUTE, planned at
-- every call; the two columns in use get static queries).
CREATE OR REPLACE FUNCTION quicksell_invalidate_by_column() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prefix text := TG_ARGV[0];
  column_name text := TG_ARGV[1];
  keys text[];
  rang boolean;
BEGIN
  IF column_name = 'listing_id' THEN
    IF TG_OP = 'INSERT' THEN
      keys := ARRAY(SELECT DISTINCT prefix || listing_id FROM new_rows ORDER BY 1);
    ELSIF TG_OP = 'DELETE' THEN
      keys := ARRAY(SELECT DISTINCT prefix || listing_id FROM old_rows ORDER BY 1);
    ELSE
      keys := ARRAY(SELECT prefix || listing_id FROM new_rows UNION SELECT prefix || listing_id FROM old_rows ORDER BY 1);
    END IF;
  ELSIF column_name = 'user_id' THEN
    IF TG_OP = 'INSERT' THEN
      keys := ARRAY(SELECT DISTINCT prefix || user_id FROM new_rows ORDER BY 1);
    ELSIF TG_OP = 'DELETE' THEN
      keys := ARRAY(SELECT DISTINCT prefix || user_id FROM old_rows ORDER BY 1);
    ELSE
      keys := ARRAY(SELECT prefix || user_id FROM new_rows UNION SELECT prefix || user_id FROM old_rows ORDER BY 1);
    END IF;
  ELSE
    RAISE EXCEPTION 'quicksell_invalidate_by_column: unsupported column %', column_name;
  END IF;
  keys := array_remove(keys, NULL);
  IF cardinality(keys) BETWEEN 1 AND 500 THEN
    WITH recorded AS (INSERT INTO cache_invalidations (keys) VALUES (keys) RETURNING id)
    SELECT quicksell_ring(id, id, keys) INTO rang FROM recorded
    WHERE EXISTS (SELECT 1 FROM cache_invalidation_listeners l    -- see quicksell_invalidate
                  WHERE NOT pg_try_advisory_xact_lock_shared(quicksell_doorbell_space(), l.pid));
  ELSIF cardinality(keys) > 500 THEN
    PERFORM quicksell_invalidate(keys);
  END IF;
  RETURN NULL;
END;
$$;
