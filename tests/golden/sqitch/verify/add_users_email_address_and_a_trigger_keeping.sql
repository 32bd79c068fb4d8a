-- Verify step 1 (expand): add users.email_address and a trigger keeping it in sync with email
BEGIN;

SELECT email_address FROM users WHERE false;

ROLLBACK;
