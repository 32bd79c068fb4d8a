-- expect: blocking-scan
-- migrate:up
SET lock_timeout = '1s';
CLUSTER orders USING orders_pkey;

-- migrate:down
SELECT 1;
