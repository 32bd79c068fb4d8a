-- expect: expand-contract-required, changing-column-type
-- migrate:up
-- notes longer than 80 characters were never shown anyway
ALTER TABLE orders ALTER COLUMN note TYPE varchar(80);

-- migrate:down
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);
