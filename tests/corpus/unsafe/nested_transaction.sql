-- expect: transaction-nesting
-- migrate:up
BEGIN;
ALTER TABLE users ADD COLUMN marketing_opt_in boolean;
COMMIT;

-- migrate:down
ALTER TABLE users DROP COLUMN marketing_opt_in;
