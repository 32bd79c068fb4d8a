-- expect: adding-not-nullable-field
-- migrate:up
UPDATE users SET name = '' WHERE name IS NULL;
ALTER TABLE users ALTER COLUMN name SET NOT NULL;

-- migrate:down
ALTER TABLE users ALTER COLUMN name DROP NOT NULL;
