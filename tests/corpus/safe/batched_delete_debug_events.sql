-- safe: one bounded batch (a LIMIT in the subquery); the migration runs it until no row is left
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
DELETE FROM legacy_events
WHERE id IN (SELECT id FROM legacy_events WHERE kind = 'debug' ORDER BY id LIMIT 1000);

-- migrate:down
-- nothing to undo: debug events are not read
