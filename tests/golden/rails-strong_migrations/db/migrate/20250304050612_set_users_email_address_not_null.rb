# Step 6 (expand): set users.email_address NOT NULL (proved by the check, no scan)
class SetUsersEmailAddressNotNull < ActiveRecord::Migration[7.1]
  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (expand step 6, ACCESS EXCLUSIVE lock: brief lock, catalog change only)
    # squawk-ignore adding-not-nullable-field -- a validated CHECK (col IS NOT NULL) proves it, no scan
    # squawk-ignore ban-drop-constraint -- the column's NOT NULL now carries this guarantee
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '30ms';
        SET LOCAL statement_timeout = '128s';
        -- flux: retried on a lock timeout: 30 tries of at most 30 ms each, 100 ms to 5000 ms apart
        DO $flux_retry$
        #variable_conflict use_column
        DECLARE
          flux_try integer := 1;
          flux_pause double precision;
        BEGIN
          LOOP
            BEGIN
        -- squawk-ignore adding-not-nullable-field -- a validated CHECK (col IS NOT NULL) proves it, no scan
        ALTER TABLE users ALTER COLUMN email_address SET NOT NULL;
        -- squawk-ignore ban-drop-constraint -- the column's NOT NULL now carries this guarantee
        ALTER TABLE users DROP CONSTRAINT users_email_address_not_null;
              EXIT;
            EXCEPTION WHEN lock_not_available THEN
              IF flux_try >= 30 THEN
                RAISE EXCEPTION 'flux: locks not granted in % tries of 30 ms; nothing was changed: run this migration again when the tables are quieter (pg_stat_activity shows who holds them)', flux_try
                  USING ERRCODE = 'lock_not_available';
              END IF;
              flux_pause := least(5000, 100 * 2 ^ (flux_try - 1)) * (0.5 + random() / 2);
              RAISE NOTICE 'flux: locks not granted within 30 ms (try % of 30); trying again in % ms', flux_try, round(flux_pause);
              PERFORM pg_sleep(flux_pause / 1000);
              flux_try := flux_try + 1;
            END;
          END LOOP;
        END
        $flux_retry$;
      SQL
    end
  end

  def down
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (rollback of step 6: allow NULL in email_address again)
    safety_assured do
      execute <<~'SQL'
        SET LOCAL lock_timeout = '30ms';
        SET LOCAL statement_timeout = '128s';
        -- flux: retried on a lock timeout: 30 tries of at most 30 ms each, 100 ms to 5000 ms apart
        DO $flux_retry$
        #variable_conflict use_column
        DECLARE
          flux_try integer := 1;
          flux_pause double precision;
        BEGIN
          LOOP
            BEGIN
        ALTER TABLE users ADD CONSTRAINT users_email_address_not_null CHECK (email_address IS NOT NULL) NOT VALID;
        ALTER TABLE users ALTER COLUMN email_address DROP NOT NULL;
              EXIT;
            EXCEPTION WHEN lock_not_available THEN
              IF flux_try >= 30 THEN
                RAISE EXCEPTION 'flux: locks not granted in % tries of 30 ms; nothing was changed: run this migration again when the tables are quieter (pg_stat_activity shows who holds them)', flux_try
                  USING ERRCODE = 'lock_not_available';
              END IF;
              flux_pause := least(5000, 100 * 2 ^ (flux_try - 1)) * (0.5 + random() / 2);
              RAISE NOTICE 'flux: locks not granted within 30 ms (try % of 30); trying again in % ms', flux_try, round(flux_pause);
              PERFORM pg_sleep(flux_pause / 1000);
              flux_try := flux_try + 1;
            END;
          END LOOP;
        END
        $flux_retry$;
      SQL
    end
  end
end
