-- Rollback of 20250304050610_add_constraints_of_email_to_email_address_as_not_v: Prisma has no down migrations. To undo it, run
--   npx prisma db execute --schema prisma/schema.prisma --file prisma/migrations/20250304050610_add_constraints_of_email_to_email_address_as_not_v/down.sql
-- then, if the migration had failed:
--   npx prisma migrate resolve --rolled-back 20250304050610_add_constraints_of_email_to_email_address_as_not_v
-- or, if it had been applied (Prisma marks only failed migrations rolled back):
--   echo "DELETE FROM _prisma_migrations WHERE migration_name = '20250304050610_add_constraints_of_email_to_email_address_as_not_v';" | npx prisma db execute --schema prisma/schema.prisma --stdin
-- Step 4 (expand): add constraints of email to email_address as NOT VALID
SET LOCAL lock_timeout = '1s';
SET LOCAL statement_timeout = '5s';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_address_not_null;
