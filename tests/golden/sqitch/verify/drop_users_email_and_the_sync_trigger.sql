-- Verify step 8 (contract): drop users.email and the sync trigger
BEGIN;

SELECT 1/(count(*) = 0)::int FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email' AND NOT attisdropped;

ROLLBACK;
