-- expect: missing-rollback
-- migrate:up
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';

-- migrate:down
