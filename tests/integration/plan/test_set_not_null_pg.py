"""set_not_null without a backfill: the plan says before the deploy that its validation fails
while a row holds NULL, and on PostgreSQL that is what happens, changing nothing; with a
backfill the same rows pass and the plan says no such thing (outline's teams.subdomain:
`flux verify` failed at the validation with nothing in the summary to warn of it)."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.verify.runner import connect, forward, sql_steps

from shop import SETTINGS, build_shop, shop_schema

pytestmark = pytest.mark.pg

WARNING = "fails, changing nothing, while a row holds NULL in note"


def _plan(**extra):
    return build_plan(parse_operations([{"op": "set_not_null", "table": "orders", "column": "note", **extra}]),
                      shop_schema(), SETTINGS)


def _validate_step(plan):
    return next(s for s in plan.steps if s.title.startswith("validate the NOT NULL check"))


def test_without_a_backfill_the_validation_says_it_fails_on_nulls_and_does(pg_url):
    plan = _plan()
    assert WARNING in _validate_step(plan).risk
    steps = sql_steps(plan)
    with connect(pg_url) as conn:
        build_shop(conn)
        nulls = conn.execute("SELECT count(*) FROM orders WHERE note IS NULL").fetchone()[0]
        assert nulls > 0  # the shop's orders hold NULL notes
        forward(conn, steps[:1])
        with pytest.raises(psycopg.errors.CheckViolation):
            forward(conn, [_validate_step(plan)])
        # Nothing changed: the check still unvalidated, the column nullable, the rows as they were.
        validated = conn.execute("SELECT convalidated FROM pg_constraint WHERE conrelid = 'orders'::regclass "
                                 "AND contype = 'c'").fetchall()
        assert validated == [(False,)]
        assert conn.execute("SELECT count(*) FROM orders WHERE note IS NULL").fetchone()[0] == nulls


def test_with_a_backfill_the_same_rows_pass_and_nothing_is_said(pg_url):
    plan = _plan(backfill="'none'")
    assert all(WARNING not in (s.risk or "") for s in plan.steps)
    with connect(pg_url) as conn:
        build_shop(conn)
        forward(conn, sql_steps(plan))
        assert conn.execute("SELECT is_nullable FROM information_schema.columns "
                            "WHERE table_name = 'orders' AND column_name = 'note'").fetchone()[0] == "NO"
