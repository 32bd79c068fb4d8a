"""One module per operation. Each has validate(op, schema), plan(op, ctx) -> steps
and apply(op, schema), which moves the working schema on for the next operation."""

from types import ModuleType

from . import (
    add_check, add_column, add_enum_value, add_foreign_key, add_index, add_unique, backfill, change_column_type,
    create_table, drop_column, drop_default, drop_index, drop_not_null, drop_table, raw_sql, rename_column,
    rename_table, set_default, set_not_null,
)

OPS: dict[str, ModuleType] = {
    "add_check": add_check,
    "add_enum_value": add_enum_value,
    "add_foreign_key": add_foreign_key,
    "add_unique": add_unique,
    "create_table": create_table,
    "drop_default": drop_default,
    "drop_index": drop_index,
    "drop_not_null": drop_not_null,
    "raw_sql": raw_sql,
    "set_default": set_default,
    "add_column": add_column,
    "add_index": add_index,
    "backfill": backfill,
    "change_column_type": change_column_type,
    "drop_column": drop_column,
    "drop_table": drop_table,
    "rename_column": rename_column,
    "rename_table": rename_table,
    "set_not_null": set_not_null,
}
