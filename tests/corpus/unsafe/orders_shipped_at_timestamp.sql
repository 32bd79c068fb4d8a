-- expect: prefer-timestamp-tz
-- migrate:up
ALTER TABLE orders ADD COLUMN shipped_at timestamp;

-- migrate:down
ALTER TABLE orders DROP COLUMN shipped_at;
