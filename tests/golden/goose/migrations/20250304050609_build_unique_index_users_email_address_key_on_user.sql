-- +goose NO TRANSACTION
-- +goose Up
-- Step 3 (expand): build unique index users_email_address_key on users (email_address)
-- +goose StatementBegin
DO $flux$
BEGIN
  IF EXISTS (SELECT FROM pg_index
             WHERE indexrelid = to_regclass('users_email_address_key')
               AND indrelid = to_regclass('users') AND NOT indisvalid) THEN
    SET LOCAL lock_timeout = '1s';
    DROP INDEX users_email_address_key;
    RAISE NOTICE 'flux: dropped INVALID index % (left by a failed build); building it again', 'users_email_address_key';
  END IF;
END
$flux$;
-- +goose StatementEnd
-- squawk-ignore require-lock-timeout, require-statement-timeout -- one statement per non-transactional file; it waits without blocking reads or writes
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_key ON users (email_address);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS users_email_address_key;
