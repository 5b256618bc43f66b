-- 003_indexes.sql
-- Creates every index the source schema lists (same names), then the indexes
-- its "Indexing Strategy" section asks for and the gateway's fill queries need.
-- Plain CREATE INDEX (not CONCURRENTLY): the migrator runs each file in one
-- transaction, and these run on empty tables at install time.
--
-- Note: several source indexes duplicate an index PostgreSQL already builds
-- for a UNIQUE constraint (idx_users_email, idx_users_username,
-- idx_badges_badge_key, idx_subscriptions_user_id) or are a prefix of a
-- composite index below. They are kept because the source lists them; dropping
-- them is a separate, later migration if write cost ever matters.

-- ---------------------------------------------------------------------------
-- Indexes listed by the source
-- ---------------------------------------------------------------------------

CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_account_status ON users(account_status);

CREATE INDEX idx_listings_user_id ON listings(user_id);
CREATE INDEX idx_listings_status ON listings(status);
CREATE INDEX idx_listings_category ON listings(category);
CREATE INDEX idx_listings_created_at ON listings(created_at);

CREATE INDEX idx_listing_versions_listing_id ON listing_versions(listing_id);

CREATE INDEX idx_photos_listing_id ON photos(listing_id);
CREATE INDEX idx_photos_user_id ON photos(user_id);

CREATE INDEX idx_marketplace_accounts_user_id ON marketplace_accounts(user_id);

CREATE INDEX idx_marketplace_listings_listing_id ON marketplace_listings(listing_id);
CREATE INDEX idx_marketplace_listings_marketplace_name ON marketplace_listings(marketplace_name);

CREATE INDEX idx_sales_listing_id ON sales(listing_id);
CREATE INDEX idx_sales_seller_id ON sales(seller_id);
CREATE INDEX idx_sales_sale_date ON sales(sale_date);

CREATE INDEX idx_badges_badge_key ON badges(badge_key);

CREATE INDEX idx_user_badges_user_id ON user_badges(user_id);

CREATE INDEX idx_user_challenges_user_id ON user_challenges(user_id);

CREATE INDEX idx_notifications_user_id ON notifications(user_id);
CREATE INDEX idx_notifications_created_at ON notifications(created_at);

CREATE INDEX idx_analytics_events_user_id ON analytics_events(user_id);
CREATE INDEX idx_analytics_events_event_type ON analytics_events(event_type);
CREATE INDEX idx_analytics_events_created_at ON analytics_events(created_at);

CREATE INDEX idx_subscriptions_user_id ON subscriptions(user_id);

-- ---------------------------------------------------------------------------
-- Indexing Strategy: partial, composite, analytical and JSONB indexes
-- ---------------------------------------------------------------------------

-- Active listings (published, not soft-deleted), newest first: serves
--   WHERE status = 'published' AND deleted_at IS NULL ORDER BY created_at DESC
-- Only the active subset is indexed, so it stays small as drafts, sold and
-- deleted listings accumulate.
CREATE INDEX idx_listings_active_created_at ON listings(created_at DESC)
  WHERE status = 'published' AND deleted_at IS NULL;

-- A seller's listings filtered by status: WHERE user_id = $1 AND status = $2.
CREATE INDEX idx_listings_user_id_status ON listings(user_id, status);

-- A seller's sales in a date range: WHERE seller_id = $1 AND sale_date >= $2 ...
CREATE INDEX idx_sales_seller_id_sale_date ON sales(seller_id, sale_date);

-- Leaderboard (leaderboard:weekly / leaderboard:monthly): completed sales in a
-- sale_date range, grouped by seller, summing sale_price:
--   WHERE status = 'completed' AND sale_date >= $1 AND sale_date < $2
--   GROUP BY seller_id ... sum(sale_price)
-- Partial on completed sales; sale_price is INCLUDEd so an index-only scan
-- answers the query without visiting the heap.
CREATE INDEX idx_sales_completed_sale_date_seller_id ON sales(sale_date, seller_id)
  INCLUDE (sale_price)
  WHERE status = 'completed';

-- Fill of marketplace_listings:{id} (batched): all copies of a set of listings,
-- in a stable order:
--   WHERE listing_id = ANY($1) ORDER BY listing_id, marketplace_name, id
-- The btree reads the ANY() array in sorted order, so the output comes out
-- already ordered and no sort step is needed.
CREATE INDEX idx_marketplace_listings_listing_id_marketplace_name
  ON marketplace_listings(listing_id, marketplace_name, id);

-- Fill of listing:{id} (batched): a listing's photos embedded in display order:
--   WHERE listing_id = ANY($1) ORDER BY listing_id, display_order, id
-- (id breaks ties between equal display_order values deterministically).
CREATE INDEX idx_photos_listing_id_display_order
  ON photos(listing_id, display_order, id);

-- Fill of user_badges:{id}: WHERE user_id = ANY($1), joined to badges by
-- badge_id. Already served by the UNIQUE (user_id, badge_id) constraint's
-- index (user_badges_user_id_badge_id_key); no extra index is created.

-- Analytics events of a user by date: WHERE user_id = $1 AND created_at >= $2
-- ORDER BY created_at.
CREATE INDEX idx_analytics_events_user_id_created_at
  ON analytics_events(user_id, created_at);

-- Points leaderboard over user_stats (the source's "Leaderboard queries
-- (user_stats)"): ORDER BY total_points DESC LIMIT n, user_id as tie-break.
CREATE INDEX idx_user_stats_total_points ON user_stats(total_points DESC, user_id);

-- Notification preferences (JSONB GIN): which users opted into something,
--   WHERE notification_preferences @> '{"sale_alerts": true}'
-- jsonb_path_ops rather than the default jsonb_ops: it supports exactly the
-- containment operators (@>, @?, @@) such lookups use, and its index is
-- smaller and faster because it stores one hash per path-to-value instead of
-- every key and value separately. It does NOT serve the key-existence
-- operators (?, ?|, ?&); queries should test containment of a value instead.
CREATE INDEX idx_users_notification_preferences ON users
  USING gin (notification_preferences jsonb_path_ops);
