-- 002_tables.sql
-- Creates the fifteen QuickSell tables, in foreign-key dependency order.
-- Columns, types, defaults, NOT NULL, UNIQUE and foreign keys are exactly the
-- source's; MySQL types are spelled the PostgreSQL way (INT -> integer,
-- DECIMAL(p,s) -> numeric(p,s), TIMESTAMP -> timestamp without time zone) and
-- inline ENUMs use the types from 001_enum_types.sql.

CREATE TABLE users (
  id serial PRIMARY KEY,
  username varchar(255) UNIQUE NOT NULL,
  email varchar(255) UNIQUE NOT NULL,
  password_hash varchar(255) NOT NULL,
  first_name varchar(255),
  last_name varchar(255),
  profile_picture_url varchar(500),
  bio text,
  phone_number varchar(20),

  -- Account Info
  account_status account_status DEFAULT 'active',
  email_verified boolean DEFAULT FALSE,
  verified_at timestamp,

  -- OAuth
  google_id varchar(255),
  facebook_id varchar(255),
  apple_id varchar(255),

  -- Preferences
  theme theme DEFAULT 'light',
  language varchar(10) DEFAULT 'en',
  notification_preferences jsonb,

  -- Subscription
  subscription_tier subscription_tier DEFAULT 'free',
  subscription_expires_at timestamp,

  -- Gamification
  points integer DEFAULT 0,
  current_level integer DEFAULT 1,
  total_sales integer DEFAULT 0,
  total_revenue numeric(12, 2) DEFAULT 0,
  avg_rating numeric(3, 2),

  -- Timestamps
  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,
  deleted_at timestamp
);

CREATE TABLE listings (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,
  title varchar(200) NOT NULL,
  description text NOT NULL,
  category varchar(100) NOT NULL,
  condition listing_condition NOT NULL,

  -- Pricing
  price numeric(10, 2) NOT NULL,
  estimated_price numeric(10, 2),

  -- Status
  status listing_status DEFAULT 'draft',

  -- Condition & Details
  brand varchar(255),
  model varchar(255),
  color varchar(100),
  size varchar(50),
  weight_kg numeric(8, 2),
  dimensions varchar(100),

  -- Shipping
  local_pickup_available boolean DEFAULT FALSE,
  shipping_available boolean DEFAULT TRUE,
  estimated_shipping_cost numeric(8, 2),

  -- Engagement
  view_count integer DEFAULT 0,
  click_count integer DEFAULT 0,

  -- AI Data
  ai_description_generated boolean DEFAULT FALSE,
  ai_price_estimated boolean DEFAULT FALSE,
  confidence_score numeric(3, 2),

  -- Timestamps
  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,
  published_at timestamp,
  deleted_at timestamp,

  FOREIGN KEY (user_id) REFERENCES users(id)
);

CREATE TABLE listing_versions (
  id serial PRIMARY KEY,
  listing_id integer NOT NULL,
  title varchar(200),
  description text,
  price numeric(10, 2),
  status varchar(50),
  changes jsonb NOT NULL,
  version integer NOT NULL,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  created_by integer NOT NULL,

  FOREIGN KEY (listing_id) REFERENCES listings(id),
  FOREIGN KEY (created_by) REFERENCES users(id)
);

CREATE TABLE photos (
  id serial PRIMARY KEY,
  listing_id integer NOT NULL,
  user_id integer NOT NULL,

  -- Photo URLs
  original_url varchar(500) NOT NULL,
  thumb_url varchar(500),
  optimized_url varchar(500),

  -- Metadata
  filename varchar(255),
  file_size integer,
  mime_type varchar(50),
  width integer,
  height integer,

  -- AI Analysis
  contains_faces boolean,
  contains_hands boolean,
  background_type varchar(50),
  quality_score numeric(3, 2),
  object_confidence numeric(3, 2),

  -- Positioning
  display_order integer DEFAULT 0,
  is_primary boolean DEFAULT FALSE,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,

  FOREIGN KEY (listing_id) REFERENCES listings(id),
  FOREIGN KEY (user_id) REFERENCES users(id)
);

CREATE TABLE marketplace_accounts (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,
  marketplace_name varchar(100) NOT NULL,

  -- Auth
  marketplace_user_id varchar(500),
  access_token varchar(1000),
  refresh_token varchar(1000),
  token_expires_at timestamp,

  -- Account Info
  account_name varchar(255),
  seller_rating numeric(3, 2),
  total_sales_on_platform integer DEFAULT 0,

  -- Settings
  is_active boolean DEFAULT TRUE,
  auto_sync_enabled boolean DEFAULT TRUE,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,

  UNIQUE (user_id, marketplace_name),
  FOREIGN KEY (user_id) REFERENCES users(id)
);

CREATE TABLE marketplace_listings (
  id serial PRIMARY KEY,
  listing_id integer NOT NULL,
  marketplace_account_id integer NOT NULL,
  marketplace_name varchar(100) NOT NULL,

  -- Marketplace IDs
  marketplace_listing_id varchar(500) UNIQUE,
  marketplace_url varchar(500),

  -- Status
  sync_status marketplace_sync_status DEFAULT 'draft',
  last_sync_at timestamp,

  -- Stats
  views_on_marketplace integer DEFAULT 0,
  clicks_on_marketplace integer DEFAULT 0,

  -- Data
  posted_price numeric(10, 2),
  synced_data jsonb,

  -- Timing
  posted_at timestamp,
  expires_at timestamp,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,

  FOREIGN KEY (listing_id) REFERENCES listings(id),
  FOREIGN KEY (marketplace_account_id) REFERENCES marketplace_accounts(id)
);

CREATE TABLE sales (
  id serial PRIMARY KEY,
  listing_id integer NOT NULL,
  buyer_id integer,  -- no foreign key in the source; kept that way
  seller_id integer NOT NULL,

  -- Sale Details
  marketplace_name varchar(100),
  sale_price numeric(10, 2) NOT NULL,
  shipping_cost numeric(8, 2) DEFAULT 0,
  final_amount numeric(10, 2),

  -- Status
  status sale_status DEFAULT 'pending',

  -- Timestamps
  sale_date timestamp DEFAULT CURRENT_TIMESTAMP,
  completed_date timestamp,

  -- Shipping
  shipping_carrier varchar(100),
  tracking_number varchar(255),
  shipped_at timestamp,
  delivered_at timestamp,

  -- Reviews
  seller_rating integer,
  seller_review text,
  buyer_rating integer,
  buyer_review text,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,

  FOREIGN KEY (listing_id) REFERENCES listings(id),
  FOREIGN KEY (seller_id) REFERENCES users(id)
);

CREATE TABLE user_stats (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,

  -- Points & Levels
  total_points integer DEFAULT 0,
  current_level integer DEFAULT 1,

  -- Sales
  total_items_sold integer DEFAULT 0,
  total_revenue numeric(12, 2) DEFAULT 0,
  average_sale_price numeric(10, 2),

  -- Ratings
  positive_ratings integer DEFAULT 0,
  negative_ratings integer DEFAULT 0,
  average_rating numeric(3, 2),

  -- Engagement
  listings_created integer DEFAULT 0,
  photos_uploaded integer DEFAULT 0,

  -- Streaks
  current_posting_streak integer DEFAULT 0,
  best_posting_streak integer DEFAULT 0,
  last_activity_date date,

  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,

  UNIQUE (user_id),
  FOREIGN KEY (user_id) REFERENCES users(id)
);

CREATE TABLE badges (
  id serial PRIMARY KEY,
  badge_key varchar(100) UNIQUE NOT NULL,
  badge_name varchar(255) NOT NULL,
  badge_description text,
  badge_icon_url varchar(500),
  badge_tier badge_tier DEFAULT '1',

  -- Requirements
  requirement_type varchar(100),
  requirement_value integer,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE user_badges (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,
  badge_id integer NOT NULL,

  unlocked_at timestamp DEFAULT CURRENT_TIMESTAMP,

  UNIQUE (user_id, badge_id),
  FOREIGN KEY (user_id) REFERENCES users(id),
  FOREIGN KEY (badge_id) REFERENCES badges(id)
);

CREATE TABLE challenges (
  id serial PRIMARY KEY,
  challenge_key varchar(100) UNIQUE NOT NULL,
  challenge_name varchar(255) NOT NULL,
  description text,
  challenge_type challenge_type DEFAULT 'weekly',

  -- Rewards
  reward_points integer DEFAULT 50,
  reward_badge_id integer,

  -- Timing
  starts_at timestamp,
  ends_at timestamp,
  is_active boolean DEFAULT TRUE,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,

  FOREIGN KEY (reward_badge_id) REFERENCES badges(id)
);

CREATE TABLE user_challenges (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,
  challenge_id integer NOT NULL,

  progress integer DEFAULT 0,
  progress_percentage numeric(5, 2) DEFAULT 0,
  status user_challenge_status DEFAULT 'active',

  started_at timestamp DEFAULT CURRENT_TIMESTAMP,
  completed_at timestamp,

  UNIQUE (user_id, challenge_id),
  FOREIGN KEY (user_id) REFERENCES users(id),
  FOREIGN KEY (challenge_id) REFERENCES challenges(id)
);

CREATE TABLE notifications (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,

  notification_type varchar(100) NOT NULL,
  title varchar(255) NOT NULL,
  message text NOT NULL,
  icon_url varchar(500),

  -- Related data
  related_listing_id integer,
  related_sale_id integer,

  -- Status
  is_read boolean DEFAULT FALSE,
  read_at timestamp,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,

  FOREIGN KEY (user_id) REFERENCES users(id),
  FOREIGN KEY (related_listing_id) REFERENCES listings(id),
  FOREIGN KEY (related_sale_id) REFERENCES sales(id)
);

CREATE TABLE analytics_events (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,

  event_type varchar(100) NOT NULL,
  event_name varchar(255),

  -- Context
  listing_id integer,
  marketplace_name varchar(100),

  -- Event data
  event_data jsonb,

  session_id varchar(255),
  ip_address varchar(45),
  user_agent text,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,

  FOREIGN KEY (user_id) REFERENCES users(id),
  FOREIGN KEY (listing_id) REFERENCES listings(id)
);

CREATE TABLE subscriptions (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,

  stripe_customer_id varchar(255),
  stripe_subscription_id varchar(255),

  plan_type subscription_tier NOT NULL,

  status subscription_status DEFAULT 'active',

  current_period_start date,
  current_period_end date,

  cancel_at_period_end boolean DEFAULT FALSE,

  created_at timestamp DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp DEFAULT CURRENT_TIMESTAMP,

  UNIQUE (user_id),
  FOREIGN KEY (user_id) REFERENCES users(id)
);
