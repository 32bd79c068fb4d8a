-- safe: nullable array column
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE products ADD COLUMN tags text[];

-- migrate:down
ALTER TABLE products DROP COLUMN tags;
