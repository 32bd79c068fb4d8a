"""backfill: a large UPDATE as batches by primary-key range, each its own
transaction, with a pause between batches so replicas and vacuum keep up.
"""

from __future__ import annotations

from ...model.operations import Backfill
from ...model.schema import Schema
from ...model.plan import Step
from ._base import Ctx, checked_expr, one, require_column, require_primary_key, require_table, where_text
from ._batched_update import backfill_step, batched_update


def validate(op: Backfill, schema: Schema) -> None:
    table = require_table(schema, op.table)
    require_column(table, op.column)
    checked_expr(op.value, table, "value")
    if op.where is not None:
        checked_expr(op.where, table, "where")
    require_primary_key(table)


def plan(op: Backfill, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    value = checked_expr(op.value, table, "value")
    where = checked_expr(op.where, table, "where") if op.where is not None else None
    sql = batched_update(ctx, table, [(op.column, value)], where, batch_size=op.batch_size,
                         label=f"{table.name}.{op.column}")
    return [backfill_step(ctx, table, f"set {table.name}.{op.column} in batches", sql, data_loss=True,
                          rollback="previous values are overwritten; restore them from a backup if needed",
                          batch_size=op.batch_size, sets=(op.column, value))]


def apply(op: Backfill, schema: Schema) -> None:
    return None


def describe(op: Backfill) -> str:
    return f"backfill {op.table}.{op.column} with {one(op.value)}{where_text(op.where)}"
