-- expect: blocking-scan
-- migrate:up
SET lock_timeout = '1s';
ALTER TABLE orders SET UNLOGGED;

-- migrate:down
ALTER TABLE orders SET LOGGED;
