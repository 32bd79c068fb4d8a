-- expect: ban-concurrent-index-creation-in-transaction
-- migrate:up transaction:false
SET lock_timeout = '1s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS products_title_idx ON products (title);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS products_title_idx;
