-- safe: comments only
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
COMMENT ON COLUMN orders.note IS 'free text from the customer at checkout';

-- migrate:down
COMMENT ON COLUMN orders.note IS NULL;
