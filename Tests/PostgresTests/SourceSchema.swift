/// The tables, columns, views and indexes the source document lists
/// (`shared/seed/quicksell-database-schema.md`), as the migrations must create them.
enum SourceSchema {
    static let tables: [String: [String]] = [
        "users": [
            "id", "username", "email", "password_hash", "first_name", "last_name", "profile_picture_url",
            "bio", "phone_number", "account_status", "email_verified", "verified_at", "google_id",
            "facebook_id", "apple_id", "theme", "language", "notification_preferences", "subscription_tier",
            "subscription_expires_at", "points", "current_level", "total_sales", "total_revenue",
            "avg_rating", "created_at", "updated_at", "deleted_at",
        ],
        "listings": [
            "id", "user_id", "title", "description", "category", "condition", "price", "estimated_price",
            "status", "brand", "model", "color", "size", "weight_kg", "dimensions", "local_pickup_available",
            "shipping_available", "estimated_shipping_cost", "view_count", "click_count",
            "ai_description_generated", "ai_price_estimated", "confidence_score", "created_at", "updated_at",
            "published_at", "deleted_at",
        ],
        "listing_versions": [
            "id", "listing_id", "title", "description", "price", "status", "changes", "version",
            "created_at", "created_by",
        ],
        "photos": [
            "id", "listing_id", "user_id", "original_url", "thumb_url", "optimized_url", "filename",
            "file_size", "mime_type", "width", "height", "contains_faces", "contains_hands",
            "background_type", "quality_score", "object_confidence", "display_order", "is_primary",
            "created_at", "updated_at",
        ],
        "marketplace_accounts": [
            "id", "user_id", "marketplace_name", "marketplace_user_id", "access_token", "refresh_token",
            "token_expires_at", "account_name", "seller_rating", "total_sales_on_platform", "is_active",
            "auto_sync_enabled", "created_at", "updated_at",
        ],
        "marketplace_listings": [
            "id", "listing_id", "marketplace_account_id", "marketplace_name", "marketplace_listing_id",
            "marketplace_url", "sync_status", "last_sync_at", "views_on_marketplace",
            "clicks_on_marketplace", "posted_price", "synced_data", "posted_at", "expires_at", "created_at",
            "updated_at",
        ],
        "sales": [
            "id", "listing_id", "buyer_id", "seller_id", "marketplace_name", "sale_price", "shipping_cost",
            "final_amount", "status", "sale_date", "completed_date", "shipping_carrier", "tracking_number",
            "shipped_at", "delivered_at", "seller_rating", "seller_review", "buyer_rating", "buyer_review",
            "created_at", "updated_at",
        ],
        "user_stats": [
            "id", "user_id", "total_points", "current_level", "total_items_sold", "total_revenue",
            "average_sale_price", "positive_ratings", "negative_ratings", "average_rating",
            "listings_created", "photos_uploaded", "current_posting_streak", "best_posting_streak",
            "last_activity_date", "updated_at",
        ],
        "badges": [
            "id", "badge_key", "badge_name", "badge_description", "badge_icon_url", "badge_tier",
            "requirement_type", "requirement_value", "created_at",
        ],
        "user_badges": [
            "id", "user_id", "badge_id", "unlocked_at",
        ],
        "challenges": [
            "id", "challenge_key", "challenge_name", "description", "challenge_type", "reward_points",
            "reward_badge_id", "starts_at", "ends_at", "is_active", "created_at",
        ],
        "user_challenges": [
            "id", "user_id", "challenge_id", "progress", "progress_percentage", "status", "started_at",
            "completed_at",
        ],
        "notifications": [
            "id", "user_id", "notification_type", "title", "message", "icon_url", "related_listing_id",
            "related_sale_id", "is_read", "read_at", "created_at",
        ],
        "analytics_events": [
            "id", "user_id", "event_type", "event_name", "listing_id", "marketplace_name", "event_data",
            "session_id", "ip_address", "user_agent", "created_at",
        ],
        "subscriptions": [
            "id", "user_id", "stripe_customer_id", "stripe_subscription_id", "plan_type", "status",
            "current_period_start", "current_period_end", "cancel_at_period_end", "created_at", "updated_at",
        ],
    ]

    static let views = ["sales_summary_view", "listing_performance_view"]

    /// (index name, table)
    static let indexes: [(String, String)] = [
        ("idx_users_email", "users"),
        ("idx_users_username", "users"),
        ("idx_users_account_status", "users"),
        ("idx_listings_user_id", "listings"),
        ("idx_listings_status", "listings"),
        ("idx_listings_category", "listings"),
        ("idx_listings_created_at", "listings"),
        ("idx_listing_versions_listing_id", "listing_versions"),
        ("idx_photos_listing_id", "photos"),
        ("idx_photos_user_id", "photos"),
        ("idx_marketplace_accounts_user_id", "marketplace_accounts"),
        ("idx_marketplace_listings_listing_id", "marketplace_listings"),
        ("idx_marketplace_listings_marketplace_name", "marketplace_listings"),
        ("idx_sales_listing_id", "sales"),
        ("idx_sales_seller_id", "sales"),
        ("idx_sales_sale_date", "sales"),
        ("idx_badges_badge_key", "badges"),
        ("idx_user_badges_user_id", "user_badges"),
        ("idx_user_challenges_user_id", "user_challenges"),
        ("idx_notifications_user_id", "notifications"),
        ("idx_notifications_created_at", "notifications"),
        ("idx_analytics_events_user_id", "analytics_events"),
        ("idx_analytics_events_event_type", "analytics_events"),
        ("idx_analytics_events_created_at", "analytics_events"),
        ("idx_subscriptions_user_id", "subscriptions"),
    ]
}
