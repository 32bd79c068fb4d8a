# Step 5 (expand): validate the copied constraints on users.email_address
class ValidateTheCopiedConstraints < ActiveRecord::Migration[7.1]
  def up
    execute <<~'SQL'
      SET LOCAL lock_timeout = '1s';
      SET LOCAL statement_timeout = 0;
      ALTER TABLE users VALIDATE CONSTRAINT users_email_address_not_null;
    SQL
  end

  def down
    # nothing to undo: validating changes no data
  end
end
