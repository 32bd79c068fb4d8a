-- expect: ban-drop-not-null
-- migrate:up
ALTER TABLE products ALTER COLUMN title DROP NOT NULL;

-- migrate:down
ALTER TABLE products ALTER COLUMN title SET NOT NULL;
