-- 010: the source document's data retention ("Data Retention & Archival"), as tables and one
-- function per policy. `quicksell-cache retention run` calls them batch after batch, each call
-- its own short transaction; `CALL retention_run_database_policies()` runs the three that need
-- nothing outside PostgreSQL (for pg_cron). README, "Data lifecycle", says how and when.
--
-- Every function is idempotent (a second call finds nothing more to do), resumable (a batch
-- commits whole or not at all, and the next call takes what is left) and bounded by
-- batch_size rows of the table it walks. With dry_run it changes nothing and counts every
-- candidate instead of one batch. Timestamps are compared with LOCALTIMESTAMP, as the
-- tables store them (timestamp without time zone, in UTC: config/schema/README.md).
--
-- Sales are kept forever: no function here writes to sales, and a listing that a sale names
-- stays in listings (deleted), so sales.listing_id stays a valid foreign key. A listing that
-- analytics events name stays until those events leave with the analytics policy (one year).

-- Archive tables: the live table's columns (LIKE copies names, types and NOT NULL, not
-- defaults, keys or triggers: no invalidation trigger fires here, nothing here is cached) plus
-- when the row was archived. A migration that adds a column to a live table adds it here too.
CREATE TABLE listings_archive (LIKE listings, archived_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP, PRIMARY KEY (id));
CREATE TABLE photos_archive (LIKE photos, archived_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP, PRIMARY KEY (id));
CREATE TABLE marketplace_listings_archive (
  LIKE marketplace_listings, archived_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP, PRIMARY KEY (id));
CREATE TABLE listing_versions_archive (
  LIKE listing_versions, archived_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP, PRIMARY KEY (id));
CREATE INDEX idx_listings_archive_deleted_at ON listings_archive(deleted_at);
CREATE INDEX idx_photos_archive_listing_id ON photos_archive(listing_id);
CREATE INDEX idx_marketplace_listings_archive_listing_id ON marketplace_listings_archive(listing_id);
CREATE INDEX idx_listing_versions_archive_listing_id ON listing_versions_archive(listing_id);

-- The foreign-key checks of a DELETE FROM listings, and the "still named" checks below, look
-- listings up in these tables: without an index each would read the whole table.
CREATE INDEX idx_analytics_events_listing_id ON analytics_events(listing_id);
CREATE INDEX idx_notifications_related_listing_id ON notifications(related_listing_id);
-- Deleted listings, the archive policy's candidates.
CREATE INDEX idx_listings_deleted_at ON listings(deleted_at) WHERE deleted_at IS NOT NULL;

-- Storage URLs of removed photos, waiting to be written to the object-store cleanup file:
-- `retention run` writes them out, syncs the file, then deletes what it wrote, so a crash
-- in between writes a URL twice, never loses one.
CREATE TABLE retention_photo_urls (
  id bigserial PRIMARY KEY,
  photo_id integer NOT NULL,
  url varchar(500) NOT NULL,
  queued_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP
);

-- One row per analytics export file: the month, the file, the rows it holds (read back and
-- counted before the row was committed) and when its rows were deleted. A row with deleted_at
-- NULL is an export whose deletion is unfinished.
CREATE TABLE retention_analytics_exports (
  id bigserial PRIMARY KEY,
  month date NOT NULL,
  file_name text NOT NULL UNIQUE,
  row_count bigint NOT NULL,
  exported_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP,
  deleted_at timestamp
);

-- The ids of the events an export's file holds, written in the transaction (and snapshot) that
-- copies them to the file and committed with the export's row, after the file was verified.
-- The deletion removes these events and nothing else, taking their ids out batch by batch. An
-- id bound would not do: a transaction open during the export can commit an event with a lower
-- id after the export's snapshot, in no file; it is not here, stays, and a later export takes
-- it. An event is in one unfinished export at most (the unique index).
CREATE TABLE retention_analytics_exported_ids (
  export_id bigint NOT NULL REFERENCES retention_analytics_exports (id),
  event_id integer NOT NULL,
  PRIMARY KEY (export_id, event_id)
);
CREATE UNIQUE INDEX idx_retention_analytics_exported_ids_event_id ON retention_analytics_exported_ids (event_id);

-- What every batch did: the policy, how many rows it moved or removed, and from which table.
CREATE TABLE retention_log (
  id bigserial PRIMARY KEY,
  ran_at timestamp NOT NULL DEFAULT LOCALTIMESTAMP,
  policy text NOT NULL,
  counts jsonb NOT NULL
);

-- Policy 1, deleted listings: a listing with deleted_at set moves to listings_archive with
-- its photos, marketplace copies and versions, unless a sale or an analytics event names it;
-- notifications that named it lose the reference (related_listing_id NULL). The DELETE FROM
-- listings and marketplace_listings fires the invalidation triggers of 008/009, so both
-- sources drop listing:{id} and marketplace_listings:{id} when the batch commits (100 listings'
-- keys fit one notification's payload; a bigger batch makes the notify source flush both families).
CREATE FUNCTION retention_archive_deleted_listings(batch_size integer DEFAULT 100, dry_run boolean DEFAULT false)
RETURNS TABLE (listings bigint, photos bigint, marketplace_listings bigint, listing_versions bigint,
               notifications_unlinked bigint, kept_for_sales bigint, kept_for_analytics bigint)
LANGUAGE plpgsql AS $$
DECLARE
  ids integer[];
BEGIN
  IF dry_run THEN
    RETURN QUERY
      WITH deleted AS (
        SELECT l.id,
               EXISTS (SELECT 1 FROM sales s WHERE s.listing_id = l.id) AS sold,
               EXISTS (SELECT 1 FROM analytics_events a WHERE a.listing_id = l.id) AS tracked
        FROM listings l WHERE l.deleted_at IS NOT NULL),
      movable AS (SELECT id FROM deleted WHERE NOT sold AND NOT tracked)
      SELECT (SELECT count(*) FROM movable),
             (SELECT count(*) FROM photos p WHERE p.listing_id IN (SELECT id FROM movable)),
             (SELECT count(*) FROM marketplace_listings m WHERE m.listing_id IN (SELECT id FROM movable)),
             (SELECT count(*) FROM listing_versions v WHERE v.listing_id IN (SELECT id FROM movable)),
             (SELECT count(*) FROM notifications n WHERE n.related_listing_id IN (SELECT id FROM movable)),
             (SELECT count(*) FROM deleted WHERE sold),
             (SELECT count(*) FROM deleted WHERE tracked AND NOT sold);
    RETURN;
  END IF;

  SELECT array_agg(l.id ORDER BY l.id) INTO ids FROM (
    SELECT l.id FROM listings l
    WHERE l.deleted_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.listing_id = l.id)
      AND NOT EXISTS (SELECT 1 FROM analytics_events a WHERE a.listing_id = l.id)
    ORDER BY l.id LIMIT batch_size
    FOR UPDATE SKIP LOCKED) AS l;
  IF ids IS NULL THEN
    -- Nothing left to move: say what stays, and why.
    RETURN QUERY
      WITH kept AS (
        SELECT EXISTS (SELECT 1 FROM sales s WHERE s.listing_id = l.id) AS sold
        FROM listings l WHERE l.deleted_at IS NOT NULL)
      SELECT 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
             (SELECT count(*) FROM kept WHERE sold), (SELECT count(*) FROM kept WHERE NOT sold);
    RETURN;
  END IF;

  listings := cardinality(ids);
  INSERT INTO photos_archive SELECT p.*, LOCALTIMESTAMP FROM photos p WHERE p.listing_id = ANY (ids);
  DELETE FROM photos p WHERE p.listing_id = ANY (ids);
  GET DIAGNOSTICS photos = ROW_COUNT;
  INSERT INTO marketplace_listings_archive SELECT m.*, LOCALTIMESTAMP FROM marketplace_listings m WHERE m.listing_id = ANY (ids);
  DELETE FROM marketplace_listings m WHERE m.listing_id = ANY (ids);
  GET DIAGNOSTICS marketplace_listings = ROW_COUNT;
  INSERT INTO listing_versions_archive SELECT v.*, LOCALTIMESTAMP FROM listing_versions v WHERE v.listing_id = ANY (ids);
  DELETE FROM listing_versions v WHERE v.listing_id = ANY (ids);
  GET DIAGNOSTICS listing_versions = ROW_COUNT;
  UPDATE notifications n SET related_listing_id = NULL WHERE n.related_listing_id = ANY (ids);
  GET DIAGNOSTICS notifications_unlinked = ROW_COUNT;
  INSERT INTO listings_archive SELECT l.*, LOCALTIMESTAMP FROM listings l WHERE l.id = ANY (ids);
  DELETE FROM listings l WHERE l.id = ANY (ids);
  kept_for_sales := 0;
  kept_for_analytics := 0;
  INSERT INTO retention_log (policy, counts) VALUES ('deleted_listings', jsonb_build_object(
    'listings', listings, 'photos', photos, 'marketplace_listings', marketplace_listings,
    'listing_versions', listing_versions, 'notifications_unlinked', notifications_unlinked,
    'first_id', ids[1], 'last_id', ids[cardinality(ids)]));
  RETURN NEXT;
END;
$$;

-- Policy 2, unused photos: a photo is unused once its listing has been deleted for more than
-- 30 days (kept in listings for a sale or archived). Its row is removed and its storage URLs
-- (original, thumbnail, optimized) are queued in retention_photo_urls for the object store.
CREATE FUNCTION retention_remove_unused_photos(batch_size integer DEFAULT 500, dry_run boolean DEFAULT false,
                                               unused_for interval DEFAULT '30 days')
RETURNS TABLE (photos bigint, archived_photos bigint, urls bigint)
LANGUAGE plpgsql AS $$
DECLARE
  cutoff constant timestamp := LOCALTIMESTAMP - unused_for;
  live integer[];
  archived integer[];
BEGIN
  IF dry_run THEN
    RETURN QUERY SELECT
      (SELECT count(*) FROM photos p JOIN listings l ON l.id = p.listing_id WHERE l.deleted_at < cutoff),
      (SELECT count(*) FROM photos_archive p JOIN listings_archive l ON l.id = p.listing_id WHERE l.deleted_at < cutoff),
      (SELECT count(u) FROM (
         SELECT unnest(ARRAY[p.original_url, p.thumb_url, p.optimized_url]) AS u
         FROM photos p JOIN listings l ON l.id = p.listing_id WHERE l.deleted_at < cutoff
         UNION ALL
         SELECT unnest(ARRAY[p.original_url, p.thumb_url, p.optimized_url])
         FROM photos_archive p JOIN listings_archive l ON l.id = p.listing_id WHERE l.deleted_at < cutoff) AS x);
    RETURN;
  END IF;

  SELECT array_agg(p.id) INTO live FROM (
    SELECT p.id FROM photos p JOIN listings l ON l.id = p.listing_id
    WHERE l.deleted_at < cutoff ORDER BY p.id LIMIT batch_size FOR UPDATE OF p SKIP LOCKED) AS p;
  SELECT array_agg(p.id) INTO archived FROM (
    SELECT p.id FROM photos_archive p JOIN listings_archive l ON l.id = p.listing_id
    WHERE l.deleted_at < cutoff ORDER BY p.id LIMIT batch_size FOR UPDATE OF p SKIP LOCKED) AS p;

  WITH removed AS (DELETE FROM photos p WHERE p.id = ANY (coalesce(live, '{}'))
                   RETURNING p.id, p.original_url, p.thumb_url, p.optimized_url),
       removed_archived AS (DELETE FROM photos_archive p WHERE p.id = ANY (coalesce(archived, '{}'))
                   RETURNING p.id, p.original_url, p.thumb_url, p.optimized_url),
       queued AS (INSERT INTO retention_photo_urls (photo_id, url)
                  SELECT r.id, u FROM (SELECT * FROM removed UNION ALL SELECT * FROM removed_archived) AS r,
                         unnest(ARRAY[r.original_url, r.thumb_url, r.optimized_url]) AS u
                  WHERE u IS NOT NULL
                  RETURNING 1)
  SELECT (SELECT count(*) FROM removed), (SELECT count(*) FROM removed_archived), (SELECT count(*) FROM queued)
    INTO photos, archived_photos, urls;
  IF photos + archived_photos > 0 THEN
    INSERT INTO retention_log (policy, counts) VALUES ('unused_photos', jsonb_build_object(
      'photos', photos, 'archived_photos', archived_photos, 'urls', urls));
  END IF;
  RETURN NEXT;
END;
$$;

-- Policy 3, the listing archive's end: archived listings deleted more than 90 days ago leave
-- listings_archive with whatever of theirs is still archived (photos' URLs are queued as by
-- policy 2). Nothing outside the archive names them: the archive policy moved only listings
-- no sale or event named, and foreign keys let no new row name a listing that is gone.
CREATE FUNCTION retention_purge_listing_archive(batch_size integer DEFAULT 500, dry_run boolean DEFAULT false,
                                                kept_for interval DEFAULT '90 days')
RETURNS TABLE (listings bigint, photos bigint, marketplace_listings bigint, listing_versions bigint)
LANGUAGE plpgsql AS $$
DECLARE
  cutoff constant timestamp := LOCALTIMESTAMP - kept_for;
  ids integer[];
BEGIN
  IF dry_run THEN
    RETURN QUERY
      WITH old AS (SELECT id FROM listings_archive WHERE deleted_at < cutoff)
      SELECT (SELECT count(*) FROM old),
             (SELECT count(*) FROM photos_archive p WHERE p.listing_id IN (SELECT id FROM old)),
             (SELECT count(*) FROM marketplace_listings_archive m WHERE m.listing_id IN (SELECT id FROM old)),
             (SELECT count(*) FROM listing_versions_archive v WHERE v.listing_id IN (SELECT id FROM old));
    RETURN;
  END IF;

  SELECT array_agg(a.id) INTO ids FROM (
    SELECT a.id FROM listings_archive a WHERE a.deleted_at < cutoff
    ORDER BY a.id LIMIT batch_size FOR UPDATE SKIP LOCKED) AS a;
  IF ids IS NULL THEN
    RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  WITH removed AS (DELETE FROM photos_archive p WHERE p.listing_id = ANY (ids)
                   RETURNING p.id, p.original_url, p.thumb_url, p.optimized_url),
       queued AS (INSERT INTO retention_photo_urls (photo_id, url)
                  SELECT r.id, u FROM removed AS r, unnest(ARRAY[r.original_url, r.thumb_url, r.optimized_url]) AS u
                  WHERE u IS NOT NULL)
  SELECT count(*) INTO photos FROM removed;
  DELETE FROM marketplace_listings_archive m WHERE m.listing_id = ANY (ids);
  GET DIAGNOSTICS marketplace_listings = ROW_COUNT;
  DELETE FROM listing_versions_archive v WHERE v.listing_id = ANY (ids);
  GET DIAGNOSTICS listing_versions = ROW_COUNT;
  DELETE FROM listings_archive a WHERE a.id = ANY (ids);
  GET DIAGNOSTICS listings = ROW_COUNT;
  INSERT INTO retention_log (policy, counts) VALUES ('listing_archive', jsonb_build_object(
    'listings', listings, 'photos', photos, 'marketplace_listings', marketplace_listings,
    'listing_versions', listing_versions));
  RETURN NEXT;
END;
$$;

-- Policy 4, analytics: the first day of the oldest month that is not yet entirely older than
-- one year. Events before it are exported by `retention run` (one CSV.gz file per month,
-- verified by its row count, recorded in retention_analytics_exports with the ids it holds in
-- retention_analytics_exported_ids), then deleted here.
CREATE FUNCTION retention_analytics_cutoff(kept_for interval DEFAULT '1 year') RETURNS timestamp
LANGUAGE sql STABLE AS $$ SELECT date_trunc('month', LOCALTIMESTAMP - kept_for) $$;

-- Deletes up to batch_size events of an export: those its recorded ids name (exactly the rows
-- of its verified file), removing the ids with them in the same transaction. Returns the ids
-- settled (0: the export is done, and marked deleted) and the events deleted (fewer if some
-- were already gone). Refuses an export that was never recorded.
CREATE FUNCTION retention_delete_exported_analytics(export bigint, batch_size integer DEFAULT 5000)
RETURNS TABLE (settled bigint, events bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM retention_analytics_exports e WHERE e.id = export) THEN
    RAISE EXCEPTION 'retention: no recorded analytics export %', export;
  END IF;
  WITH batch AS (
         DELETE FROM retention_analytics_exported_ids x
         WHERE x.export_id = export AND x.event_id IN (
           SELECT y.event_id FROM retention_analytics_exported_ids y
           WHERE y.export_id = export ORDER BY y.event_id LIMIT batch_size)
         RETURNING x.event_id),
       removed AS (DELETE FROM analytics_events a WHERE a.id IN (SELECT b.event_id FROM batch AS b) RETURNING 1)
  SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM removed) INTO settled, events;
  IF settled = 0 THEN
    UPDATE retention_analytics_exports e SET deleted_at = LOCALTIMESTAMP WHERE e.id = export AND e.deleted_at IS NULL;
  ELSE
    INSERT INTO retention_log (policy, counts) VALUES ('analytics', jsonb_build_object(
      'export', export, 'events', events));
  END IF;
  RETURN NEXT;
END;
$$;

-- The three policies that need nothing outside PostgreSQL, batch by batch with a COMMIT after
-- each (a procedure, so pg_cron's `CALL` can run it without holding one long transaction).
-- Unused photos' URLs stay queued until `retention run` writes them out; analytics need it too.
CREATE PROCEDURE retention_run_database_policies(batch_size integer DEFAULT 100)
LANGUAGE plpgsql AS $$
BEGIN
  LOOP
    EXIT WHEN (SELECT r.listings FROM retention_archive_deleted_listings(batch_size) AS r) = 0;
    COMMIT;
  END LOOP;
  LOOP
    EXIT WHEN (SELECT r.photos + r.archived_photos FROM retention_remove_unused_photos(batch_size) AS r) = 0;
    COMMIT;
  END LOOP;
  LOOP
    EXIT WHEN (SELECT r.listings FROM retention_purge_listing_archive(batch_size) AS r) = 0;
    COMMIT;
  END LOOP;
END;
$$;
