-- 001_enum_types.sql
-- Creates one PostgreSQL enum type per enum column of the QuickSell schema
-- (the source's inline MySQL ENUM(...) is not valid PostgreSQL).
-- Value lists and their order are exactly the source's.

-- users.account_status
CREATE TYPE account_status AS ENUM ('active', 'suspended', 'deleted');

-- users.theme
CREATE TYPE theme AS ENUM ('light', 'dark');

-- users.subscription_tier and subscriptions.plan_type (same value list)
CREATE TYPE subscription_tier AS ENUM ('free', 'premium', 'premium_plus');

-- listings.condition
CREATE TYPE listing_condition AS ENUM ('new', 'like_new', 'good', 'fair', 'poor');

-- listings.status
CREATE TYPE listing_status AS ENUM ('draft', 'published', 'sold', 'delisted', 'archived');

-- marketplace_listings.sync_status
CREATE TYPE marketplace_sync_status AS ENUM ('draft', 'active', 'sold', 'delisted', 'error');

-- sales.status
CREATE TYPE sale_status AS ENUM ('pending', 'completed', 'cancelled', 'refunded');

-- badges.badge_tier (string labels, as in the source)
CREATE TYPE badge_tier AS ENUM ('1', '2', '3', 'special');

-- challenges.challenge_type
CREATE TYPE challenge_type AS ENUM ('weekly', 'monthly', 'seasonal', 'limited');

-- user_challenges.status
CREATE TYPE user_challenge_status AS ENUM ('active', 'completed', 'expired');

-- subscriptions.status
CREATE TYPE subscription_status AS ENUM ('active', 'past_due', 'cancelled', 'expired');
