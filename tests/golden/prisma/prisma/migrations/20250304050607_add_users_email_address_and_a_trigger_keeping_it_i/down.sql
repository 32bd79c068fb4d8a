-- Rollback of 20250304050607_add_users_email_address_and_a_trigger_keeping_it_i: Prisma has no down migrations. To undo it, run
--   npx prisma db execute --schema prisma/schema.prisma --file prisma/migrations/20250304050607_add_users_email_address_and_a_trigger_keeping_it_i/down.sql
-- then, if the migration had failed:
--   npx prisma migrate resolve --rolled-back 20250304050607_add_users_email_address_and_a_trigger_keeping_it_i
-- or, if it had been applied (Prisma marks only failed migrations rolled back):
--   echo "DELETE FROM _prisma_migrations WHERE migration_name = '20250304050607_add_users_email_address_and_a_trigger_keeping_it_i';" | npx prisma db execute --schema prisma/schema.prisma --stdin
-- Step 1 (expand): add users.email_address and a trigger keeping it in sync with email
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
DROP TRIGGER IF EXISTS flux_sync_users_email ON users;
-- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
DROP FUNCTION IF EXISTS flux_sync_users_email();
ALTER TABLE users DROP COLUMN IF EXISTS email_address;
