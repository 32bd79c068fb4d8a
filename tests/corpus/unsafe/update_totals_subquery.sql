-- expect: destructive-outside-contract, unbatched-data-change
-- migrate:up
UPDATE orders SET total = (
    SELECT coalesce(sum(i.quantity * p.price), 0)
    FROM order_items i JOIN products p ON p.id = i.product_id
    WHERE i.order_id = orders.id
);

-- migrate:down
-- irreversible: the old rows or values are gone
