-- expect: missing-rollback
-- migrate:up
ALTER TABLE users ADD COLUMN locale text;

-- migrate:down
