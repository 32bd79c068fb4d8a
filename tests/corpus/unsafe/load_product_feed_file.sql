-- expect: dangerous-statement
-- migrate:up
INSERT INTO legacy_events (kind, payload)
SELECT 'product_feed', pg_read_file('/var/lib/feeds/products.json')::jsonb;

-- migrate:down
DELETE FROM legacy_events WHERE kind = 'product_feed';
