-- +goose Up
-- Step 8 (contract): drop users.email and the sync trigger
-- flux-phase contract: written by flux to run after the code deploy before it; what it removes is no longer used, what it forbids no longer written
SET LOCAL lock_timeout = '30ms';
SET LOCAL statement_timeout = '128s';
-- flux: retried on a lock timeout: 30 tries of at most 30 ms each, 100 ms to 5000 ms apart
-- +goose StatementBegin
DO $flux_retry$
#variable_conflict use_column
DECLARE
  flux_try integer := 1;
  flux_pause double precision;
BEGIN
  LOOP
    BEGIN
DROP TRIGGER IF EXISTS flux_sync_users_email ON users;
-- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it
DROP FUNCTION IF EXISTS flux_sync_users_email();
-- squawk-ignore ban-drop-column -- the application stopped using email in the code step
ALTER TABLE users DROP COLUMN email;
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
-- +goose StatementEnd

-- +goose Down
SET LOCAL lock_timeout = '30ms';
SET LOCAL statement_timeout = 0;
-- flux: retried on a lock timeout: 30 tries of at most 30 ms each, 100 ms to 5000 ms apart
-- +goose StatementBegin
DO $flux_retry$
#variable_conflict use_column
DECLARE
  flux_try integer := 1;
  flux_pause double precision;
BEGIN
  LOOP
    BEGIN
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
-- +goose StatementEnd
