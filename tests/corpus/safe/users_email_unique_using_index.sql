-- safe: UNIQUE constraint from an existing index
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE users ADD CONSTRAINT users_email_unique UNIQUE USING INDEX users_email_key;

-- migrate:down
ALTER TABLE users DROP CONSTRAINT users_email_unique;
