-- Step 3 (expand): build unique index users_email_address_key on users (email_address)
-- squawk-ignore require-concurrent-index-deletion -- drops only an INVALID index a failed build left; a concurrent drop cannot run inside DO, and the lock is asked for with lock_timeout and retries
DO $flux$
DECLARE
  flux_try integer := 1;
  flux_pause double precision;
BEGIN
  IF EXISTS (SELECT FROM pg_index
             WHERE indexrelid = to_regclass('users_email_address_key')
               AND indrelid = to_regclass('users') AND NOT indisvalid) THEN
    LOOP
      BEGIN
        SET LOCAL lock_timeout = '30ms';
        SET LOCAL statement_timeout = '5s';
        DROP INDEX users_email_address_key;
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        IF flux_try >= 30 THEN
          RAISE EXCEPTION 'flux: locks not granted in % tries of 30 ms; the INVALID index is still there: run this migration again when the tables are quieter (pg_stat_activity shows who holds them)', flux_try
            USING ERRCODE = 'lock_not_available';
        END IF;
        flux_pause := least(5000, 100 * 2 ^ (flux_try - 1)) * (0.5 + random() / 2);
        RAISE NOTICE 'flux: locks not granted within 30 ms (try % of 30); trying again in % ms', flux_try, round(flux_pause);
        PERFORM pg_sleep(flux_pause / 1000);
        flux_try := flux_try + 1;
      END;
    END LOOP;
    RAISE NOTICE 'flux: dropped INVALID index % (left by a failed build); building it again', 'users_email_address_key';
  END IF;
END
$flux$;
-- squawk-ignore require-lock-timeout, require-statement-timeout -- one statement per non-transactional file; it waits without blocking reads or writes
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_key ON users (email_address);
