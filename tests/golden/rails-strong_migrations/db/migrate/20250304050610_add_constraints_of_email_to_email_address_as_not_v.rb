# Step 4 (expand): add constraints of email to email_address as NOT VALID
class AddConstraintsOfEmailToEmailAddressAsNotV < ActiveRecord::Migration[7.1]
  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (expand step 4, ACCESS EXCLUSIVE lock: brief lock, no scan)
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        ALTER TABLE users ADD CONSTRAINT users_email_address_not_null CHECK (email_address IS NOT NULL) NOT VALID;
      SQL
    end
  end

  def down
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (rollback of step 4: drop the copied constraints)
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_address_not_null;
      SQL
    end
  end
end
