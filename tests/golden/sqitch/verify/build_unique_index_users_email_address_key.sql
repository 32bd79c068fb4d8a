-- Verify step 3 (expand): build unique index users_email_address_key on users (email_address)
BEGIN;

SELECT 1/count(*) FROM pg_index WHERE indexrelid = 'users_email_address_key'::regclass AND indisvalid;

ROLLBACK;
