# Step 8 (contract): drop users.email and the sync trigger
class DropUsersEmailAndTheSyncTrigger < ActiveRecord::Migration[7.1]
  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (contract step 8, ACCESS EXCLUSIVE lock: brief lock, catalog change only)
    # flux-phase contract: written by flux to run after the code deploy before it; what it removes is no longer used
    # squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
    # squawk-ignore ban-drop-column -- the application stopped using email in the code step
    safety_assured do
      execute <<~'SQL'
        -- flux-phase contract: written by flux to run after the code deploy before it; what it removes is no longer used
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = '5s';
        DROP TRIGGER IF EXISTS flux_sync_users_email ON users;
        -- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
        DROP FUNCTION IF EXISTS flux_sync_users_email();
        -- squawk-ignore ban-drop-column -- the application stopped using email in the code step
        ALTER TABLE users DROP COLUMN email;
      SQL
    end
  end

  def down
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (rollback of step 8: re-create email from email_address (rewrites the table under lock))
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '1s';
        SET LOCAL statement_timeout = 0;
        ALTER TABLE users ADD COLUMN email text;
        UPDATE users SET email = email_address;
        ALTER TABLE users ALTER COLUMN email SET NOT NULL;
        CREATE UNIQUE INDEX users_email_key ON users (email);
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
end
