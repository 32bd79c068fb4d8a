"""A narrowing type change of a column with a default: the rows hold what was written, the default
says what will be. polar's customers.short_id (bigint, DEFAULT generate_customer_short_id(), ids like
127105199913998) planned to integer: every insert relying on the default failed in the sync trigger
from step 1, and the warning spoke of the rows alone."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql

from shop import SETTINGS

DDL = ("CREATE FUNCTION short_id() RETURNS bigint LANGUAGE sql AS $$ SELECT 127105199913998 $$;"
       "CREATE TABLE customers (id bigint PRIMARY KEY, short_id bigint NOT NULL DEFAULT short_id(), n bigint);")


def _said(column: str) -> list[str]:
    plan = build_plan(parse_operations([{"op": "change_column_type", "table": "customers", "column": column,
                                         "type": "integer"}]), replay_sql(DDL), SETTINGS)
    return [f.message for f in plan.findings if f.rule == "narrowing-type"]


def test_the_default_of_a_narrowed_column_is_named_with_the_rows():
    [said] = _said("short_id")
    assert "SELECT count(*) FROM customers WHERE" in said
    assert "Its default (short_id()) must give values that fit too" in said
    [plain] = _said("n")
    assert "default" not in plain
