-- migrate:up
CREATE TYPE payment_method AS ENUM ('card', 'transfer');
ALTER TABLE orders ADD COLUMN payment_method payment_method;

-- migrate:down
ALTER TABLE orders DROP COLUMN payment_method;
DROP TYPE payment_method;
