"""drop_default: catalog only. Inserts that relied on the default must write
the column first, so a NOT NULL column gets a code step before the drop."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import DropDefault
from ...model.schema import Schema
from ...model.plan import Step
from ...pg.quote import ident, qname
from ._base import Ctx, code_step, require_column, require_table, tx_step
from ._partitions import defaults_sql


def validate(op: DropDefault, schema: Schema) -> None:
    col = require_column(require_table(schema, op.table), op.column)
    if col.default is None:
        raise FluxInputError(f"column {op.table}.{op.column} has no default to drop")


def plan(op: DropDefault, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    col = require_column(table, op.column)
    t, c = qname(table.name), ident(op.column)
    steps = []
    if not col.nullable:
        steps.append(code_step(f"deploy code that always writes {table.name}.{op.column} on insert"))
    steps.append(tx_step(
        ctx, "contract" if steps else "migrate", f"drop the default of {table.name}.{op.column}",
        ["-- squawk-ignore ban-drop-default -- requested; inserts that omit the column were moved off it",
         f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"],
        defaults_sql(ctx.schema, table, op.column),
        risk="brief lock, catalog change only" + ("" if steps else "; inserts that omit it now get NULL"),
        rollback=f"restore the default {col.default}"))
    return steps


def apply(op: DropDefault, schema: Schema) -> None:
    require_column(require_table(schema, op.table), op.column).default = None


def describe(op: DropDefault) -> str:
    return f"drop default of {op.table}.{op.column}"
