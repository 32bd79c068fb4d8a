-- safe: SET DEFAULT is catalog only
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';

-- migrate:down
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';
