-- expect: unbatched-data-change
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TABLE legacy_events_archive (
    id bigint PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb
);
WITH moved AS (
    DELETE FROM legacy_events WHERE kind = 'page_view' RETURNING id, kind, payload
)
INSERT INTO legacy_events_archive (id, kind, payload) SELECT id, kind, payload FROM moved;

-- migrate:down
DROP TABLE legacy_events_archive;
