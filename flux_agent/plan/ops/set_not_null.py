"""set_not_null: never a scanning SET NOT NULL under ACCESS EXCLUSIVE.

CHECK (col IS NOT NULL) NOT VALID (brief lock) -> VALIDATE (scan, writes go on)
-> SET NOT NULL, which PostgreSQL 12+ proves from the validated CHECK without a
scan -> DROP the CHECK. Each phase is its own step so each can be retried.
"""

from __future__ import annotations

from typing import Optional

from ...errors import FluxInputError
from ...model.schema import Schema, Table
from ...model.operations import SetNotNull
from ...model.plan import Step
from ...pg.locks import SHARE_UPDATE_EXCLUSIVE
from ...pg.types import not_null_uses_check
from ...pg.quote import ident, qname
from ._base import (Ctx, RowsCount, checked_expr, code_step, require_column, require_table, short_name,
                    tx_step)
from ._batched_update import backfill_step, batched_update


NN_IGNORE = "-- squawk-ignore adding-not-nullable-field -- a validated CHECK (col IS NOT NULL) proves it, no scan"
DROP_CHECK_IGNORE = "-- squawk-ignore ban-drop-constraint -- the column's NOT NULL now carries this guarantee"


def check_name(table: Table, column: str) -> str:
    return short_name(table.name.split(".")[-1], column, suffix="not_null")


def not_null_steps(ctx: Ctx, table: Table, column: str, filled: bool = True) -> list[Step]:
    """The steps after any backfill; `filled` False when nothing filled the NULLs the rows may hold."""
    t, c = qname(table.name), ident(column)
    scan = "scans the table; reads and writes go on"
    if not filled:  # the validation is where existing NULLs show; say so before the deploy, not at it
        scan += (f"; fails, changing nothing, while a row holds NULL in {column}: give a backfill value for them "
                 "(\"..., backfilling nulls with <value>\")")
    chk = ident(check_name(table, column))
    steps = [
        tx_step(ctx, "contract", f"add CHECK ({column} IS NOT NULL) NOT VALID on {table.name}",
                [f"ALTER TABLE {t} ADD CONSTRAINT {chk} CHECK ({c} IS NOT NULL) NOT VALID"],
                [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {chk}"],
                risk="brief lock, no scan; new writes of NULL fail from here on",
                rollback="drop the CHECK"),
        tx_step(ctx, "contract", f"validate the NOT NULL check on {table.name}.{column}",
                [f"ALTER TABLE {t} VALIDATE CONSTRAINT {chk}"], None,
                lock=SHARE_UPDATE_EXCLUSIVE, statement_timeout="0",
                risk=scan, rollback="nothing to undo: validating changes no data"),
    ]
    if not_null_uses_check(ctx.settings.pg_version):
        steps.append(tx_step(
            ctx, "contract", f"set {table.name}.{column} NOT NULL (proved by the check, no scan)",
            [NN_IGNORE, f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL", DROP_CHECK_IGNORE,
             f"ALTER TABLE {t} DROP CONSTRAINT {chk}"],
            [f"ALTER TABLE {t} ADD CONSTRAINT {chk} CHECK ({c} IS NOT NULL) NOT VALID",
             f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"],
            risk="brief lock, no scan (PostgreSQL 12+ uses the validated check)",
            rollback=f"allow NULL in {column} again"))
    return steps


def validate(op: SetNotNull, schema: Schema) -> None:
    table = require_table(schema, op.table)
    col = require_column(table, op.column)
    if not col.nullable:
        raise FluxInputError(f"column {op.table}.{op.column} is already NOT NULL")
    if op.backfill is not None:
        checked_expr(op.backfill, table, "backfill")


def plan(op: SetNotNull, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    # Code that writes NULL (an ORM's field left unset: healthchecks' Profile.theme on every signup) fails
    # from the CHECK on: it goes out first, backfill or none. A table this plan makes has no such code.
    steps: list[Step] = [] if ctx.is_new(table) else [
        code_step(f"deploy code that never writes NULL to {table.name}.{op.column}")]
    if op.backfill is not None:
        value = checked_expr(op.backfill, table, "backfill")
        sql = batched_update(ctx, table, [(op.column, value)], f"{ident(op.column)} IS NULL",
                             label=f"{table.name}.{op.column}")
        steps.append(backfill_step(ctx, table, f"fill NULLs in {table.name}.{op.column} in batches", sql,
                                   data_loss=True, rollback="the filled rows keep their new value, not NULL",
                                   pending=f"{ident(op.column)} IS NULL", sets=(op.column, value)))
    steps.extend(not_null_steps(ctx, table, op.column, filled=op.backfill is not None))
    return steps


def apply(op: SetNotNull, schema: Schema) -> None:
    table = require_table(schema, op.table)
    require_column(table, op.column).nullable = False


def describe(op: SetNotNull) -> str:
    return f"set {op.table}.{op.column} NOT NULL"


def refusing_rows(op: SetNotNull, schema: Schema) -> Optional[RowsCount]:
    """The rows holding NULL, when no backfill fills them."""
    if op.backfill is not None:
        return None
    table = require_table(schema, op.table)
    return RowsCount(table=table.name, sql=f"SELECT count(*) FROM {qname(table.name)} WHERE {ident(op.column)} IS NULL",
                     found=f"{table.name}: {{0}} with NULL in {op.column}",
                     fails="the NOT NULL check's validation fails on them: give a backfill value (\"..., backfilling "
                           "nulls with <value>\") or fill them first, then plan again")
