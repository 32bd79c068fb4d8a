-- expect: dangerous-statement, ban-drop-database
-- migrate:up transaction:false
DROP DATABASE IF EXISTS shop_staging;

-- migrate:down transaction:false
-- irreversible: the old rows or values are gone
