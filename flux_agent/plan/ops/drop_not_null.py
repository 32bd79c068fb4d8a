"""drop_not_null: catalog only and brief; readers must accept NULL from now on."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import DropNotNull
from ...model.schema import Schema
from ...model.plan import Step
from ...pg.quote import ident, qname
from ._base import Ctx, require_column, require_table, tx_step


def validate(op: DropNotNull, schema: Schema) -> None:
    table = require_table(schema, op.table)
    col = require_column(table, op.column)
    if col.nullable:
        raise FluxInputError(f"column {op.table}.{op.column} already allows NULL")
    if op.column in table.primary_key:
        raise FluxInputError(f"{op.table}.{op.column} is part of the primary key, which is always NOT NULL")


def plan(op: DropNotNull, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    t, c = qname(table.name), ident(op.column)
    return [tx_step(
        ctx, "migrate", f"allow NULL in {table.name}.{op.column}",
        [f"-- squawk-ignore ban-drop-not-null -- requested; code reading {op.column} must accept NULL",
         f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"],
        [f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"], down_statement_timeout="0",
        risk="brief lock, catalog change only; readers must accept NULL",
        rollback=f"{op.column} NOT NULL again (scans under lock; fails if NULLs were written)")]


def apply(op: DropNotNull, schema: Schema) -> None:
    require_column(require_table(schema, op.table), op.column).nullable = True


def describe(op: DropNotNull) -> str:
    return f"allow NULL in {op.table}.{op.column}"
