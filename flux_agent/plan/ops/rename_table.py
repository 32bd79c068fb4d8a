"""rename_table: rename plus an updatable view under the old name, in one
transaction, so old code keeps reading and writing; the view goes after the
application has moved to the new name.
"""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import RenameTable
from ...model.schema import Schema, Table
from ...model.plan import Step
from ...pg.ddl import sequence_of
from ...pg.quote import canonical_table, ident, qname, split_qualified
from ..naming import renamed_table_hash_name
from ._dependents import table_dependents
from ._ignores import ignore_lines
from ._base import Ctx, code_step, require_table, tx_step


def _names(op: RenameTable, schema: Schema) -> tuple[str, str]:
    table = require_table(schema, op.table)
    schema_name, _ = split_qualified(table.name)
    new_schema, new_bare = split_qualified(op.new_name)
    if new_schema and canonical_table(op.new_name).split(".")[0] != (schema_name or "public") \
            and not (new_schema == "public" and schema_name is None):
        raise FluxInputError("rename_table keeps the table in its schema; moving schemas is not supported")
    ident(new_bare)
    new_key = canonical_table(f"{schema_name}.{new_bare}" if schema_name else new_bare)
    if schema.table(new_key) or schema.view(new_key):
        raise FluxInputError(f"a table or view named {new_key!r} already exists")
    return table.name, new_bare


def validate(op: RenameTable, schema: Schema) -> None:
    _names(op, schema)
    table_dependents(schema, require_table(schema, op.table), "rename")


def _tool_names(table: Table, old_bare: str, new_bare: str) -> list[tuple[str, str, str]]:
    """(kind: sequence, index or constraint; its name; the new name) of what TypeORM names after
    table `old_bare` and renames with it (its renameTable): a serial column's sequence
    <table>_<column>_seq, and the indexes and constraints named by its hash of the table and columns
    (IDX_, UQ_, FK_, PK_)."""
    out = []
    for col in table.columns:
        seq = sequence_of(col.default)
        if seq is not None and split_qualified(seq)[1] == f"{old_bare}_{col.name}_seq":
            out.append(("sequence", split_qualified(seq)[1], f"{new_bare}_{col.name}_seq"))
    names = {c.name for c in table.constraints}
    for con in table.constraints:
        renamed = renamed_table_hash_name(con.name, old_bare, new_bare, con.columns)
        if renamed is not None:
            out.append(("constraint", con.name, renamed))
    for index in table.indexes:
        renamed = renamed_table_hash_name(index.name, old_bare, new_bare, index.columns)
        if renamed is not None and index.name not in names:
            out.append(("index", index.name, renamed))
    return [(k, a, b) for k, a, b in out if len(b.encode()) <= 63]


def _renames(table_name: str, renames: list[tuple[str, str, str]], back: bool) -> list[str]:
    schema_name, _ = split_qualified(table_name)
    out = []
    for kind, old, new in renames:
        old, new = (new, old) if back else (old, new)
        where = f"{ident(schema_name)}.{ident(old)}" if schema_name else ident(old)
        if kind == "constraint":
            out.append(f"ALTER TABLE {qname(table_name)} RENAME CONSTRAINT {ident(old)} TO {ident(new)}")
        else:
            out.append(f"ALTER {kind.upper()} {where} RENAME TO {ident(new)}")
    return out


def plan(op: RenameTable, ctx: Ctx) -> list[Step]:
    old, new_bare = _names(op, ctx.schema)
    schema_name, _ = split_qualified(old)
    new = f"{schema_name}.{new_bare}" if schema_name else new_bare
    # TypeORM renames these with the table, and its next diff expects them so (else it builds a
    # second sequence and swaps the id's default, rebuilds the indexes): renamed here as it would.
    tool_names = _tool_names(require_table(ctx.schema, old), split_qualified(old)[1], new_bare) \
        if ctx.tool == "typeorm" else []
    up = [
        "-- squawk-ignore renaming-table -- a view keeps the old name working until the code step",
        f"ALTER TABLE {qname(old)} RENAME TO {ident(new_bare)}",
        f"CREATE VIEW {qname(old)} AS SELECT * FROM {qname(new)}",
        *(line for sql in _renames(new, tool_names, back=False) for line in (
            *ignore_lines(["renaming-object"], "TypeORM renames it with the table (its renameTable), "
                                               "and its next diff expects the new name"), sql)),
    ]
    down = [*_renames(new, tool_names, back=True), f"DROP VIEW IF EXISTS {qname(old)}",
            f"ALTER TABLE {qname(new)} RENAME TO {ident(old.split('.')[-1])}"]
    return [
        tx_step(ctx, "expand", f"rename {old} to {new}, keep {old} as an updatable view", up, down,
                risk="brief lock, catalog change only; old code reads and writes through the view",
                rollback=f"drop the view, rename {new} back to {old}"),
        code_step(f"deploy code that uses {new} instead of {old}"),
        tx_step(ctx, "contract", f"drop the compatibility view {old}", [f"-- squawk-ignore ban-drop-view -- the application moved to {new} in the code step",
                                                                    f"DROP VIEW {qname(old)}"],
                [f"CREATE VIEW {qname(old)} AS SELECT * FROM {qname(new)}"],
                risk="brief lock on the view only", rollback=f"re-create the view {old}"),
    ]


def apply(op: RenameTable, schema: Schema) -> None:
    old, new_bare = _names(op, schema)
    schema_name, _ = split_qualified(old)
    new = canonical_table(f"{schema_name}.{new_bare}" if schema_name else new_bare)
    schema.table(old).name = new
    for t in schema.tables:
        for con in t.constraints:
            if con.ref_table == old:
                con.ref_table = new
    for v in schema.views:
        v.depends_on = [new if d == old else d for d in v.depends_on]
    if schema.dependencies is not None:
        schema.dependencies.retarget(old, new)


def apply_named(op: RenameTable, schema: Schema, tool: str) -> None:
    """After apply: what the project's tool renames with the table (plan's _tool_names), renamed."""
    if tool != "typeorm":
        return
    old_schema, old_bare = split_qualified(canonical_table(op.table))
    new = canonical_table(f"{old_schema}.{split_qualified(op.new_name)[1]}" if old_schema else op.new_name)
    table = require_table(schema, new)
    renames = {(kind, a): b for kind, a, b in _tool_names(table, old_bare, split_qualified(new)[1])}
    for col in table.columns:
        seq = sequence_of(col.default)
        where, bare = split_qualified(seq) if seq is not None else (None, "")
        if ("sequence", bare) in renames:
            named = renames["sequence", bare]
            col.default = f"nextval('{where + '.' + named if where else named}'::regclass)"
    for con in table.constraints:
        con.name = renames.get(("constraint", con.name), con.name)
    for index in table.indexes:
        index.name = renames.get(("index", index.name), renames.get(("constraint", index.name), index.name))


def describe(op: RenameTable) -> str:
    return f"rename table {op.table} to {op.new_name}"
