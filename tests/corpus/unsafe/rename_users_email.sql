-- expect: expand-contract-required, renaming-column
-- migrate:up
ALTER TABLE users RENAME COLUMN email TO email_address;

-- migrate:down
ALTER TABLE users RENAME COLUMN email_address TO email;
