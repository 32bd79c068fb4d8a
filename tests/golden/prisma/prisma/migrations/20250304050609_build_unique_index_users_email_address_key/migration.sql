-- Step 3 (expand): build unique index users_email_address_key on users (email_address)
-- squawk-ignore require-lock-timeout, require-statement-timeout -- one statement per non-transactional file; it waits without blocking reads or writes
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_key ON users (email_address);
