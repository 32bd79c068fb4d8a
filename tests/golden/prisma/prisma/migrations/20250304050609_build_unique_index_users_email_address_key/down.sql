-- Rollback of 20250304050609_build_unique_index_users_email_address_key: Prisma has no down migrations. To undo it, run
--   npx prisma db execute --schema prisma/schema.prisma --file prisma/migrations/20250304050609_build_unique_index_users_email_address_key/down.sql
-- then, if the migration had failed:
--   npx prisma migrate resolve --rolled-back 20250304050609_build_unique_index_users_email_address_key
-- or, if it had been applied (Prisma marks only failed migrations rolled back):
--   echo "DELETE FROM _prisma_migrations WHERE migration_name = '20250304050609_build_unique_index_users_email_address_key';" | npx prisma db execute --schema prisma/schema.prisma --stdin
-- Step 3 (expand): build unique index users_email_address_key on users (email_address)
DROP INDEX CONCURRENTLY IF EXISTS users_email_address_key;
