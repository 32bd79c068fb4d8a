-- expect: adding-required-field
-- migrate:up
ALTER TABLE users ADD COLUMN country text NOT NULL;

-- migrate:down
ALTER TABLE users DROP COLUMN country;
