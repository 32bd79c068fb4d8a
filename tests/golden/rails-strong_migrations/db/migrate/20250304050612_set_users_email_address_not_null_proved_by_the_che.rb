# Step 6 (expand): set users.email_address NOT NULL (proved by the check, no scan)
class SetUsersEmailAddressNotNullProvedByTheChe < ActiveRecord::Migration[7.1]
  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (expand step 6, ACCESS EXCLUSIVE lock: brief lock, catalog change only)
    # squawk-ignore adding-not-nullable-field -- a validated CHECK (col IS NOT NULL) proves it, no scan
    # squawk-ignore ban-drop-constraint -- the column's NOT NULL now carries this guarantee
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        -- squawk-ignore adding-not-nullable-field -- a validated CHECK (col IS NOT NULL) proves it, no scan
        ALTER TABLE users ALTER COLUMN email_address SET NOT NULL;
        -- squawk-ignore ban-drop-constraint -- the column's NOT NULL now carries this guarantee
        ALTER TABLE users DROP CONSTRAINT users_email_address_not_null;
      SQL
    end
  end

  def down
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (rollback of step 6: allow NULL in email_address again)
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        ALTER TABLE users ADD CONSTRAINT users_email_address_not_null CHECK (email_address IS NOT NULL) NOT VALID;
        ALTER TABLE users ALTER COLUMN email_address DROP NOT NULL;
      SQL
    end
  end
end
