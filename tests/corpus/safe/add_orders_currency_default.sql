-- safe: constant default: catalog only on PostgreSQL 11+
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';

-- migrate:down
ALTER TABLE orders DROP COLUMN currency;
