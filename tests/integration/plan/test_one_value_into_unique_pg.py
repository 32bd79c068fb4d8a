"""A backfill writing one value into every row of a column a unique index covers alone: the
plan says before the deploy that it fails at the second row, and on PostgreSQL it does; a value
that differs per row, a volatile one, NULL, or a column no unique index covers alone draws no
such word, and the per-row value runs (outline's teams.subdomain backfilled with 'x': only
`flux verify` caught it)."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.verify.runner import connect, forward, sql_steps

from shop import SETTINGS, build_shop, shop_schema

WARNING = "fails at its second row with a duplicate key"


def _backfill_risk(op: dict) -> str:
    plan = build_plan(parse_operations([op]), shop_schema(), SETTINGS)
    return next(s.risk for s in plan.steps if s.phase == "backfill")


def _backfill(column: str, value: str) -> dict:
    return {"op": "backfill", "table": "users", "column": column, "value": value}


def test_the_plan_says_which_values_clash():
    risk = _backfill_risk(_backfill("email", "'x@example.com'"))
    assert WARNING in risk and "users_email_key" in risk
    assert WARNING in _backfill_risk(_backfill("email", "lower('X')"))  # one value, however it is spelled
    for column, value in [("email", "'u' || id || '@example.com'"), ("email", "gen_random_uuid()::text"),
                          ("email", "NULL"), ("name", "'x'")]:
        assert WARNING not in _backfill_risk(_backfill(column, value)), (column, value)


def test_a_set_not_null_backfill_says_it_too():
    schema = shop_schema()
    users = schema.table("users")
    users.column("name").nullable = True
    users.indexes.append(users.indexes[0].model_copy(update={"name": "users_name_key", "columns": ["name"],
                                                             "primary": False}))
    plan = build_plan(parse_operations([{"op": "set_not_null", "table": "users", "column": "name",
                                         "backfill": "'anonymous'"}]), schema, SETTINGS)
    assert WARNING in next(s.risk for s in plan.steps if s.phase == "backfill")


@pytest.mark.pg
def test_on_postgresql_the_one_value_fails_and_the_per_row_value_runs(pg_url):
    clash = build_plan(parse_operations([_backfill("email", "'x@example.com'")]), shop_schema(), SETTINGS)
    per_row = build_plan(parse_operations([_backfill("email", "'u' || id || '@example.com'")]), shop_schema(),
                         SETTINGS)
    with connect(pg_url) as conn:
        build_shop(conn)
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 1
        before = conn.execute("SELECT id, email FROM users ORDER BY id").fetchall()
        with pytest.raises(psycopg.errors.UniqueViolation):
            forward(conn, sql_steps(clash))
        assert conn.execute("SELECT id, email FROM users ORDER BY id").fetchall() == before
        forward(conn, sql_steps(per_row))
        assert all(email == f"u{i}@example.com" for i, email in conn.execute("SELECT id, email FROM users"))
