-- expect: destructive-outside-contract
-- migrate:up
TRUNCATE legacy_events;

-- migrate:down
-- irreversible: the old rows or values are gone
