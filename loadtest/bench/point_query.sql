-- pgbench baseline of the miss path: the gateway's user fill query for one id
-- (Sources/Gateway/Families/FamilyQueries.swift, user family, without the unnest batch).
\set id random(1, :maxid)
SELECT (to_jsonb(u) - '{password_hash,google_id,facebook_id,apple_id}'::text[])::text, pg_current_snapshot()::text
FROM users u WHERE u.id = :id AND u.deleted_at IS NULL AND u.account_status <> 'deleted';
