-- expect: adding-not-nullable-field
-- migrate:up
ALTER TABLE products ADD CONSTRAINT products_stock_not_null CHECK (stock IS NOT NULL) NOT VALID;
ALTER TABLE products ALTER COLUMN stock SET NOT NULL;

-- migrate:down
ALTER TABLE products ALTER COLUMN stock DROP NOT NULL;
ALTER TABLE products DROP CONSTRAINT products_stock_not_null;
