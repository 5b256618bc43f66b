-- One single-row UPDATE of a random user (fires the statement-level invalidation trigger
-- of users once: one outbox row, one notification, keys user:, user_stats:, user_badges:).
\set id random(1, :maxid)
UPDATE users SET points = points + 1 WHERE id = :id;
