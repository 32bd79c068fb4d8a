-- expect: unbatched-data-change
-- migrate:up
DELETE FROM orders WHERE user_id IN (SELECT id FROM users WHERE name IS NULL);

-- migrate:down
-- irreversible: the old rows or values are gone
