-- safe: varchar to text is binary-coercible
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
-- squawk-ignore changing-column-type, prefer-text-field -- varchar(200) to text is binary-coercible: no rewrite
ALTER TABLE orders ALTER COLUMN note TYPE text;

-- migrate:down
-- squawk-ignore changing-column-type, prefer-text-field -- back to the old limit, checked by a scan
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);
