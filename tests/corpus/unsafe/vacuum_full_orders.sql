-- expect: blocking-scan
-- migrate:up transaction:false
SET lock_timeout = '1s';
VACUUM FULL orders;

-- migrate:down
SELECT 1;
