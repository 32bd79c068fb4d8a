"""rename_table: rename plus an updatable view under the old name, in one
transaction, so old code keeps reading and writing; the view goes after the
application has moved to the new name.
"""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import RenameTable
from ...model.schema import Schema
from ...model.plan import Step
from ...pg.quote import canonical_table, ident, qname, split_qualified
from ._dependents import table_dependents
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


def plan(op: RenameTable, ctx: Ctx) -> list[Step]:
    old, new_bare = _names(op, ctx.schema)
    schema_name, _ = split_qualified(old)
    new = f"{schema_name}.{new_bare}" if schema_name else new_bare
    up = [
        "-- squawk-ignore renaming-table -- a view keeps the old name working until the code step",
        f"ALTER TABLE {qname(old)} RENAME TO {ident(new_bare)}",
        f"CREATE VIEW {qname(old)} AS SELECT * FROM {qname(new)}",
    ]
    down = [f"DROP VIEW IF EXISTS {qname(old)}", f"ALTER TABLE {qname(new)} RENAME TO {ident(old.split('.')[-1])}"]
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


def describe(op: RenameTable) -> str:
    return f"rename table {op.table} to {op.new_name}"
