"""create_table: one step. A new table is empty and unused, so it needs no
expand/contract; later steps on it in the same plan skip CONCURRENTLY too."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.schema import Column, Index, Schema, Table
from ...model.operations import CreateTable
from ...model.plan import Step
from ...pg.types import is_serial
from ...pg.quote import canonical_table, ident, qname, split_qualified
from ...pg.parse import operand
from ._base import Ctx, bare, checked_expr, checked_type, short_name, tx_step


def _type_sql(schema: Schema, type_text: str) -> str:
    # serial types are shorthand for a sequence default: keep the keyword, not its base type
    return type_text.strip().lower() if is_serial(type_text) else checked_type(schema, type_text)


def validate(op: CreateTable, schema: Schema) -> None:
    key = canonical_table(op.table)
    split_qualified(op.table)
    ident(bare(key))
    if schema.table(key) or schema.view(key):
        raise FluxInputError(f"a table or view named {key!r} already exists")
    seen = set()
    for col in op.columns:
        ident(col.name)
        if col.name in seen:
            raise FluxInputError(f"column {col.name!r} is listed twice")
        seen.add(col.name)
        _type_sql(schema, col.type)
        if col.default is not None:
            checked_expr(col.default, None, "default", subquery=False)


def create_sql(op: CreateTable, schema: Schema) -> str:
    lines = []
    for col in op.columns:
        line = f"{ident(col.name)} {_type_sql(schema, col.type)}"
        if col.default is not None:
            line += f" DEFAULT {operand(checked_expr(col.default, None, 'default'))}"
        if not col.nullable or col.primary_key:
            line += " NOT NULL"
        lines.append(line)
    pk = [c.name for c in op.columns if c.primary_key]
    if pk:
        # PostgreSQL names the key <table>_pkey, cut to 63 bytes its own way; name a long one as the model does
        key = short_name(bare(canonical_table(op.table)), suffix="pkey")
        named = f"CONSTRAINT {ident(key)} " if key != f"{bare(canonical_table(op.table))}_pkey" else ""
        lines.append(f"{named}PRIMARY KEY ({', '.join(ident(c) for c in pk)})")
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {qname(canonical_table(op.table))} (\n    {body}\n)"


def plan(op: CreateTable, ctx: Ctx) -> list[Step]:
    key = canonical_table(op.table)
    return [tx_step(ctx, "migrate", f"create table {key}", [create_sql(op, ctx.schema)],
                    [f"DROP TABLE IF EXISTS {qname(key)}"], lock="none", lock_note="new table",
                    risk="new table: no existing reads or writes to block",
                    rollback=f"drop {key}; rows written to it are lost", data_loss=True)]


def apply(op: CreateTable, schema: Schema) -> None:
    key = canonical_table(op.table)
    cols = []
    for col in op.columns:
        default = checked_expr(col.default, None, "default") if col.default is not None else None
        typ = checked_type(schema, col.type)
        if is_serial(col.type):
            default = f"nextval('{short_name(bare(key), col.name, suffix='seq')}'::regclass)"
        cols.append(Column(name=col.name, type=typ, nullable=col.nullable and not col.primary_key
                           and not is_serial(col.type), default=default))
    pk = [c.name for c in op.columns if c.primary_key]
    indexes = [Index(name=short_name(bare(key), suffix="pkey"), columns=pk, unique=True, primary=True)] if pk else []
    schema.tables.append(Table(name=key, columns=cols, primary_key=pk, indexes=indexes))


def describe(op: CreateTable) -> str:
    return f"create table {op.table}"
