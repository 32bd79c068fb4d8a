-- safe: new lookup table with its rows
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TABLE order_statuses (
    code text PRIMARY KEY,
    label text NOT NULL
);
INSERT INTO order_statuses (code, label) VALUES ('pending', 'Pending'), ('paid', 'Paid'), ('shipped', 'Shipped');

-- migrate:down
DROP TABLE order_statuses;
