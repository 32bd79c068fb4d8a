-- expect: unbatched-data-change
-- migrate:up
UPDATE users SET email = lower(email) WHERE email <> lower(email);

-- migrate:down
-- irreversible: the old rows or values are gone
