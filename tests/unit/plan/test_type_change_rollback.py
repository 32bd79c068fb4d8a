"""A type change's rollback says when the way back can fail: maybe-finance's postal code from
integer to text rolled back "data loss: no", though a non-numeric value written meanwhile makes
the cast back to integer fail."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan

from shop import SETTINGS, shop_schema


def _contract_rollback(column: str, new_type: str, table: str = "orders") -> str:
    plan = build_plan(parse_operations([{"op": "change_column_type", "table": table, "column": column,
                                         "type": new_type}]), shop_schema(), SETTINGS)
    return [s for s in plan.steps if s.phase == "contract"][-1].rollback


def test_a_rollback_to_a_type_that_holds_less_says_it_can_fail():
    assert "fails if a value written since does not fit numeric(10,2)" in _contract_rollback("total", "text")
    assert "fails if" not in _contract_rollback("name", "varchar(50)", table="users")  # back to text: all fit
