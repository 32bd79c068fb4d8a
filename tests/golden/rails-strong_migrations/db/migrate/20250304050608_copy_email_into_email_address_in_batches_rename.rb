# Step 2 (backfill): copy email into email_address in batches (rename)
class CopyEmailIntoEmailAddressInBatchesRename < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!

  def up
    # safety_assured: strong_migrations cannot inspect execute; flux planned this SQL (backfill step 2, ROW EXCLUSIVE lock per batch: batches sized to hold row locks ~20 ms (at most 5000 rows) with 50 ms pauses; size unknown)
    # flux-phase backfill: written by flux to rewrite these rows on purpose, in batches
    safety_assured do
      execute <<~'SQL'
        -- flux-phase backfill: written by flux to rewrite these rows on purpose, in batches
        DO $flux$
        DECLARE
          flux_last_0 users.id%TYPE;
          flux_next_0 users.id%TYPE;
          flux_stop_0 users.id%TYPE;
          flux_rows bigint;
          flux_total bigint := 0;
          flux_size integer := 500;
          flux_t timestamptz;
          flux_ms double precision;
        BEGIN
          SELECT id INTO flux_stop_0 FROM users ORDER BY id DESC LIMIT 1;
          IF NOT FOUND THEN
            RETURN;
          END IF;
          LOOP
            SET LOCAL lock_timeout = '1s';
            SELECT k.id INTO flux_next_0
              FROM (SELECT id FROM users WHERE (flux_last_0 IS NULL OR id > flux_last_0) AND id <= flux_stop_0 AND (email_address IS DISTINCT FROM email)
                    ORDER BY id LIMIT flux_size) AS k
              ORDER BY k.id DESC LIMIT 1;
            EXIT WHEN NOT FOUND;
            flux_t := clock_timestamp();
            UPDATE users SET email_address = email
              WHERE (flux_last_0 IS NULL OR id > flux_last_0) AND id <= flux_next_0 AND (email_address IS DISTINCT FROM email);
            GET DIAGNOSTICS flux_rows = ROW_COUNT;
            flux_total := flux_total + flux_rows;
            flux_last_0 := flux_next_0;
            COMMIT;
            flux_ms := extract(epoch FROM clock_timestamp() - flux_t) * 1000;
            flux_size := greatest(100, least(5000, flux_size * 2, (flux_size * 20 / greatest(flux_ms, 1))::integer));
            RAISE NOTICE 'flux backfill %: % rows updated', 'users.email_address', flux_total;
            PERFORM pg_sleep(0.05);
          END LOOP;
        END
        $flux$;
      SQL
    end
  end

  def down
    # nothing to undo: the rows keep their values
  end
end
