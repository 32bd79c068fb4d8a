"""down-fails says a rollback fails on PostgreSQL: each example's up part runs, then its down part as
its tool runs it (in a transaction, as one query, or statement by statement), and the flagged down
parts fail there while the others run."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.lint.rules import BY_ID
from rule_examples_pg import example_ids, run_as_tool

EXAMPLES = [e for e in BY_ID["down-fails"].examples if e.down_sql]


@pytest.mark.parametrize("example", EXAMPLES, ids=example_ids(EXAMPLES))
def test_postgresql_fails_the_down_parts_the_rule_flags(pg_url, example):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS orders; CREATE TABLE orders (id bigint PRIMARY KEY, placed_at timestamptz)")
        conn.execute("CREATE INDEX orders_note_idx ON orders (id)")
        run_as_tool(conn, example.sql, example)
        if example.flagged:
            with pytest.raises((psycopg.errors.SyntaxError, psycopg.errors.ActiveSqlTransaction)):
                run_as_tool(conn, example.down_sql, example)
        else:
            run_as_tool(conn, example.down_sql, example)


def test_every_case_of_the_rule_is_tried():
    assert {e.flagged for e in EXAMPLES} == {True, False} and len(EXAMPLES) >= 4
