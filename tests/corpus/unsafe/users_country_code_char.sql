-- expect: ban-char-field
-- migrate:up
ALTER TABLE users ADD COLUMN country_code char(2);

-- migrate:down
ALTER TABLE users DROP COLUMN country_code;
