-- Step 6 (expand): set users.email_address NOT NULL (proved by the check, no scan)
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
-- squawk-ignore adding-not-nullable-field -- a validated CHECK (col IS NOT NULL) proves it, no scan
ALTER TABLE users ALTER COLUMN email_address SET NOT NULL;
-- squawk-ignore ban-drop-constraint -- the column's NOT NULL now carries this guarantee
ALTER TABLE users DROP CONSTRAINT users_email_address_not_null;
