-- safe: VALIDATE in its own migration
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE users VALIDATE CONSTRAINT users_referred_by_fkey;

-- migrate:down
-- nothing to undo: validating changes no data
