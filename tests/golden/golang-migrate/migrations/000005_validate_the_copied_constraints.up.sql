-- Step 5 (expand): validate the copied constraints on users.email_address
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = 0;
ALTER TABLE users VALIDATE CONSTRAINT users_email_address_not_null;
