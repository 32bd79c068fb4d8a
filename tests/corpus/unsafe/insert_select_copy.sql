-- expect: unbatched-data-change
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TABLE orders_archive (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    status text NOT NULL,
    total numeric(10,2) NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO orders_archive (id, user_id, status, total, created_at)
SELECT id, user_id, status, total, created_at FROM orders WHERE created_at < '2024-01-01';

-- migrate:down
DROP TABLE orders_archive;
