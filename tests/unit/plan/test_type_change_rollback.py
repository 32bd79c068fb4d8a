"""A type change's rollback says when the way back can fail: maybe-finance's postal code from
integer to text rolled back "data loss: no", though a non-numeric value written meanwhile makes
the cast back to integer fail."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.model.schema import EnumType
from flux_agent.plan.planner import build_plan

from shop import SETTINGS, shop_schema


def _contract_rollback(column: str, new_type: str, table: str = "orders") -> str:
    plan = build_plan(parse_operations([{"op": "change_column_type", "table": table, "column": column,
                                         "type": new_type}]), shop_schema(), SETTINGS)
    return [s for s in plan.steps if s.phase == "contract"][-1].rollback


def test_a_rollback_to_a_type_that_holds_less_says_it_can_fail():
    assert "fails if a value written since does not fit numeric(10,2)" in _contract_rollback("total", "text")
    assert "fails if" not in _contract_rollback("name", "varchar(50)", table="users")  # back to text: all fit


def _contract(column: str, new_type: str, table: str = "orders", schema=None):
    plan = build_plan(parse_operations([{"op": "change_column_type", "table": table, "column": column,
                                         "type": new_type}]), schema or shop_schema(), SETTINGS)
    return [s for s in plan.steps if not s.is_code][-1]  # the swap, or the one step of a catalog-only change


def test_text_cast_to_another_type_comes_back_respelled_and_says_so():
    """'007' cast to integer comes back '7', a time in the session's DateStyle: the way back keeps the
    value, not the text as written, which "data loss: no" denied."""
    for new in ("integer", "timestamptz", "uuid", "jsonb", "boolean"):
        step = _contract("note", new)
        assert step.data_loss_on_rollback and "not as it was written ('007' as '7')" in step.rollback, new
    # text to text, and a number to text, come back as they were
    assert not _contract("note", "text").data_loss_on_rollback
    assert not _contract("total", "text").data_loss_on_rollback


def test_text_cast_to_an_enum_comes_back_as_written():
    schema = shop_schema()
    schema.enums.append(EnumType(name="order_state", values=["pending", "paid"]))
    step = _contract("status", "order_state", schema=schema)
    assert not step.data_loss_on_rollback and "as it was written" not in step.rollback
