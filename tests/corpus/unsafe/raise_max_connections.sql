-- expect: dangerous-statement
-- migrate:up transaction:false
ALTER SYSTEM SET max_connections = 500;

-- migrate:down transaction:false
ALTER SYSTEM RESET max_connections;
