"""drop_index: DROP INDEX CONCURRENTLY, alone in a non-transactional step; the
rollback rebuilds it concurrently from the definition in the schema."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import DropIndex
from ...model.schema import Index, Schema, Table
from ...model.plan import Step
from ...pg.locks import SHARE_UPDATE_EXCLUSIVE
from ...pg.ddl import index_sql
from ...pg.quote import qname_in, split_qualified
from ._base import SOLO_REASON, Ctx, solo_step


def find_index(schema: Schema, name: str) -> tuple[Table, Index]:
    want_schema, bare = split_qualified(name)
    for table in schema.tables:
        tschema, _ = split_qualified(table.name)
        if (want_schema or "public") != (tschema or "public"):
            continue
        for idx in table.indexes:
            if idx.name == bare:
                return table, idx
    raise FluxInputError(f"unknown index {name!r}")


def validate(op: DropIndex, schema: Schema) -> None:
    table, idx = find_index(schema, op.name)
    if idx.primary or any(c.name == idx.name and c.kind in ("unique", "primary_key") for c in table.constraints):
        raise FluxInputError(f"index {idx.name} backs a constraint of {table.name}; drop the constraint instead")


def plan(op: DropIndex, ctx: Ctx) -> list[Step]:
    table, idx = find_index(ctx.schema, op.name)
    full = qname_in(table.name, idx.name)
    create = index_sql(table, idx, concurrently=True) + ";"
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
