-- expect: unbatched-data-change
-- migrate:up
-- drop the line items of cancelled orders
DELETE FROM order_items i
USING orders o
WHERE i.order_id = o.id AND o.status = 'cancelled';

-- migrate:down
-- irreversible: the old rows or values are gone
