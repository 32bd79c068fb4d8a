-- expect: ban-truncate-cascade, destructive-outside-contract
-- migrate:up
TRUNCATE orders CASCADE;

-- migrate:down
-- irreversible: the old rows or values are gone
