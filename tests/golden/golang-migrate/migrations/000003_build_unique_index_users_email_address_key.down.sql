-- Step 3 (expand): build unique index users_email_address_key on users (email_address)
DROP INDEX CONCURRENTLY IF EXISTS users_email_address_key;
