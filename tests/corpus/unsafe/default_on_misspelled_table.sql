-- expect: unknown-table-or-column
-- migrate:up
ALTER TABLE order_item ALTER COLUMN quantity SET DEFAULT 1;

-- migrate:down
ALTER TABLE order_item ALTER COLUMN quantity DROP DEFAULT;
