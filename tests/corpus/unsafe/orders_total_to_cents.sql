-- expect: expand-contract-required, changing-column-type
-- migrate:up
ALTER TABLE orders ALTER COLUMN total TYPE bigint USING round(total * 100)::bigint;

-- migrate:down
ALTER TABLE orders ALTER COLUMN total TYPE numeric(10,2) USING total / 100.0;
