-- expect: require-concurrent-index-deletion
-- migrate:up
DROP INDEX orders_status_idx;

-- migrate:down
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
