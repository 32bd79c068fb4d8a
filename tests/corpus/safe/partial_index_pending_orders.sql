-- safe: partial index, CONCURRENTLY
-- migrate:up transaction:false
-- squawk-ignore require-lock-timeout, require-statement-timeout -- alone in a non-transactional file; CONCURRENTLY waits without blocking reads or writes
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_pending_idx ON orders (created_at) WHERE status = 'pending';

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS orders_pending_idx;
