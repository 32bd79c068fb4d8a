-- safe: one row, idempotent
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
INSERT INTO users (email, name) VALUES ('support@example.com', 'Support') ON CONFLICT DO NOTHING;

-- migrate:down
DELETE FROM users WHERE email = 'support@example.com';
