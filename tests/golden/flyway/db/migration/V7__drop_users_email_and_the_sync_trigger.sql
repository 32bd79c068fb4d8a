-- Step 8 (contract): drop users.email and the sync trigger
-- flux-phase contract: written by flux to run after the code deploy before it; what it removes is no longer used
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
DROP TRIGGER IF EXISTS flux_sync_users_email ON users;
-- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
DROP FUNCTION IF EXISTS flux_sync_users_email();
-- squawk-ignore ban-drop-column -- the application stopped using email in the code step
ALTER TABLE users DROP COLUMN email;
