-- Revert step 4 (expand): add constraints of email to email_address as NOT VALID
BEGIN;

SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_address_not_null;

COMMIT;
