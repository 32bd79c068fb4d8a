-- safe: CONCURRENTLY, alone, outside a transaction
-- migrate:up transaction:false
-- squawk-ignore require-lock-timeout, require-statement-timeout -- alone in a non-transactional file; CONCURRENTLY waits without blocking reads or writes
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;
