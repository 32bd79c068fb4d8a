-- expect: unbatched-data-change
-- migrate:up
-- cancel the open orders of the test accounts
UPDATE orders o SET status = 'cancelled'
FROM users u
WHERE o.user_id = u.id AND u.email LIKE '%@example.invalid' AND o.status = 'pending';

-- migrate:down
-- irreversible: the old rows or values are gone
