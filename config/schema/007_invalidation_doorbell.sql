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

-- Records `keys` (deduplicated, in chunks of 500 per row) and rings the doorbell when a
-- registered listener may be asleep. Same outbox rows and payload as 006.
CREATE OR REPLACE FUNCTION quicksell_invalidate(keys text[]) RETURNS void
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
  IF unique_keys IS NULL THEN
    RETURN;
  END IF;
  IF cardinality(unique_keys) <= chunk_size THEN
    -- The common case (a statement touching a few rows): one row, no chunking query.
    INSERT INTO cache_invalidations (keys) VALUES (unique_keys) RETURNING id INTO first_id;
    last_id := first_id;
  ELSE
    WITH chunks AS (
      SELECT array_agg(k ORDER BY k) AS chunk
      FROM (SELECT k, (row_number() OVER (ORDER BY k) - 1) / chunk_size AS n FROM unnest(unique_keys) AS k) numbered
      GROUP BY n
    ), inserted AS (
      INSERT INTO cache_invalidations (keys) SELECT chunk FROM chunks RETURNING id
    )
    SELECT min(id), max(id) INTO first_id, last_id FROM inserted;
  END IF;
  -- Every listener awake (each shared try succeeded, held until commit): they will read
  -- this row from the outbox; no listener: nobody to wake.
  IF NOT EXISTS (SELECT 1 FROM cache_invalidation_listeners l
                 WHERE NOT pg_try_advisory_xact_lock_shared(quicksell_doorbell_space(), l.pid)) THEN
    RETURN;
  END IF;
  payload := first_id || '-' || last_id || '@' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
             || '#' || pg_current_xact_id()::text;
  inline_keys := array_to_string(unique_keys, ',');
  IF octet_length(inline_keys) <= 4000 THEN
    payload := payload || '|' || inline_keys;
  END IF;
  PERFORM pg_notify('quicksell_invalidation', payload);
END;
$$;
