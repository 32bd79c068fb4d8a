"""flux verify fills in full only the tables a plan reaches (verify/seed_scope.py): the ones it
changes, the ones whose keys point at those, and every table those need parent rows in."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.verify.seed_scope import full_tables

from shop import SETTINGS, shop_schema


def reached(*ops: dict):
    return full_tables(build_plan(parse_operations(list(ops)), shop_schema(), SETTINGS), shop_schema())


def test_the_tables_a_plan_reaches():
    # orders: its keys point at users; order_items points at it, and at products
    assert reached({"op": "rename_column", "table": "orders", "column": "note", "new_name": "notes"}) == {
        "orders", "users", "order_items", "products"}
    assert reached({"op": "add_index", "table": "products", "columns": ["sku"]}) == {"products", "order_items",
                                                                                    "orders", "users"}
    assert reached({"op": "drop_index", "name": "orders_status_idx"}) == {"orders", "users", "order_items",
                                                                        "products"}
    assert reached({"op": "set_default", "table": "legacy_events", "column": "kind", "default": "'x'"}) == {
        "legacy_events"}
    assert reached({"op": "create_table", "table": "coupons", "columns": [{"name": "id", "type": "bigint"}]}) == set()


def test_every_table_where_the_plan_says_nothing_of_its_tables():
    assert reached({"op": "raw_sql", "up": "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note)",
                    "down": "DROP INDEX CONCURRENTLY orders_note_idx", "transactional": False}) is None
