-- safe: CHECK added NOT VALID
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE products ADD CONSTRAINT products_price_nonnegative CHECK (price >= 0) NOT VALID;

-- migrate:down
ALTER TABLE products DROP CONSTRAINT products_price_nonnegative;
