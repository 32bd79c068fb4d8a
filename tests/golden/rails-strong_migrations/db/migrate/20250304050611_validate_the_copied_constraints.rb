# Step 5 (expand): validate the copied constraints on users.email_address
class ValidateTheCopiedConstraints < ActiveRecord::Migration[7.1]
  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (expand step 5, SHARE UPDATE EXCLUSIVE lock: scans the table; reads and writes go on)
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = 0;
        ALTER TABLE users VALIDATE CONSTRAINT users_email_address_not_null;
      SQL
    end
  end

  def down
    # nothing to undo: validating changes no data
  end
end
