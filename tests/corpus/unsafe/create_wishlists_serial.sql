-- expect: prefer-identity
-- migrate:up
CREATE TABLE wishlists (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE wishlists;
