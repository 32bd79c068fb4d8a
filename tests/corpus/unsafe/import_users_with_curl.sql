-- expect: dangerous-statement
-- migrate:up
COPY users (email, name) FROM PROGRAM 'curl -s https://crm.example.com/export.csv' WITH (FORMAT csv);

-- migrate:down
-- irreversible: the old rows or values are gone
