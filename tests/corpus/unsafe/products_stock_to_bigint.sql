-- expect: expand-contract-required, changing-column-type
-- migrate:up
ALTER TABLE products ALTER COLUMN stock TYPE bigint;

-- migrate:down
ALTER TABLE products ALTER COLUMN stock TYPE integer;
