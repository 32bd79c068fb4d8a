-- expect: expand-contract-required, renaming-column
-- migrate:up
ALTER TABLE orders RENAME COLUMN user_id TO customer_id;

-- migrate:down
ALTER TABLE orders RENAME COLUMN customer_id TO user_id;
