-- safe: a new table filled from one key range of orders, one batch
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TABLE orders_archive (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO orders_archive (id, status, created_at)
SELECT id, status, created_at FROM orders WHERE id >= 1 AND id < 5001;

-- migrate:down
DROP TABLE orders_archive;
