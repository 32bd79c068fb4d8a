-- expect: placeholder-sql
-- migrate:up
ALTER TABLE your_table ADD COLUMN archived_at timestamptz;

-- migrate:down
ALTER TABLE your_table DROP COLUMN archived_at;
