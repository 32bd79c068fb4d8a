-- safe: unique index built CONCURRENTLY
-- migrate:up transaction:false
-- squawk-ignore require-lock-timeout, require-statement-timeout -- alone in a non-transactional file; CONCURRENTLY waits without blocking reads or writes
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS products_sku_key ON products (sku);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS products_sku_key;
