"""add_check: CHECK ... NOT VALID (brief lock, no scan), then VALIDATE."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import AddCheck
from ...model.schema import Constraint, Schema
from ...model.plan import Step
from ...pg.locks import SHARE_UPDATE_EXCLUSIVE
from ...pg.parse import column_refs, parse_expr
from ...pg.quote import canonical_table, ident, qname
from ._base import (Ctx, RowsCount, bare, checked_expr, constraint_taken, free_name, one, require_table,
                    short_name, tx_step)


def check_name(op: AddCheck, table_name: str) -> str:
    """The check's name: the one given, else PostgreSQL's <table>_<first column>_check."""
    if op.name:
        ident(op.name)
        return op.name
    cols = sorted(column_refs(parse_expr(op.expression, "check")))
    return short_name(bare(table_name), *(cols[:1]), suffix="check")


def named(op: AddCheck, schema: Schema) -> AddCheck:
    """A check asked for without a name where PostgreSQL's for it is taken (a column's inline CHECK
    holds <table>_<column>_check): the first free of name1, name2, ..., as PostgreSQL names it then."""
    table = None if op.name is not None else schema.table(canonical_table(op.table))
    if table is None or not constraint_taken(schema, table)(check_name(op, table.name)):
        return op  # named, or free
    cols = sorted(column_refs(parse_expr(op.expression, "check")))[:1]
    return op.model_copy(update={"name": free_name(table, cols, "check", constraint_taken(schema, table))})


def validate(op: AddCheck, schema: Schema) -> None:
    table = require_table(schema, op.table)
    checked_expr(op.expression, table, "check expression", subquery=False)
    name = check_name(op, table.name)
    if any(c.name == name for c in table.constraints):
        raise FluxInputError(f"constraint {name!r} already exists on {table.name}")


def plan(op: AddCheck, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    expr = checked_expr(op.expression, table, "check expression")
    name = check_name(op, table.name)
    t = qname(table.name)
    add = f"ALTER TABLE {t} ADD CONSTRAINT {ident(name)} CHECK ({expr})"
    drop = [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(name)}"]
    if ctx.is_new(table):
        ignore = "-- squawk-ignore constraint-missing-not-valid -- the table is new in this plan and empty"
        return [tx_step(ctx, "migrate", f"add check {name} on the new table {table.name}", [ignore, add], drop,
                        risk="new empty table: nothing to scan", rollback=f"drop {name}")]
    return [
        tx_step(ctx, "migrate", f"add check {name} on {table.name} NOT VALID", [add + " NOT VALID"], drop,
                risk="brief lock, no scan; new writes are checked from here on", rollback=f"drop {name}"),
        tx_step(ctx, "migrate", f"validate check {name}", [f"ALTER TABLE {t} VALIDATE CONSTRAINT {ident(name)}"],
                None, lock=SHARE_UPDATE_EXCLUSIVE, statement_timeout="0",
                risk="scans the table; reads and writes go on; fails if a row breaks the check",
                rollback="nothing to undo: validating changes no data"),
    ]


def apply(op: AddCheck, schema: Schema) -> None:
    table = require_table(schema, op.table)
    expr = checked_expr(op.expression, table, "check expression")
    table.constraints.append(Constraint(name=check_name(op, table.name), kind="check", expression=expr,
                                        columns=sorted(column_refs(parse_expr(expr, "check")))))


def describe(op: AddCheck) -> str:
    return f"add check on {op.table} ({one(op.expression)})"


def refusing_rows(op: AddCheck, schema: Schema) -> RowsCount:
    """The rows the check is false for (NULL passes a check, as NOT (NULL) selects nothing)."""
    table = require_table(schema, op.table)
    expr = checked_expr(op.expression, table, "check expression", subquery=False)
    return RowsCount(table=table.name, sql=f"SELECT count(*) FROM {qname(table.name)} WHERE NOT ({expr})",
                     found=f"{table.name}: {{0}} breaking CHECK ({expr})",
                     fails="the check's validation fails on them: change those rows first, then plan again")
