-- safe: new table referencing orders
-- migrate:up
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE TABLE order_notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_notes_order_id_idx ON order_notes (order_id);

-- migrate:down
DROP TABLE order_notes;
