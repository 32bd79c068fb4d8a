"""What two plans both change (plan/changed.py): a column, or a table as a whole."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.changed import overlap


def _both(a: dict, b: dict) -> list[str]:
    return overlap(parse_operations([a]), parse_operations([b]))


def test_a_column_both_change_and_a_table_one_changes_whole():
    rename = {"op": "rename_column", "table": "users", "column": "email", "new_name": "mail"}
    assert _both(rename, {"op": "drop_column", "table": "users", "column": "email"}) == ["users.email"]
    assert _both(rename, {"op": "add_index", "table": "users", "columns": ["name", "email"]}) == ["users.email"]
    assert _both(rename, {"op": "drop_table", "table": "users"}) == ["users"]
    assert _both({"op": "rename_table", "table": "public.users", "new_name": "people"}, rename) == ["users"]


def test_other_columns_other_tables_and_raw_sql_do_not():
    rename = {"op": "rename_column", "table": "users", "column": "email", "new_name": "mail"}
    assert _both(rename, {"op": "drop_column", "table": "users", "column": "name"}) == []
    assert _both(rename, {"op": "drop_table", "table": "orders"}) == []
    assert _both(rename, {"op": "raw_sql", "up": "ALTER TABLE users DROP COLUMN email", "down": "SELECT 1"}) == []
