"""add_foreign_key: NOT VALID first (brief lock, no scan), then VALIDATE,
which scans while reads and writes go on. PostgreSQL takes no NOT VALID foreign key on a
partitioned table: there each partition gets the key NOT VALID and VALIDATEd, and the key on the
table then attaches theirs without a scan (hatchet's v1_dag)."""

from __future__ import annotations

from typing import Optional

from ...errors import FluxInputError
from ...model.operations import AddForeignKey
from ...model.schema import Constraint, Schema, Table
from ...model.plan import Finding, Step
from ...pg.locks import SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
from ...pg.quote import canonical_table, ident, ident_list, qname
from ._base import (Ctx, RowsCount, bare, cols, constraint_taken, free_name, require_column, require_table,
                    short_name, tx_step)
from ._partitions import descendants, partitions

ON_DELETE = {"cascade": "CASCADE", "restrict": "RESTRICT", "set null": "SET NULL",
             "set default": "SET DEFAULT", "no action": "NO ACTION"}


def fk_name(op: AddForeignKey, table: Table) -> str:
    if op.name:
        ident(op.name)
        return op.name
    return short_name(bare(table.name), *op.columns, suffix="fkey")


def _on_delete(op: AddForeignKey) -> str:
    if op.on_delete is None:
        return ""
    key = " ".join(op.on_delete.lower().split())
    if key not in ON_DELETE:
        raise FluxInputError(f"on_delete {op.on_delete!r} must be one of: {', '.join(ON_DELETE.values())}")
    return f" ON DELETE {ON_DELETE[key]}"


def _is_key(ref: Table, cols: list[str]) -> bool:
    if ref.primary_key == cols:
        return True
    return any(i.unique and not i.where and i.columns == cols for i in ref.indexes) or any(
        c.kind in ("unique", "primary_key") and c.columns == cols for c in ref.constraints)


def _same_key(op: AddForeignKey, table: Table, ref: Table):
    """The table's foreign key that already makes these columns reference these, under any name."""
    return next((c for c in table.constraints if c.kind == "foreign_key" and c.columns == list(op.columns)
                 and c.ref_table is not None and canonical_table(c.ref_table) == ref.name
                 and (c.ref_columns or ref.primary_key) == list(op.ref_columns)), None)


def named(op: AddForeignKey, schema: Schema) -> AddForeignKey:
    """A key asked for without a name where PostgreSQL's for it is taken (a key of the column to
    another table): the first free of name1, name2, ..., as PostgreSQL names it then; the same key
    under that name is left to validate, which says so."""
    table = None if op.name is not None else schema.table(canonical_table(op.table))
    ref = schema.table(canonical_table(op.ref_table)) if table is not None else None
    if table is None or ref is None or _same_key(op, table, ref) is not None \
            or not constraint_taken(schema, table)(fk_name(op, table)):
        return op
    return op.model_copy(update={"name": free_name(table, op.columns, "fkey", constraint_taken(schema, table))})


def validate(op: AddForeignKey, schema: Schema) -> None:
    table = require_table(schema, op.table)
    ref = require_table(schema, op.ref_table)
    for col in op.columns:
        require_column(table, col)
    for col in op.ref_columns:
        require_column(ref, col)
    if len(op.columns) != len(op.ref_columns):
        raise FluxInputError(f"foreign key lists {len(op.columns)} column(s) but {len(op.ref_columns)} referenced")
    if not _is_key(ref, list(op.ref_columns)):
        raise FluxInputError(
            f"{ref.name}({', '.join(op.ref_columns)}) is not a primary key or unique: a foreign key needs one")
    _on_delete(op)
    same = _same_key(op, table, ref)
    if same is not None:  # under another name (Drizzle's <table>_<column>_<ref>_<refcol>_fk): a second key
        actions = f" ON DELETE {same.on_delete}" if same.on_delete else ""
        raise FluxInputError(f"foreign key {same.name} already makes {table.name}({', '.join(op.columns)}) reference "
                             f"{ref.name}({', '.join(op.ref_columns)}){actions}: to change what it does, drop it "
                             "and add it again by hand")
    name = fk_name(op, table)
    if any(c.name == name for c in table.constraints):
        raise FluxInputError(f"constraint {name!r} already exists on {table.name}")


def warnings(op: AddForeignKey, schema: Schema) -> list[Finding]:
    """No index leads with the key's columns: every delete (or key change) of a referenced row scans
    the table for the rows that point at it, under the referenced row's lock (documenso's
    CscSession.envelopeId, ON DELETE CASCADE). Where the plan makes the table, it is said too."""
    table = require_table(schema, op.table)
    keys = list(op.columns)
    if any(i.columns[:len(keys)] == keys and not i.where for i in table.indexes) or table.primary_key[:len(keys)] == keys:
        return []
    action = f" ({_on_delete(op).strip()})" if op.on_delete else ""
    return [Finding(rule="foreign-key-without-index", severity="warning", message=(
        f"no index of {table.name} leads with ({', '.join(keys)}): each delete or key change of a {op.ref_table} "
        f"row scans {table.name} for the rows that reference it{action}; add one (add_index on {table.name} "
        f"({', '.join(keys)}), built concurrently)"))]


def plan(op: AddForeignKey, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    ref = require_table(ctx.schema, op.ref_table)
    name = fk_name(op, table)
    t = qname(table.name)
    add = (f"ALTER TABLE {t} ADD CONSTRAINT {ident(name)} FOREIGN KEY ({ident_list(op.columns)}) "
           f"REFERENCES {qname(ref.name)} ({ident_list(op.ref_columns)}){_on_delete(op)}")
    drop = [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(name)}"]
    if ctx.is_new(table):
        ignore = ("-- squawk-ignore constraint-missing-not-valid, adding-foreign-key-constraint -- the table is "
                  "new in this plan and empty: nothing to scan")
        return [tx_step(ctx, "migrate", f"add foreign key {name} on the new table {table.name}", [ignore, add], drop,
                        lock=SHARE_ROW_EXCLUSIVE, risk="new empty table: nothing to scan",
                        rollback=f"drop {name}")]
    leaves = _leaves(ctx.schema, table.name)
    if leaves:
        return _partitioned_steps(ctx, table, ref, name, add, leaves)
    return [
        tx_step(ctx, "migrate", f"add foreign key {name} ({table.name} -> {ref.name}) NOT VALID",
                [add + " NOT VALID"], drop, lock=SHARE_ROW_EXCLUSIVE, lock_note="both tables",
                risk="brief lock, no scan; new rows are checked from here on", rollback=f"drop {name}"),
        tx_step(ctx, "migrate", f"validate foreign key {name}",
                [f"ALTER TABLE {t} VALIDATE CONSTRAINT {ident(name)}"], None,
                lock=SHARE_UPDATE_EXCLUSIVE, statement_timeout="0",
                risk="scans the table; reads and writes go on; fails if a row has no match",
                rollback="nothing to undo: validating changes no data"),
    ]


def _leaves(schema: Schema, table: str) -> list[str]:
    """The partitions of `table` that hold rows (at every level), in name order; none when it is
    not partitioned."""
    return sorted(p for p in descendants(schema, table) if not partitions(schema, p))


def _partitioned_steps(ctx: Ctx, table: Table, ref: Table, name: str, add: str, leaves: list[str]) -> list[Step]:
    """The key on each partition NOT VALID, each VALIDATEd, then on the table, attaching theirs."""
    t, n = qname(table.name), ident(name)
    on = [add.replace(f"ALTER TABLE {t} ", f"ALTER TABLE {qname(p)} ", 1) for p in leaves]
    many = f"{len(leaves)} partition{'s' if len(leaves) > 1 else ''} of {table.name}"
    return [
        tx_step(ctx, "migrate", f"add foreign key {name} ({table.name} -> {ref.name}) NOT VALID on each of {many}",
                [s + " NOT VALID" for s in on],
                [f"ALTER TABLE {qname(p)} DROP CONSTRAINT IF EXISTS {n}" for p in leaves],
                lock=SHARE_ROW_EXCLUSIVE, lock_note="each partition and the referenced table",
                risk="brief locks, no scan; new rows are checked from here on", rollback=f"drop {name} from each"),
        tx_step(ctx, "migrate", f"validate foreign key {name} on each of {many}",
                [f"ALTER TABLE {qname(p)} VALIDATE CONSTRAINT {n}" for p in leaves], None,
                lock=SHARE_UPDATE_EXCLUSIVE, statement_timeout="0",
                risk="scans each partition; reads and writes go on; fails if a row has no match",
                rollback="nothing to undo: validating changes no data"),
        tx_step(ctx, "migrate", f"add foreign key {name} on {table.name}, attaching the partitions' own",
                [f"-- squawk-ignore constraint-missing-not-valid, adding-foreign-key-constraint -- each partition "
                 f"holds {name} validated already: PostgreSQL attaches them, scanning nothing", add],
                [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {n}"],
                lock=SHARE_ROW_EXCLUSIVE, lock_note="the table, its partitions and the referenced table",
                risk="brief lock, no scan (the partitions' keys are valid)",
                rollback=f"drop {name} (its partitions' go with it)"),
    ]


def apply(op: AddForeignKey, schema: Schema) -> None:
    table = require_table(schema, op.table)
    table.constraints.append(Constraint(
        name=fk_name(op, table), kind="foreign_key", columns=list(op.columns),
        ref_table=require_table(schema, op.ref_table).name, ref_columns=list(op.ref_columns),
        on_delete=_on_delete(op).replace(" ON DELETE ", "") or None))


def describe(op: AddForeignKey) -> str:
    action = f" on delete {op.on_delete.lower()}" if op.on_delete else ""
    return f"add foreign key {cols(op.table, op.columns)} -> {cols(op.ref_table, op.ref_columns)}{action}"


def refusing_rows(op: AddForeignKey, schema: Schema) -> Optional[RowsCount]:
    """The rows whose key (all of its columns filled: MATCH SIMPLE lets a row with a NULL pass) no row
    of the referenced table holds."""
    table = require_table(schema, op.table)
    ref = schema.table(canonical_table(op.ref_table))
    if ref is None:
        return None  # made earlier in this plan: nothing there to count
    filled = " AND ".join(f"c.{ident(c)} IS NOT NULL" for c in op.columns)
    same = " AND ".join(f"p.{ident(r)} = c.{ident(c)}" for c, r in zip(op.columns, op.ref_columns))
    return RowsCount(table=table.name,
                     sql=(f"SELECT count(*) FROM {qname(table.name)} AS c WHERE {filled} "
                          f"AND NOT EXISTS (SELECT FROM {qname(ref.name)} AS p WHERE {same})"),
                     found=f"{table.name}: {{0}} with a ({', '.join(op.columns)}) no row of {ref.name} has",
                     fails="the key's validation fails on them: delete or fix those rows first, then plan again")
