-- expect: adding-serial-primary-key-field
-- migrate:up
ALTER TABLE order_items ADD COLUMN id bigserial PRIMARY KEY;

-- migrate:down
ALTER TABLE order_items DROP COLUMN id;
