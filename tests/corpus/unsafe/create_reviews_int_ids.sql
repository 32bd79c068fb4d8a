-- expect: prefer-bigint-over-int
-- migrate:up
CREATE TABLE reviews (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id),
    rating integer NOT NULL,
    body text
);

-- migrate:down
DROP TABLE reviews;
