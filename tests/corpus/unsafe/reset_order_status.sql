-- expect: destructive-outside-contract, unbatched-update
-- migrate:up
UPDATE orders SET status = 'pending';

-- migrate:down
-- irreversible: the old rows or values are gone
