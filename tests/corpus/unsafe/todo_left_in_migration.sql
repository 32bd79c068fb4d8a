-- expect: placeholder-sql
-- migrate:up
-- TODO: pick the right default before merging
ALTER TABLE products ADD COLUMN currency text;

-- migrate:down
ALTER TABLE products DROP COLUMN currency;
