"""hoppscotch keeps (userUid, parentID, orderIndex) unique DEFERRABLE INITIALLY DEFERRED, so that moving
an item shifts the others with one UPDATE. A type change or rename of orderIndex builds the copy's
unique index, checked at once, and the shift fails from that step to the swap: the plan says so."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.model.schema import Column, Constraint, Index, Schema, Table
from flux_agent.plan.planner import build_plan

from shop import SETTINGS


def _schema(deferrable) -> Schema:
    return Schema(tables=[Table(
        name="items", primary_key=["id"],
        columns=[Column(name="id", type="bigint", nullable=False), Column(name="parent", type="bigint"),
                 Column(name="position", type="integer", nullable=False), Column(name="label", type="text")],
        indexes=[Index(name="items_pkey", columns=["id"], unique=True, primary=True),
                 Index(name="items_parent_position_key", columns=["parent", "position"], unique=True)],
        constraints=[Constraint(name="items_parent_position_key", kind="unique", columns=["parent", "position"],
                                deferrable=deferrable)])])


def _warned(op: dict, deferrable) -> list[str]:
    plan = build_plan(parse_operations([op]), _schema(deferrable), SETTINGS)
    return [f.message for f in plan.findings if f.rule == "deferrable-key-copied"]


def test_a_deferred_key_copied_is_said_for_a_type_change_and_a_rename():
    for op in ({"op": "change_column_type", "table": "items", "column": "position", "type": "bigint"},
               {"op": "rename_column", "table": "items", "column": "position", "new_name": "order_index"}):
        [said] = _warned(op, "deferred")
        assert "items_parent_position_key, DEFERRABLE INITIALLY DEFERRED" in said
        assert "UPDATE ... SET position = position + 1" in said


def test_an_immediate_key_or_another_column_is_not():
    assert _warned({"op": "change_column_type", "table": "items", "column": "position", "type": "bigint"}, None) == []
    assert _warned({"op": "rename_column", "table": "items", "column": "label", "new_name": "title"}, "deferred") == []
