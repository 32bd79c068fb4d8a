-- Revert step 1 (expand): add users.email_address and a trigger keeping it in sync with email
BEGIN;

SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
DROP TRIGGER IF EXISTS flux_sync_users_email ON users;
-- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
DROP FUNCTION IF EXISTS flux_sync_users_email();
ALTER TABLE users DROP COLUMN IF EXISTS email_address;

COMMIT;
