"""One module per operation. Each has validate(op, schema), plan(op, ctx) -> steps
and apply(op, schema), which moves the working schema on for the next operation."""

from types import ModuleType

from . import (add_column, add_index, backfill, change_column_type, drop_column, drop_table, rename_column,
               rename_table, set_not_null)

OPS: dict[str, ModuleType] = {
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
