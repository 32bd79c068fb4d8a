-- Step 2 (backfill): copy email into email_address in batches (rename)
DO $flux$
DECLARE
  flux_last_0 users.id%TYPE;
  flux_next_0 users.id%TYPE;
  flux_stop_0 users.id%TYPE;
  flux_rows bigint;
  flux_total bigint := 0;
BEGIN
  SELECT id INTO flux_stop_0 FROM users ORDER BY id DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  LOOP
    SET LOCAL lock_timeout = '1s';
    SELECT k.id INTO flux_next_0
      FROM (SELECT id FROM users WHERE (flux_last_0 IS NULL OR id > flux_last_0) AND id <= flux_stop_0
            ORDER BY id LIMIT 5000) AS k
      ORDER BY k.id DESC LIMIT 1;
    EXIT WHEN NOT FOUND;
    UPDATE users SET email_address = email
      WHERE (flux_last_0 IS NULL OR id > flux_last_0) AND id <= flux_next_0 AND (email_address IS DISTINCT FROM email);
    GET DIAGNOSTICS flux_rows = ROW_COUNT;
    flux_total := flux_total + flux_rows;
    flux_last_0 := flux_next_0;
    COMMIT;
    RAISE NOTICE 'flux backfill %: % rows updated', 'users.email_address', flux_total;
    PERFORM pg_sleep(0.05);
  END LOOP;
END
$flux$;
