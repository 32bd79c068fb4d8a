-- expect: destructive-outside-contract, unbatched-data-change
-- migrate:up
UPDATE orders SET status = 'pending';

-- migrate:down
-- irreversible: the old rows or values are gone
