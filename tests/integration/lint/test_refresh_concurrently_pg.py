"""refresh-concurrently-refused says PostgreSQL refuses a statement: each of its examples with a
schema runs on PostgreSQL, and the flagged ones fail there at the REFRESH while the others run; the
view's indexes and data are read from the replayed schema, so this also proves the replay keeps them."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.lint.rules import BY_ID
from flux_agent.pg.split import split_statements

EXAMPLES = [e for e in BY_ID["refresh-concurrently-refused"].examples if e.schema_sql and "elsewhere" not in e.sql]


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{'flags' if e.flagged else 'passes'}-{k}"
                                                   for k, e in enumerate(EXAMPLES)])
def test_postgresql_refuses_what_the_rule_flags(pg_url, example):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(example.schema_sql)
        conn.execute("INSERT INTO orders VALUES (1, '2026-01-01', 10), (2, '2026-01-02', 5)")
        statements = split_statements(example.sql)
        for stmt in statements[:-1]:
            conn.execute(stmt.text)
        refresh = statements[-1].text
        assert refresh.startswith("REFRESH MATERIALIZED VIEW CONCURRENTLY")
        if example.flagged:
            refused = (psycopg.errors.ObjectNotInPrerequisiteState, psycopg.errors.FeatureNotSupported)
            with pytest.raises(refused, match="(?i)concurrently"):
                conn.execute(refresh)
        else:
            conn.execute(refresh)


def test_every_case_of_the_rule_is_tried():
    assert {e.flagged for e in EXAMPLES} == {True, False} and len(EXAMPLES) >= 4


REFRESHED = [e for e in BY_ID["unknown-table-or-column"].examples if e.sql.startswith("REFRESH")]


@pytest.mark.parametrize("example", REFRESHED, ids=[f"{'flags' if e.flagged else 'passes'}-{k}"
                                                    for k, e in enumerate(REFRESHED)])
def test_postgresql_refuses_a_refresh_of_what_is_no_materialized_view(pg_url, example):
    """unknown-table-or-column's REFRESH of a table or a plain view fails on PostgreSQL, as it says; the
    view the schema does not hold is left alone (nothing is known of it), and fails there too."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(example.schema_sql)
        refused = (psycopg.errors.WrongObjectType, psycopg.errors.FeatureNotSupported)
        with pytest.raises(refused if example.flagged else psycopg.errors.UndefinedTable):
            conn.execute(example.sql)
    assert {e.flagged for e in REFRESHED} == {True, False}
