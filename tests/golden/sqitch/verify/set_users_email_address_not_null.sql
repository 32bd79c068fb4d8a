-- Verify step 6 (expand): set users.email_address NOT NULL (proved by the check, no scan)
BEGIN;

SELECT 1/count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email_address' AND attnotnull;

ROLLBACK;
