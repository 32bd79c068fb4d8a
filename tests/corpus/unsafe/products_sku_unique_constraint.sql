-- expect: disallowed-unique-constraint
-- migrate:up
ALTER TABLE products ADD CONSTRAINT products_sku_unique UNIQUE (sku);

-- migrate:down
ALTER TABLE products DROP CONSTRAINT products_sku_unique;
