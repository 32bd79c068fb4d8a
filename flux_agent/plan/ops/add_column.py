"""add_column: one step when PostgreSQL can add it without touching rows;
otherwise expand (nullable) -> batched backfill -> NOT NULL via a validated CHECK.
"""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import AddColumn
from ...model.schema import Column, Schema
from ...model.plan import Step
from ...pg.types import fast_default_supported, is_volatile
from ...pg.quote import ident, qname
from ...pg.parse import operand
from ._base import Ctx, checked_expr, checked_type, code_step, one, require_new_column_name, require_table, tx_step
from ._batched_update import backfill_step, batched_update
from .set_not_null import not_null_steps


def validate(op: AddColumn, schema: Schema) -> None:
    table = require_table(schema, op.table)
    require_new_column_name(table, op.column)
    checked_type(schema, op.type)
    if op.default is not None:
        checked_expr(op.default, table, "default", subquery=False)
    if op.backfill is not None:
        checked_expr(op.backfill, table, "backfill")
    if not op.nullable and op.default is None and op.backfill is None:
        raise FluxInputError(
            f"NOT NULL column {op.table}.{op.column} needs a default or a backfill expression for existing rows"
        )


def plan(op: AddColumn, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    t, c = qname(table.name), ident(op.column)
    typ = checked_type(ctx.schema, op.type)
    default = checked_expr(op.default, table, "default") if op.default is not None else None
    fill = checked_expr(op.backfill, table, "backfill") if op.backfill is not None else None
    volatile = default is not None and is_volatile(default)
    drop = [f"ALTER TABLE {t} DROP COLUMN IF EXISTS {c}"]
    rollback = f"drop {op.column}; values written to it since the deploy are lost"
    fast = default is not None and not volatile and fast_default_supported(ctx.settings.pg_version)

    # One step: nothing to copy into existing rows beyond a constant default.
    if fill is None and ((default is None and op.nullable) or fast):
        tail = f" DEFAULT {operand(default)}" if default is not None else ""
        tail += "" if op.nullable else " NOT NULL"
        return [
            tx_step(ctx, "migrate", f"add column {table.name}.{op.column}",
                    [f"ALTER TABLE {t} ADD COLUMN {c} {typ}{tail}"], drop,
                    risk="brief lock, catalog change only (no table rewrite)",
                    rollback=rollback, data_loss=True)
        ]

    steps: list[Step] = []
    expand = [f"ALTER TABLE {t} ADD COLUMN {c} {typ}"]
    if default is not None:
        # SET DEFAULT after ADD COLUMN applies to new rows only: no rewrite.
        expand.append(f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default}")
    steps.append(tx_step(ctx, "expand", f"add column {table.name}.{op.column} (nullable at first)",
                         expand, drop, risk="brief lock, catalog change only",
                         rollback=rollback, data_loss=True))
    if default is None and not op.nullable:
        steps.append(code_step(f"deploy code that writes {op.column} on every insert into {table.name}"))
    value = fill if fill is not None else default
    if value is not None:
        sql = batched_update(ctx, table, [(op.column, value)], f"{c} IS NULL", label=f"{table.name}.{op.column}")
        steps.append(backfill_step(ctx, table, f"backfill {table.name}.{op.column} in batches", sql,
                                   pending=f"{c} IS NULL"))
    if not op.nullable:
        steps.extend(not_null_steps(ctx, table, op.column))
    return steps


def apply(op: AddColumn, schema: Schema) -> None:
    table = require_table(schema, op.table)
    typ = checked_type(schema, op.type)
    default = checked_expr(op.default, table, "default") if op.default is not None else None
    table.columns.append(Column(name=op.column, type=typ, nullable=op.nullable, default=default))


def describe(op: AddColumn) -> str:
    return f"add column {op.table}.{op.column} {one(op.type)}{'' if op.nullable else ' NOT NULL'}"
