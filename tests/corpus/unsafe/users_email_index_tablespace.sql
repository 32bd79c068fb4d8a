-- expect: blocking-scan
-- migrate:up
SET lock_timeout = '1s';
ALTER INDEX users_email_key SET TABLESPACE fast_disk;

-- migrate:down
ALTER INDEX users_email_key SET TABLESPACE pg_default;
