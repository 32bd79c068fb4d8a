-- safe: an UPDATE pinned to one primary key
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
UPDATE products SET title = 'Espresso Machine (2nd gen)' WHERE id = 17;

-- migrate:down
UPDATE products SET title = 'Espresso Machine' WHERE id = 17;
