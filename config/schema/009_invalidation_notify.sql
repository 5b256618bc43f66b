-- 009: invalidation through LISTEN/NOTIFY beside the logical-decoding stream, so that a
-- gateway works on every PostgreSQL (wal_level = replica, no REPLICATION role, managed
-- servers). The triggers of 008 now hand their keys to one function, quicksell_emit, which
-- sends them to the sources this database has switched on:
--
-- * wal: the transactional logical decoding message of 008 ('quicksell_invalidation',
--   '<xid8>|<key>,…'), written only while wal_level = logical (no slot can read it otherwise);
-- * notify: the keys are gathered in the transaction (a transaction-local setting) and sent
--   by a statement-level trigger as one NOTIFY per statement on the channel
--   'quicksell_invalidation', payload '<xid8>|<unix µs>|<key>,…'. A statement whose keys do
--   not fit PostgreSQL's 8000-byte payload sends '<xid8>|<unix µs>|*<family>,…' instead: the
--   families to flush, never a truncated key list. PostgreSQL delivers notifications only
--   when, and only if, the transaction commits.
--
-- Which keys a write invalidates is the mapping below (CREATE OR REPLACE of 008's functions:
-- the live definitions, shared by both sources). Both sources start switched on: a gateway on
-- either source works without another step; `quicksell-cache migrate --invalidation-sources`
-- switches one off to spare writers its cost (README, "Choosing an invalidation source").

-- Which sources the triggers feed; read by gateways at start-up (any role may read it).
CREATE TABLE quicksell_invalidation_emitters (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  wal boolean NOT NULL,
  notify boolean NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON quicksell_invalidation_emitters TO PUBLIC;

-- The kind of key a notification flushes when its keys do not fit: the key prefix, or the
-- whole key for the single-key families (the leaderboards).
CREATE FUNCTION quicksell_key_family(key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN key LIKE 'leaderboard:%' OR position(':' IN key) = 0 THEN key ELSE split_part(key, ':', 1) END
$$;

-- Adds `keys` (comma-separated) to the statement's pending notification: skipped when already
-- there, turned into the list of their families once the keys would pass 7,900 bytes.
CREATE FUNCTION quicksell_notify_append(keys text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  pending text := coalesce(current_setting('quicksell.pending_keys', true), '');
  payload_limit constant integer := 7900;
BEGIN
  IF pending = '' THEN
    PERFORM set_config('quicksell.pending_keys', keys, true);
  ELSIF left(pending, 1) <> '*' THEN
    IF position(',' || keys || ',' IN ',' || pending || ',') > 0 THEN
      RETURN;
    END IF;
    IF octet_length(pending) + octet_length(keys) < payload_limit THEN
      PERFORM set_config('quicksell.pending_keys', pending || ',' || keys, true);
    ELSE
      PERFORM set_config('quicksell.pending_keys', '*' || (
        SELECT string_agg(DISTINCT quicksell_key_family(k), ',')
        FROM unnest(string_to_array(pending || ',' || keys, ',')) AS k), true);
    END IF;
  ELSIF EXISTS (SELECT 1 FROM unnest(string_to_array(keys, ',')) AS k
                WHERE position(',' || quicksell_key_family(k) || ',' IN ',' || substr(pending, 2) || ',') = 0) THEN
    PERFORM set_config('quicksell.pending_keys', '*' || (
      SELECT string_agg(DISTINCT quicksell_key_family(k), ',')
      FROM unnest(string_to_array(substr(pending, 2) || ',' || keys, ',')) AS k), true);
  END IF;
END;
$$;

-- Sends the pending notification, if any, and empties it.
CREATE FUNCTION quicksell_notify_send() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  pending text := current_setting('quicksell.pending_keys', true);
BEGIN
  IF pending IS NULL OR pending = '' THEN
    RETURN;
  END IF;
  PERFORM set_config('quicksell.pending_keys', '', true);
  PERFORM pg_notify('quicksell_invalidation', pg_current_xact_id()::text || '|'
    || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text || '|' || pending);
END;
$$;

CREATE FUNCTION quicksell_notify_flush() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM quicksell_notify_send();
  RETURN NULL;
END;
$$;

-- Where a trigger's keys go; made by quicksell_set_invalidation_emitters below.
CREATE FUNCTION quicksell_emit(keys text) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN END; $$;

-- Switches the sources the triggers feed (at least one); `quicksell-cache migrate
-- --invalidation-sources` calls it. Writers pick up the new quicksell_emit at their next statement.
CREATE FUNCTION quicksell_set_invalidation_emitters(emit_wal boolean, emit_notify boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  body text := '';
BEGIN
  IF NOT (emit_wal OR emit_notify) THEN
    RAISE EXCEPTION 'quicksell_set_invalidation_emitters: at least one invalidation source (wal, notify) must be on';
  END IF;
  IF emit_wal THEN
    body := body || $emit$
  IF current_setting('wal_level') = 'logical' THEN
    PERFORM pg_logical_emit_message(true, 'quicksell_invalidation', pg_current_xact_id()::text || '|' || keys);
  END IF;$emit$;
  END IF;
  IF emit_notify THEN
    body := body || $emit$
  PERFORM quicksell_notify_append(keys);$emit$;
  END IF;
  EXECUTE format('CREATE OR REPLACE FUNCTION quicksell_emit(keys text) RETURNS void LANGUAGE plpgsql AS %L',
                 'BEGIN' || body || E'\nEND;');
  INSERT INTO quicksell_invalidation_emitters AS e (wal, notify) VALUES (emit_wal, emit_notify)
    ON CONFLICT (only_row) DO UPDATE SET wal = emit_wal, notify = emit_notify, changed_at = now();
END;
$$;

SELECT quicksell_set_invalidation_emitters(true, true);

-- Records `keys` (deduplicated, 500 per message): for statements and the rarely written
-- tables; the hot tables below emit their few keys straight from row-level triggers.
CREATE OR REPLACE FUNCTION quicksell_invalidate(keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  unique_keys text[];
  chunk_size constant integer := 500;
BEGIN
  SELECT array_agg(DISTINCT k ORDER BY k) INTO unique_keys FROM unnest(keys) AS k WHERE k IS NOT NULL;
  IF unique_keys IS NULL THEN
    RETURN;
  END IF;
  FOR start IN 1..cardinality(unique_keys) BY chunk_size LOOP
    PERFORM quicksell_emit(array_to_string(unique_keys[start:start + chunk_size - 1], ','));
  END LOOP;
  -- Called from statement-level triggers: their statement is over.
  PERFORM quicksell_notify_send();
END;
$$;

-- users → user:{id}; user_stats:{id} and user_badges:{id} when the user appears or
-- disappears for them (they read only deleted_at and account_status of users); the
-- leaderboards when a user appears, disappears or changes what they show (username,
-- status, deletion). An UPDATE of other columns (points, bio, …) invalidates user:{id} only.
CREATE OR REPLACE FUNCTION quicksell_invalidate_user_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  keys text[];
BEGIN
  -- The common write (points, bio, …): one key, and as few PL/pgSQL expressions as possible.
  IF TG_OP = 'UPDATE' AND OLD.id = NEW.id AND NEW.account_status IS NOT DISTINCT FROM OLD.account_status
     AND NEW.deleted_at IS NOT DISTINCT FROM OLD.deleted_at AND NEW.username IS NOT DISTINCT FROM OLD.username THEN
    PERFORM quicksell_emit('user:' || NEW.id);
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
  PERFORM quicksell_emit(array_to_string(keys, ','));
  RETURN NULL;
END;
$$;

-- listings → listing:{id} and marketplace_listings:{id}, for the old and the new row.
CREATE OR REPLACE FUNCTION quicksell_invalidate_listing_row() RETURNS trigger
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
  PERFORM quicksell_emit(array_to_string(keys, ','));
  RETURN NULL;
END;
$$;

-- A table whose rows belong to one cached key by a column: TG_ARGV[0] || the column, for
-- the old and the new row (a photo moving between listings invalidates both). Static
-- branches per column, not EXECUTE: PL/pgSQL would plan EXECUTE again for every row.
CREATE OR REPLACE FUNCTION quicksell_invalidate_row_by_column() RETURNS trigger
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
    PERFORM quicksell_emit(keys);
  END IF;
  RETURN NULL;
END;
$$;

-- The hot tables' row-level triggers gather keys; one statement-level trigger each sends
-- them (AFTER STATEMENT triggers fire after the statement's AFTER ROW triggers).
CREATE TRIGGER trg_users_invalidate_notify AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION quicksell_notify_flush();
CREATE TRIGGER trg_listings_invalidate_notify AFTER INSERT OR UPDATE OR DELETE ON listings
  FOR EACH STATEMENT EXECUTE FUNCTION quicksell_notify_flush();
CREATE TRIGGER trg_photos_invalidate_notify AFTER INSERT OR UPDATE OR DELETE ON photos
  FOR EACH STATEMENT EXECUTE FUNCTION quicksell_notify_flush();
CREATE TRIGGER trg_marketplace_listings_invalidate_notify AFTER INSERT OR UPDATE OR DELETE ON marketplace_listings
  FOR EACH STATEMENT EXECUTE FUNCTION quicksell_notify_flush();
CREATE TRIGGER trg_user_stats_invalidate_notify AFTER INSERT OR UPDATE OR DELETE ON user_stats
  FOR EACH STATEMENT EXECUTE FUNCTION quicksell_notify_flush();
CREATE TRIGGER trg_user_badges_invalidate_notify AFTER INSERT OR UPDATE OR DELETE ON user_badges
  FOR EACH STATEMENT EXECUTE FUNCTION quicksell_notify_flush();
