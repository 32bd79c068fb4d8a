-- expect: constraint-missing-not-valid
-- migrate:up
ALTER TABLE orders ADD CONSTRAINT orders_total_nonnegative CHECK (total >= 0);

-- migrate:down
ALTER TABLE orders DROP CONSTRAINT orders_total_nonnegative;
