-- expect: missing-rollback
-- migrate:up
CREATE TABLE coupons (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL,
    percent_off integer NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
    expires_at timestamptz
);

-- migrate:down
