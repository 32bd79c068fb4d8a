-- safe: new enum and a nullable column of it
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TYPE order_channel AS ENUM ('web', 'ios', 'android', 'pos');
ALTER TABLE orders ADD COLUMN channel order_channel;

-- migrate:down
ALTER TABLE orders DROP COLUMN channel;
DROP TYPE order_channel;
