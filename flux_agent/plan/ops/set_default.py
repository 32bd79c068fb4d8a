"""set_default: catalog only; existing rows keep their values, new rows get the default."""

from __future__ import annotations

from ...model.schema import Schema
from ...model.operations import SetDefault
from ...model.plan import Step
from ...pg.quote import ident, qname
from ._base import Ctx, checked_expr, one, require_column, require_table, tx_step
from ._partitions import defaults_sql


def validate(op: SetDefault, schema: Schema) -> None:
    table = require_table(schema, op.table)
    require_column(table, op.column)
    checked_expr(op.default, table, "default", subquery=False)


def plan(op: SetDefault, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    col = require_column(table, op.column)
    t, c = qname(table.name), ident(op.column)
    default = checked_expr(op.default, table, "default")
    return [tx_step(ctx, "migrate", f"set the default of {table.name}.{op.column} to {default}",
                    [f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default}"],
                    defaults_sql(ctx.schema, table, op.column),
                    risk="brief lock, catalog change only; existing rows keep their values",
                    rollback="restore the previous default" if col.default else "drop the default again")]


def apply(op: SetDefault, schema: Schema) -> None:
    table = require_table(schema, op.table)
    require_column(table, op.column).default = checked_expr(op.default, table, "default")


def describe(op: SetDefault) -> str:
    return f"set default of {op.table}.{op.column} to {one(op.default)}"
