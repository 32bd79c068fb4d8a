-- expect: blocking-scan
-- migrate:up
SET lock_timeout = '1s';
ALTER TABLE orders ADD CONSTRAINT orders_one_pending_per_user EXCLUDE USING btree (user_id WITH =) WHERE (status = 'pending');

-- migrate:down
ALTER TABLE orders DROP CONSTRAINT orders_one_pending_per_user;
