# Step 2 (backfill): copy email into email_address in batches (rename)
class CopyEmailIntoEmailAddressInBatchesRename < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!

  def up
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
        flux_pause double precision := 10;
        flux_waiters integer;
        flux_lag numeric;
        flux_lsn pg_lsn;
        flux_why text;
      BEGIN
        SELECT id INTO flux_stop_0 FROM users ORDER BY id DESC LIMIT 1;
        IF NOT FOUND THEN
          RETURN;
        END IF;
        SELECT id INTO flux_next_0 FROM users WHERE (email_address IS DISTINCT FROM email) ORDER BY id LIMIT 1;
        IF NOT FOUND THEN
          RETURN;
        END IF;
        SELECT id INTO flux_last_0 FROM users WHERE id < flux_next_0 ORDER BY id DESC LIMIT 1;
        LOOP
          SET LOCAL lock_timeout = '1s';
          SET LOCAL backend_flush_after = '256kB';
          SELECT k.id INTO flux_next_0
            FROM (SELECT id FROM users WHERE (flux_last_0 IS NULL OR id > flux_last_0) AND id <= flux_stop_0
                  ORDER BY id LIMIT flux_size) AS k
            ORDER BY k.id DESC LIMIT 1;
          EXIT WHEN NOT FOUND;
          flux_t := clock_timestamp();
          flux_lsn := pg_current_wal_lsn();
          UPDATE users SET email_address = email
            WHERE (flux_last_0 IS NULL OR id > flux_last_0) AND id <= flux_next_0 AND (email_address IS DISTINCT FROM email);
          GET DIAGNOSTICS flux_rows = ROW_COUNT;
          flux_total := flux_total + flux_rows;
          flux_last_0 := flux_next_0;
          SELECT count(DISTINCT pid) INTO flux_waiters FROM pg_locks
            WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid));
          COMMIT;
          flux_ms := extract(epoch FROM clock_timestamp() - flux_t) * 1000;
          flux_size := greatest(100, least(5000, flux_size * 2, (flux_size * 20 / greatest(flux_ms, 1))::integer));
          RAISE NOTICE 'flux backfill %: % rows updated', 'users.email_address', flux_total;
          flux_why := NULL;
          IF flux_ms > 100 THEN
            flux_why := format('batch took %s ms over %s', round(flux_ms::numeric), 100);
          END IF;
          SELECT max(pg_wal_lsn_diff(flux_lsn, coalesce(replay_lsn, flush_lsn)))
            INTO flux_lag FROM pg_stat_replication;
          IF flux_lag > 16777216 THEN
            flux_why := concat_ws('; ', flux_why, format('replica lag %s over %s', pg_size_pretty(flux_lag), pg_size_pretty(16777216::numeric)));
          END IF;
          IF flux_waiters > 0 THEN
            flux_why := concat_ws('; ', flux_why, format('%s session(s) waiting on its locks', flux_waiters));
            flux_size := greatest(100, flux_size / 2);
          END IF;
          IF flux_why IS NOT NULL THEN
            flux_pause := least(greatest(flux_pause * 2, 10), 2000,
              greatest(10, flux_size * 1000.0 / 200 - flux_ms));
            RAISE NOTICE 'flux backfill %: throttled (%): next batch % rows after % ms', 'users.email_address', flux_why, flux_size, round(flux_pause::numeric);
          ELSIF flux_pause > 10 THEN
            flux_pause := flux_pause / 2;
            IF flux_pause < 10 + 5 THEN
              flux_pause := 10;
              RAISE NOTICE 'flux backfill %: back to pace (% ms pauses)', 'users.email_address', 10;
            END IF;
          END IF;
          PERFORM pg_sleep(flux_pause / 1000);
        END LOOP;
      END
      $flux$;
    SQL
  end

  def down
    # nothing to undo: the rows keep their values
  end
end
