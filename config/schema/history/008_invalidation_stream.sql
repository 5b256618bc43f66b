-- 008: invalidations travel in the write-ahead log instead of an outbox table.
--
-- Why: with 007, a single-row UPDATE of users paid for a statement-level trigger with
-- transition tables plus an INSERT into cache_invalidations (heap, two indexes), which
-- together cost about as much as the UPDATE itself. A row-level trigger that only writes a
-- logical decoding message (pg_logical_emit_message: one small WAL record, no table, no
-- index, no lock) keeps about 0.87x of the writers' throughput (8 pgbench writers, no
-- replication slot streaming). Decoding is not free either: each streaming slot's WAL
-- sender decodes every WAL record (BENCHMARKS.md, target 5). What it buys: invalidation in
-- under a millisecond, seconds of lag avoided at high write rates, and an exact replay
-- after any outage.
--
-- How: each trigger writes one transactional message with the prefix
-- 'quicksell_invalidation' and the content '<xid8>|<key>,<key>,…' (the writing
-- transaction's full id, then the keys it invalidates). PostgreSQL hands the messages of a
-- transaction to logical decoding when, and only if, it commits, in commit order. Each
-- gateway reads them from its own logical replication slot (output plugin pgoutput, with
-- the empty publication below: pgoutput needs a publication name; messages are sent
-- whatever it publishes). A slot keeps every message until the gateway confirms it, so a
-- gateway that was disconnected or stopped replays exactly what it missed.
--
-- Needs wal_level = logical on the server (and a free replication slot and WAL sender per
-- gateway). Deploy the gateway of this release before running this migration: an older
-- gateway reads the outbox, which nothing writes any more.

CREATE PUBLICATION quicksell_invalidation;

-- Records `keys` (deduplicated, 500 per message): for statements and the rarely written
-- tables; the hot tables below emit their few keys straight from row-level triggers.
CREATE OR REPLACE FUNCTION quicksell_invalidate(keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  unique_keys text[];
  chunk_size constant integer := 500;
  xid text := pg_current_xact_id()::text;
BEGIN
  SELECT array_agg(DISTINCT k ORDER BY k) INTO unique_keys FROM unnest(keys) AS k WHERE k IS NOT NULL;
  IF unique_keys IS NULL THEN
    RETURN;
  END IF;
  FOR start IN 1..cardinality(unique_keys) BY chunk_size LOOP
    PERFORM pg_logical_emit_message(true, 'quicksell_invalidation',
      xid || '|' || array_to_string(unique_keys[start:start + chunk_size - 1], ','));
  END LOOP;
END;
$$;

-- users → user:{id}; user_stats:{id} and user_badges:{id} when the user appears or
-- disappears for them (they read only deleted_at and account_status of users); the
-- leaderboards when a user appears, disappears or changes what they show (username,
-- status, deletion). An UPDATE of other columns (points, bio, …) invalidates user:{id} only.
CREATE FUNCTION quicksell_invalidate_user_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys text[];
BEGIN
  -- The common write (points, bio, …): one key, and as few PL/pgSQL expressions as possible
  -- (each costs the writer; this path was measured at 0.87x against 0.83x for the general one).
  IF TG_OP = 'UPDATE' AND OLD.id = NEW.id AND NEW.account_status IS NOT DISTINCT FROM OLD.account_status
     AND NEW.deleted_at IS NOT DISTINCT FROM OLD.deleted_at AND NEW.username IS NOT DISTINCT FROM OLD.username THEN
    PERFORM pg_logical_emit_message(true, 'quicksell_invalidation', pg_current_xact_id()::text || '|user:' || NEW.id);
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    keys := ARRAY['user:' || OLD.id, 'user_stats:' || OLD.id, 'user_badges:' || OLD.id,
                  'leaderboard:weekly', 'leaderboard:monthly'];
  ELSIF TG_OP = 'INSERT' THEN
    keys := ARRAY['user:' || NEW.id, 'user_stats:' || NEW.id, 'user_badges:' || NEW.id];
  ELSE
    keys := ARRAY['user:' || NEW.id];
    IF OLD.id <> NEW.id THEN
      keys := keys || ARRAY['user:' || OLD.id, 'user_stats:' || OLD.id, 'user_badges:' || OLD.id,
                            'user_stats:' || NEW.id, 'user_badges:' || NEW.id];
    ELSIF NEW.account_status IS DISTINCT FROM OLD.account_status OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
      keys := keys || ARRAY['user_stats:' || NEW.id, 'user_badges:' || NEW.id];
    END IF;
    IF NEW.username IS DISTINCT FROM OLD.username OR NEW.account_status IS DISTINCT FROM OLD.account_status
       OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
      keys := keys || ARRAY['leaderboard:weekly', 'leaderboard:monthly'];
    END IF;
  END IF;
  PERFORM pg_logical_emit_message(true, 'quicksell_invalidation',
                                  pg_current_xact_id()::text || '|' || array_to_string(keys, ','));
  RETURN NULL;
END;
$$;

-- listings → listing:{id} and marketplace_listings:{id}, for the old and the new row.
CREATE FUNCTION quicksell_invalidate_listing_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys text[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    keys := ARRAY['listing:' || OLD.id, 'marketplace_listings:' || OLD.id];
  ELSE
    keys := ARRAY['listing:' || NEW.id, 'marketplace_listings:' || NEW.id];
    IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
      keys := keys || ARRAY['listing:' || OLD.id, 'marketplace_listings:' || OLD.id];
    END IF;
  END IF;
  PERFORM pg_logical_emit_message(true, 'quicksell_invalidation',
                                  pg_current_xact_id()::text || '|' || array_to_string(keys, ','));
  RETURN NULL;
END;
$$;

-- A table whose rows belong to one cached key by a column: TG_ARGV[0] || the column, for
-- the old and the new row (a photo moving between listings invalidates both). Static
-- branches per column, not EXECUTE: PL/pgSQL would plan EXECUTE again for every row.
CREATE FUNCTION quicksell_invalidate_row_by_column() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prefix text := TG_ARGV[0];
  column_name text := TG_ARGV[1];
  new_value text;
  old_value text;
  keys text;
BEGIN
  IF column_name = 'listing_id' THEN
    IF TG_OP <> 'DELETE' THEN new_value := NEW.listing_id::text; END IF;
    IF TG_OP <> 'INSERT' THEN old_value := OLD.listing_id::text; END IF;
  ELSIF column_name = 'user_id' THEN
    IF TG_OP <> 'DELETE' THEN new_value := NEW.user_id::text; END IF;
    IF TG_OP <> 'INSERT' THEN old_value := OLD.user_id::text; END IF;
  ELSE
    RAISE EXCEPTION 'quicksell_invalidate_row_by_column: unsupported column %', column_name;
  END IF;
  IF old_value IS DISTINCT FROM new_value THEN
    keys := concat_ws(',', prefix || new_value, prefix || old_value);
  ELSE
    keys := prefix || new_value;
  END IF;
  IF keys IS NOT NULL AND keys <> '' THEN
    PERFORM pg_logical_emit_message(true, 'quicksell_invalidation', pg_current_xact_id()::text || '|' || keys);
  END IF;
  RETURN NULL;
END;
$$;

-- The hot tables: one row-level trigger each instead of 006's three statement-level ones
-- (transition tables cost more than the whole row-level trigger). The trigger names keep
-- 006's prefix trg_<table>_invalidate_.
DO $$
DECLARE
  hot record;
BEGIN
  FOR hot IN SELECT * FROM (VALUES
      ('users', 'quicksell_invalidate_user_row()'),
      ('listings', 'quicksell_invalidate_listing_row()'),
      ('photos', 'quicksell_invalidate_row_by_column(''listing:'', ''listing_id'')'),
      ('marketplace_listings', 'quicksell_invalidate_row_by_column(''marketplace_listings:'', ''listing_id'')'),
      ('user_stats', 'quicksell_invalidate_row_by_column(''user_stats:'', ''user_id'')'),
      ('user_badges', 'quicksell_invalidate_row_by_column(''user_badges:'', ''user_id'')')) AS t(name, call)
  LOOP
    EXECUTE format('DROP TRIGGER trg_%1$s_invalidate_insert ON %1$I; DROP TRIGGER trg_%1$s_invalidate_update ON %1$I; '
                   'DROP TRIGGER trg_%1$s_invalidate_delete ON %1$I', hot.name);
    EXECUTE format('CREATE TRIGGER trg_%1$s_invalidate_row AFTER INSERT OR UPDATE OR DELETE ON %1$I '
                   'FOR EACH ROW EXECUTE FUNCTION %2$s', hot.name, hot.call);
  END LOOP;
END;
$$;

DROP FUNCTION quicksell_invalidate_users();
DROP FUNCTION quicksell_invalidate_listings();
DROP FUNCTION quicksell_invalidate_by_column();

-- badges and sales keep their statement-level triggers (006); quicksell_invalidate, which
-- they call, now emits messages. The outbox and the doorbell of 006 and 007 go.
DROP FUNCTION quicksell_ring(bigint, bigint, text[]);
DROP FUNCTION quicksell_listener_register();
DROP FUNCTION quicksell_listener_unregister();
DROP FUNCTION quicksell_doorbell_space();
DROP TABLE cache_invalidation_listeners;
DROP TABLE cache_invalidations;
