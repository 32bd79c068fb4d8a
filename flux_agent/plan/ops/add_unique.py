"""add_unique: build the unique index CONCURRENTLY, then attach it as a
constraint with USING INDEX (brief lock, no scan)."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import AddUnique
from ...model.schema import Constraint, Index, Schema, Table
from ...model.plan import Step
from ...pg.ddl import unique_using_index_sql
from ...pg.parse import is_one_name
from ...pg.quote import canonical_table, ident, qname
from .add_index import duplicates, index_step, leftover_steps, name_taken, without_leftover
from ._partitions import partitions
from ._base import Ctx, RowsCount, bare, cols, free_name, require_column, require_table, short_name, tx_step


def unique_name(op: AddUnique, table: Table) -> str:
    if op.name:
        ident(op.name)
        return op.name
    return short_name(bare(table.name), *op.columns, suffix="key")


def named(op: AddUnique, schema: Schema) -> AddUnique:
    """A key asked for without a name where the one Flux gives it is taken: the first free of name1,
    name2, ..., as PostgreSQL names it then (add_index.named)."""
    table = None if op.name is not None else schema.table(canonical_table(op.table))
    if table is None or not name_taken(schema, table, unique_name(op, table)) or any(
            i.valid and i.unique and i.columns == list(op.columns) and not i.where for i in table.indexes):
        return op  # named, free, or unique already: validate says so
    return op.model_copy(update={"name": free_name(table, op.columns, "key", lambda n: name_taken(schema, table, n))})


def validate(op: AddUnique, schema: Schema) -> None:
    table = require_table(schema, op.table)
    for col in op.columns:
        if table.column(col) is None and not is_one_name(col):
            raise FluxInputError(f"a UNIQUE constraint holds columns only, not {col!r}: for an expression add a "
                                 "unique index (add_index with unique)")
        require_column(table, col)
    if partitions(schema, table.name):
        raise FluxInputError(f"{table.name} is partitioned: PostgreSQL cannot make a UNIQUE constraint of a prebuilt "
                             "index there; add a unique index (add_index with unique) instead")
    name = unique_name(op, table)
    if name_taken(schema, table, name):
        raise FluxInputError(f"an index or constraint named {name!r} already exists")


def plan(op: AddUnique, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    name = unique_name(op, table)
    t = qname(table.name)
    return [
        *leftover_steps(table, name),
        index_step(ctx, table, name, list(op.columns), True, None),
        tx_step(ctx, "migrate", f"attach {name} as a UNIQUE constraint on {table.name}",
                [unique_using_index_sql(table.name, name, name)],
                [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(name)}"],
                risk="brief lock, no scan (the index is already built)",
                rollback=f"drop the constraint {name} (its index goes with it: run again, the build runs first)"
                ).model_copy(update={"undoes_steps_before": 1}),
    ]


def apply(op: AddUnique, schema: Schema) -> None:
    table = require_table(schema, op.table)
    name = unique_name(op, table)
    without_leftover(table, name)
    table.indexes.append(Index(name=name, columns=list(op.columns), unique=True))
    table.constraints.append(Constraint(name=name, kind="unique", columns=list(op.columns)))


def refusing_rows(op: AddUnique, schema: Schema) -> RowsCount:
    table = require_table(schema, op.table)
    return duplicates(table, list(op.columns), None, f"the build of {unique_name(op, table)}")


def describe(op: AddUnique) -> str:
    return f"add unique constraint on {cols(op.table, op.columns)}"
