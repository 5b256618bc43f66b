-- 004_views.sql
-- Creates the two analytics views of the source schema. The source's SQL is
-- already valid PostgreSQL here (DATE_TRUNC, COALESCE; l.view_count is allowed
-- ungrouped because l.id, the primary key, is in GROUP BY); it is kept as is.

-- Per seller and calendar month: sales count, revenue, averages.
-- Users without sales appear once with month NULL and total_sales 0.
CREATE VIEW sales_summary_view AS
SELECT
  u.id AS user_id,
  u.username,
  COUNT(s.id) AS total_sales,
  SUM(s.sale_price) AS total_revenue,
  AVG(s.sale_price) AS avg_sale_price,
  AVG(s.seller_rating) AS avg_rating,
  DATE_TRUNC('month', s.sale_date) AS month
FROM users u
LEFT JOIN sales s ON u.id = s.seller_id
GROUP BY u.id, u.username, DATE_TRUNC('month', s.sale_date);

-- Per listing (one row per listing and sale): marketplace reach and views.
CREATE VIEW listing_performance_view AS
SELECT
  l.id,
  l.title,
  l.category,
  COUNT(DISTINCT ml.id) AS marketplace_count,
  SUM(ml.views_on_marketplace) AS total_views,
  CASE WHEN s.id IS NOT NULL THEN 1 ELSE 0 END AS is_sold,
  s.sale_price,
  (l.view_count + COALESCE(SUM(ml.views_on_marketplace), 0)) AS total_platform_views
FROM listings l
LEFT JOIN marketplace_listings ml ON l.id = ml.listing_id
LEFT JOIN sales s ON l.id = s.listing_id
GROUP BY l.id, l.title, l.category, s.id, s.sale_price;
