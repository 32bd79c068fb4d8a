"""Plan descriptions (planner.describe) read as sentences: one wording per operation
type, naming what it acts on the way a person would ("add unique constraint on
products.sku"), never the op's identifier with its underscores. The plan's title as `flux plan`
prints it: tests/integration/entry/test_cli.py."""

from __future__ import annotations

import typing

import pytest
from pydantic import TypeAdapter

from flux_agent.model.operations import Operation
from flux_agent.plan.ops import OPS as MODULES
from flux_agent.plan.planner import describe

OPS = TypeAdapter(Operation)

EXPECTED = [
    ({"op": "add_column", "table": "users", "column": "nickname", "type": "text"}, "add column users.nickname text"),
    ({"op": "add_column", "table": "users", "column": "active", "type": "boolean", "nullable": False,
      "default": "true"}, "add column users.active boolean NOT NULL"),
    ({"op": "drop_column", "table": "users", "column": "name"}, "drop column users.name"),
    ({"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"},
     "rename column users.email to email_address"),
    ({"op": "change_column_type", "table": "orders", "column": "status", "type": "varchar(50)"},
     "change type of orders.status to varchar(50)"),
    ({"op": "set_not_null", "table": "orders", "column": "note"}, "set orders.note NOT NULL"),
    ({"op": "drop_not_null", "table": "users", "column": "name"}, "allow NULL in users.name"),
    ({"op": "set_default", "table": "orders", "column": "status", "default": "'new'"},
     "set default of orders.status to 'new'"),
    ({"op": "drop_default", "table": "orders", "column": "status"}, "drop default of orders.status"),
    ({"op": "add_index", "table": "orders", "columns": ["user_id"]}, "add index on orders (user_id)"),
    ({"op": "add_index", "table": "products", "columns": ["sku"], "unique": True, "where": "stock IS NOT NULL"},
     "add unique index on products (sku) where stock IS NOT NULL"),
    ({"op": "drop_index", "name": "orders_status_idx"}, "drop index orders_status_idx"),
    ({"op": "add_foreign_key", "table": "orders", "columns": ["user_id"], "ref_table": "users",
      "ref_columns": ["id"]}, "add foreign key orders.user_id -> users.id"),
    ({"op": "add_foreign_key", "table": "order_items", "columns": ["order_id", "product_id"], "ref_table": "pairs",
      "ref_columns": ["a", "b"], "on_delete": "CASCADE"},
     "add foreign key order_items (order_id, product_id) -> pairs (a, b) on delete cascade"),
    ({"op": "add_check", "table": "orders", "expression": "total   >  0"}, "add check on orders (total > 0)"),
    ({"op": "add_unique", "table": "products", "columns": ["sku"]}, "add unique constraint on products.sku"),
    ({"op": "add_unique", "table": "users", "columns": ["email", "name"]},
     "add unique constraint on users (email, name)"),
    ({"op": "create_table", "table": "tags", "columns": [{"name": "id", "type": "bigint", "primary_key": True}]},
     "create table tags"),
    ({"op": "rename_table", "table": "legacy_events", "new_name": "events"}, "rename table legacy_events to events"),
    ({"op": "drop_table", "table": "legacy_events"}, "drop table legacy_events"),
    ({"op": "backfill", "table": "orders", "column": "status", "value": "upper(status)", "where": "status <> ''"},
     "backfill orders.status with upper(status) where status <> ''"),
    ({"op": "add_enum_value", "enum": "payment_method", "value": "paypal"}, "add value 'paypal' to enum payment_method"),
    ({"op": "raw_sql", "up": "SELECT 1", "phase": "expand"}, "run raw SQL (expand step)"),
]


@pytest.mark.parametrize("op, text", EXPECTED, ids=[t for _, t in EXPECTED])
def test_description(op, text):
    assert describe(OPS.validate_python(op)) == text


def test_one_description_per_operation_type():
    kinds = {typing.get_args(m.model_fields["op"].annotation)[0]
             for m in typing.get_args(typing.get_args(Operation)[0])}
    assert set(MODULES) == kinds and all(callable(m.describe) for m in MODULES.values())
    assert {op["op"] for op, _ in EXPECTED} == kinds  # each wording is checked above
    for op, _ in EXPECTED:  # no op identifier leaks into the sentence
        assert "_" not in op["op"] or op["op"] not in describe(OPS.validate_python(op))
