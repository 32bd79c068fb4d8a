-- expect: ban-concurrent-index-creation-in-transaction
-- migrate:up
CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);

-- migrate:down
DROP INDEX orders_created_at_idx;
