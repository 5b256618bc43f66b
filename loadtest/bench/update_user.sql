-- One single-row UPDATE of a random user (fires the row-level invalidation trigger of users
-- once: one logical decoding message with the key user:{id}).
\set id random(1, :maxid)
UPDATE users SET points = points + 1 WHERE id = :id;
