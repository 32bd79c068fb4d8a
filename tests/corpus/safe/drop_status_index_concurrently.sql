-- safe: DROP INDEX CONCURRENTLY
-- migrate:up transaction:false
-- squawk-ignore require-lock-timeout, require-statement-timeout -- alone in a non-transactional file; CONCURRENTLY waits without blocking reads or writes
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;

-- migrate:down transaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
