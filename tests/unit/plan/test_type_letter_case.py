"""A type of the schema named in other letter case (Sequelize's enum_<Table>_<column> of a
capitalised table, written unquoted as a person types it): the schema's one type of that name is
meant, as tables are matched, and every step writes it quoted as PostgreSQL has it."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column, EnumType, Schema, Table
from flux_agent.model.settings import Settings
from flux_agent.pg.types import check_type_known
from flux_agent.plan.planner import build_plan


def _schema(*enums: str) -> Schema:
    return Schema(tables=[Table(name="Items", columns=[Column(name="id", type="bigint", nullable=False)])],
                  enums=[EnumType(name=e, values=["a", "b"]) for e in enums])


def test_an_unquoted_type_finds_the_schemas_type_in_other_case():
    known = {"enum_Items_state"}
    assert check_type_known("enum_Items_state", known) == '"enum_Items_state"'
    assert check_type_known("ENUM_items_state[]", known) == '"enum_Items_state"[]'
    assert check_type_known('"enum_Items_state"', known) == '"enum_Items_state"'
    with pytest.raises(FluxInputError, match="unknown type"):  # two in other cases: which is meant is not known
        check_type_known("enum_items_state", {"enum_Items_state", "Enum_Items_State"})
    with pytest.raises(FluxInputError, match="unknown type"):  # quoted, the case is the user's
        check_type_known('"Enum_items_state"', known)


@pytest.mark.parametrize("op", [
    {"op": "add_column", "table": "Items", "column": "state2", "type": "enum_Items_state"},
    {"op": "add_column", "table": "Items", "column": "state2", "type": "enum_items_state"},
    {"op": "create_table", "table": "things", "columns": [{"name": "id", "type": "bigint", "primary_key": True},
                                                          {"name": "s", "type": "enum_Items_state"}]},
])
def test_the_steps_write_the_type_as_postgresql_has_it(op):
    plan = build_plan(parse_operations([op]), _schema("enum_Items_state"), Settings(), tool="sql")
    sql = "\n".join(s.up_sql or "" for s in plan.steps)
    assert '"enum_Items_state"' in sql and "enum_items_state" not in sql
    assert '"enum_Items_state"' in str(plan.operations[0].model_dump())  # the probe and the writers read these


def test_the_parser_reads_the_type_as_a_person_types_it():
    from flux_agent.nl.parser import parse_request

    (op,) = parse_request("add column state2 enum_Items_state to Items", _schema("enum_Items_state"))
    assert op.type == '"enum_Items_state"'
