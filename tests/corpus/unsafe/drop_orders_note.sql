-- expect: expand-contract-required, destructive-outside-contract, ban-drop-column
-- migrate:up
ALTER TABLE orders DROP COLUMN note;

-- migrate:down
ALTER TABLE orders ADD COLUMN note varchar(200);
