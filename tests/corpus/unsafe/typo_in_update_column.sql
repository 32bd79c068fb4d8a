-- expect: unknown-table-or-column
-- migrate:up
UPDATE products SET stok = 0 WHERE id = 17;

-- migrate:down
-- irreversible: the old rows or values are gone
