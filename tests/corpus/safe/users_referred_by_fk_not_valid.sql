-- safe: foreign key added NOT VALID
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE users ADD COLUMN referred_by bigint;
ALTER TABLE users ADD CONSTRAINT users_referred_by_fkey FOREIGN KEY (referred_by) REFERENCES users (id) NOT VALID;

-- migrate:down
ALTER TABLE users DROP COLUMN referred_by;
