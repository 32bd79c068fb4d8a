-- expect: destructive-outside-contract
-- migrate:up
-- clean out the old event log before the new pipeline starts
DELETE FROM legacy_events;

-- migrate:down
-- irreversible: the old rows or values are gone
