-- safe: a view over existing tables
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE VIEW paid_orders AS
SELECT o.id, o.user_id, o.total, o.created_at FROM orders o WHERE o.status = 'paid';

-- migrate:down
DROP VIEW paid_orders;
