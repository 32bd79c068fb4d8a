-- Step 6 (expand): set users.email_address NOT NULL (proved by the check, no scan)
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
ALTER TABLE users ADD CONSTRAINT users_email_address_not_null CHECK (email_address IS NOT NULL) NOT VALID;
ALTER TABLE users ALTER COLUMN email_address DROP NOT NULL;
