-- safe: backfill committed per batch in a DO block
-- migrate:up transaction:false
DO $$
DECLARE
  last_id bigint := 0;
  next_id bigint;
BEGIN
  LOOP
    SELECT max(id) INTO next_id FROM (SELECT id FROM orders WHERE id > last_id ORDER BY id LIMIT 5000) AS batch;
    EXIT WHEN next_id IS NULL;
    UPDATE orders SET status = lower(status) WHERE id > last_id AND id <= next_id;
    last_id := next_id;
    COMMIT;
  END LOOP;
END
$$;

-- migrate:down transaction:false
-- nothing to undo: lower-case statuses read the same
