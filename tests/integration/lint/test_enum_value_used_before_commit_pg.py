"""enum-value-used-before-commit says PostgreSQL refuses a migration: each of its examples runs on
PostgreSQL as its tool would run it (in one transaction, one query, or statement by statement in
autocommit), and the flagged ones fail there with "unsafe use of new value" while the others run."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.lint.rules import BY_ID
from rule_examples_pg import example_ids, run_as_tool

EXAMPLES = list(BY_ID["enum-value-used-before-commit"].examples)


@pytest.mark.parametrize("example", EXAMPLES, ids=example_ids(EXAMPLES))
def test_postgresql_refuses_what_the_rule_flags(pg_url, example):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS notes; DROP TYPE IF EXISTS mood")
        conn.execute(example.schema_sql)
        if example.flagged:
            with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage, match="unsafe use of new value"):
                run_as_tool(conn, example.sql, example)
        else:
            run_as_tool(conn, example.sql, example)


def test_every_case_of_the_rule_is_tried():
    assert {e.flagged for e in EXAMPLES} == {True, False} and len(EXAMPLES) >= 6
    assert {(e.transactional, e.one_query) for e in EXAMPLES if e.flagged} >= {(True, False), (False, True),
                                                                                (False, False)}
