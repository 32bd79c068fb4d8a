-- expect: dangerous-statement
-- migrate:up
CREATE EXTENSION IF NOT EXISTS dblink;
INSERT INTO users (email, name)
SELECT email, name FROM dblink('host=crm.internal dbname=crm', 'SELECT email, name FROM contacts')
    AS t(email text, name text);

-- migrate:down
DROP EXTENSION IF EXISTS dblink;
