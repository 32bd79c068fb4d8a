-- expect: unknown-table-or-column
-- migrate:up
ALTER TABLE customers ADD COLUMN loyalty_points bigint;

-- migrate:down
ALTER TABLE customers DROP COLUMN loyalty_points;
