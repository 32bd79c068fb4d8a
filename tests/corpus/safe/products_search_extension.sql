-- safe: a trusted extension
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- migrate:down
DROP EXTENSION IF EXISTS pg_trgm;
