-- expect: require-concurrent-index-creation
-- migrate:up
CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at);

-- migrate:down
DROP INDEX orders_user_id_created_at_idx;
