-- expect: unknown-table-or-column
-- migrate:up
ALTER TABLE order_items ADD CONSTRAINT order_items_product_sku_fkey
    FOREIGN KEY (product_sku) REFERENCES products (sku) NOT VALID;

-- migrate:down
ALTER TABLE order_items DROP CONSTRAINT order_items_product_sku_fkey;
