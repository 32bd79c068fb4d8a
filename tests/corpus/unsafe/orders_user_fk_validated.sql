-- expect: adding-foreign-key-constraint
-- migrate:up
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey2 FOREIGN KEY (user_id) REFERENCES users (id);

-- migrate:down
ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey2;
