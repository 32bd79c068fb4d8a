-- expect: missing-rollback
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);

-- migrate:down transaction:false
