-- expect: dangerous-statement
-- migrate:up
DROP SCHEMA reporting CASCADE;

-- migrate:down
CREATE SCHEMA reporting;
