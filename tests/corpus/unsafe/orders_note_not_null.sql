-- expect: adding-not-nullable-field
-- migrate:up
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;

-- migrate:down
ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;
