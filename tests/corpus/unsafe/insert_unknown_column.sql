-- expect: unknown-table-or-column
-- migrate:up
INSERT INTO users (email, full_name) VALUES ('support@example.com', 'Support Team');

-- migrate:down
DELETE FROM users WHERE email = 'support@example.com';
