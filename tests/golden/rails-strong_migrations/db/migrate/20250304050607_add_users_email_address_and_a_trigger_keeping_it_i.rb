# Step 1 (expand): add users.email_address and a trigger keeping it in sync with email
class AddUsersEmailAddressAndATriggerKeepingItI < ActiveRecord::Migration[7.1]
  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (expand step 1, ACCESS EXCLUSIVE lock: brief lock, catalog change only; writes to either column are mirrored from here on)
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        ALTER TABLE users ADD COLUMN email_address text;
        CREATE FUNCTION flux_sync_users_email() RETURNS trigger LANGUAGE plpgsql AS $flux$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            IF NEW.email_address IS NULL THEN
              NEW.email_address := new.email;
            ELSIF NEW.email_address IS DISTINCT FROM new.email THEN
              NEW.email := new.email_address;
            END IF;
          ELSIF NEW.email IS DISTINCT FROM OLD.email AND NEW.email_address IS NOT DISTINCT FROM OLD.email_address THEN
            NEW.email_address := new.email;
          ELSIF NEW.email_address IS DISTINCT FROM OLD.email_address AND NEW.email_address IS DISTINCT FROM new.email THEN
            NEW.email := new.email_address;
          END IF;
          RETURN NEW;
        END
        $flux$;
        CREATE TRIGGER flux_sync_users_email BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION flux_sync_users_email();
      SQL
    end
  end

  def down
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (rollback of step 1: drop the trigger and email_address (email still holds every value))
    # squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        DROP TRIGGER IF EXISTS flux_sync_users_email ON users;
        -- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
        DROP FUNCTION IF EXISTS flux_sync_users_email();
        ALTER TABLE users DROP COLUMN IF EXISTS email_address;
      SQL
    end
  end
end
