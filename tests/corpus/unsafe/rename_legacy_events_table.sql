-- expect: expand-contract-required, renaming-table
-- migrate:up
ALTER TABLE legacy_events RENAME TO audit_events;

-- migrate:down
ALTER TABLE audit_events RENAME TO legacy_events;
