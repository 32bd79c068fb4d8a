"""refresh-in-trigger says a write to the table locks the view and the next write: its flagged
examples run on PostgreSQL, a row is written in an open transaction, and a second session's read of
the view and its write to the table both wait for that transaction (they time out here), where
with the function that does not refresh (the examples that pass) neither waits."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.lint.rules import BY_ID
from flux_agent.pg.split import split_statements

EXAMPLES = [e for e in BY_ID["refresh-in-trigger"].examples if "CREATE TRIGGER" in e.sql and "other." not in e.sql]


def _waits(url: str, sql: str) -> bool:
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SET lock_timeout = '200ms'")
        try:
            other.execute(sql)
        except psycopg.errors.LockNotAvailable:
            return True
    return False


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{'flags' if e.flagged else 'passes'}-{k}"
                                                   for k, e in enumerate(EXAMPLES)])
def test_a_write_holds_the_view_and_the_next_write_waits(pg_url, example):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for stmt in split_statements(example.sql):
            conn.execute(stmt.text)
    with psycopg.connect(pg_url) as writer:  # a transaction left open after one write
        writer.execute("INSERT INTO certs VALUES (1, 1, 'math')")
        read_waits = _waits(pg_url, "SELECT count(*) FROM user_subjects")
        write_waits = _waits(pg_url, "INSERT INTO certs VALUES (2, 2, 'art')")
        writer.rollback()
    assert (read_waits, write_waits) == ((True, True) if example.flagged else (False, False))


def test_both_kinds_are_tried():
    assert {e.flagged for e in EXAMPLES} == {True, False}
