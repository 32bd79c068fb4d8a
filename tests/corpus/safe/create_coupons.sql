-- safe: new table
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TABLE coupons (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL,
    percent_off bigint NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX coupons_code_key ON coupons (code);

-- migrate:down
DROP TABLE coupons;
