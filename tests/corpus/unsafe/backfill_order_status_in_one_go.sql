-- expect: unbatched-data-change
-- migrate:up
UPDATE orders SET status = 'paid' WHERE status = 'settled';

-- migrate:down
UPDATE orders SET status = 'settled' WHERE status = 'paid';
