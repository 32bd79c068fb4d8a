"""drop_index: DROP INDEX CONCURRENTLY, alone in a non-transactional step; the
rollback rebuilds it concurrently from the definition in the schema."""

from __future__ import annotations

from ...errors import FluxInputError, UnknownName, known_names
from ...model.operations import DropIndex
from ...model.schema import Index, Schema, Table
from ...model.plan import Step
from ...pg.locks import SHARE_UPDATE_EXCLUSIVE
from ...pg.ddl import index_sql
from ...pg.quote import qname_in, split_qualified
from ...pg.repoint import index_copy
from ._base import SOLO_REASON, Ctx, solo_step, tx_step
from ._partitions import partitions, restore_index_sql


def find_index(schema: Schema, name: str) -> tuple[Table, Index]:
    want_schema, bare = split_qualified(name)
    for table in schema.tables:
        tschema, _ = split_qualified(table.name)
        if (want_schema or "public") != (tschema or "public"):
            continue
        for idx in table.indexes:
            if idx.name == bare:
                return table, idx
    known = sorted(i.name for t in schema.tables for i in t.indexes)
    raise UnknownName(f"unknown index {name!r} {known_names(bare, known, 'indexes')}")


def validate(op: DropIndex, schema: Schema) -> None:
    table, idx = find_index(schema, op.name)
    if idx.primary or any(c.name == idx.name and c.kind in ("unique", "primary_key") for c in table.constraints):
        raise FluxInputError(f"index {idx.name} backs a constraint of {table.name}; drop the constraint instead")


def plan(op: DropIndex, ctx: Ctx) -> list[Step]:
    table, idx = find_index(ctx.schema, op.name)
    full = qname_in(table.name, idx.name)
    # PostgreSQL's own definition, when known, rebuilds it exactly (method, operator classes, INCLUDE).
    dep = ctx.schema.dependencies.index(idx.name) if ctx.schema.dependencies is not None else None
    exact = dep is not None and dep.table == table.name
    if partitions(ctx.schema, table.name):
        # A partitioned index cannot be dropped CONCURRENTLY: a plain drop takes a brief exclusive
        # lock on the table and its partitions, and no scan.
        rebuild = restore_index_sql(ctx.schema, table, idx.name, dep.definition, None, None) if exact \
            else [index_sql(table, idx)]
        return [tx_step(
            ctx, "migrate", f"drop index {idx.name} on partitioned table {table.name}",
            ["-- squawk-ignore require-concurrent-index-deletion -- PostgreSQL cannot drop a partitioned index "
             "concurrently; dropping takes a brief lock and no scan", f"DROP INDEX IF EXISTS {full}"],
            rebuild, down_statement_timeout="0",
            risk="brief lock on the table and its partitions, no scan; queries that used the index get slower",
            rollback=f"rebuild {idx.name} on each partition under a lock that blocks writes meanwhile")]
    create = (index_copy(dep.definition, table.name, None, None, idx.name) if exact
              else index_sql(table, idx, concurrently=True)) + ";"
    return [solo_step(
        "migrate", f"drop index {idx.name} on {table.name} concurrently",
        f"DROP INDEX CONCURRENTLY IF EXISTS {full};", create, lock=SHARE_UPDATE_EXCLUSIVE,
        risk="waits for running queries, blocks no reads or writes; queries that used the index get slower",
        rollback=f"rebuild {idx.name} concurrently", squawk_reason=SOLO_REASON)]


def apply(op: DropIndex, schema: Schema) -> None:
    table, idx = find_index(schema, op.name)
    table.indexes = [i for i in table.indexes if i.name != idx.name]


def describe(op: DropIndex) -> str:
    return f"drop index {op.name}"
