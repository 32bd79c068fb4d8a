-- expect: prefer-text-field
-- migrate:up
ALTER TABLE products ADD COLUMN slug varchar(255);

-- migrate:down
ALTER TABLE products DROP COLUMN slug;
