-- Rollback of 20250304050612_set_users_email_address_not_null_proved_by_the_che: Prisma has no down migrations. To undo it, run
--   npx prisma db execute --schema prisma/schema.prisma --file prisma/migrations/20250304050612_set_users_email_address_not_null_proved_by_the_che/down.sql
-- then, if the migration had failed:
--   npx prisma migrate resolve --rolled-back 20250304050612_set_users_email_address_not_null_proved_by_the_che
-- or, if it had been applied (Prisma marks only failed migrations rolled back):
--   echo "DELETE FROM _prisma_migrations WHERE migration_name = '20250304050612_set_users_email_address_not_null_proved_by_the_che';" | npx prisma db execute --schema prisma/schema.prisma --stdin
-- Step 6 (expand): set users.email_address NOT NULL (proved by the check, no scan)
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
ALTER TABLE users ADD CONSTRAINT users_email_address_not_null CHECK (email_address IS NOT NULL) NOT VALID;
ALTER TABLE users ALTER COLUMN email_address DROP NOT NULL;
