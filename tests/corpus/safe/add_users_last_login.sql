-- safe: nullable column, no rewrite
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE users ADD COLUMN last_login_at timestamptz;

-- migrate:down
ALTER TABLE users DROP COLUMN last_login_at;
