"""rename_column: expand/contract, never a bare RENAME COLUMN.

A bare rename breaks every running instance of the application at once. Here
the new name exists beside the old one, kept equal by a trigger, until the
application has moved; then the old column goes.
"""

from __future__ import annotations

from ...model.operations import RenameColumn
from ...model.schema import Schema
from ...model.plan import Finding, Step
from ...pg.quote import ident, qname
from ._base import Ctx, code_step, require_column, require_new_column_name, require_table, tx_step
from ._partitions import defaults_sql
from ._shadow import deferred_key_warnings, drop_sync_sql, expand_steps, prepare
from ._shadow_swap import attach_unique_sql, own_sequences_sql, restore_old_sql, take_names_sql, unique_copies_sql


def _shadow(op: RenameColumn, schema: Schema, pg_version: int = 12):
    table = require_table(schema, op.table)
    old = require_column(table, op.column)
    require_new_column_name(table, op.new_name)
    return prepare(schema, table, old, op.new_name, old.type, None, rename=True, pg_version=pg_version)


def validate(op: RenameColumn, schema: Schema) -> None:
    _shadow(op, schema)


def plan(op: RenameColumn, ctx: Ctx) -> list[Step]:
    sh = _shadow(op, ctx.schema, ctx.settings.pg_version)
    t, o, n = qname(sh.table.name), ident(op.column), ident(op.new_name)
    steps = expand_steps(ctx, sh, "rename")
    steps.append(code_step(
        f"deploy code that reads and writes {sh.table.name}.{op.new_name} instead of {op.column}"))
    attach, detach = attach_unique_sql(sh)
    names, names_back = take_names_sql(sh)  # copies named `<original>_flux` take the original names
    default = defaults_sql(ctx.schema, sh.table, op.column, op.new_name, none=False)
    undefault = [f"ALTER TABLE {t} ALTER COLUMN {n} DROP DEFAULT"] if sh.old.default else []
    up = drop_sync_sql(sh) + own_sequences_sql(sh, op.new_name) + [
        f"-- squawk-ignore ban-drop-column -- the application stopped using {op.column} in the code step",
        f"ALTER TABLE {t} DROP COLUMN {o}",
    ] + names + default + attach
    steps.append(tx_step(
        ctx, "contract", f"drop {sh.table.name}.{op.column} and the sync trigger",
        up, detach + unique_copies_sql(sh) + names_back + undefault + restore_old_sql(sh),
        risk="brief lock, catalog change only", down_statement_timeout="0",
        rollback=f"re-create {op.column} from {op.new_name} (rewrites the table under lock)"))
    return steps


def warnings(op: RenameColumn, schema: Schema) -> list[Finding]:
    return deferred_key_warnings(require_table(schema, op.table), op.column)


def apply(op: RenameColumn, schema: Schema) -> None:
    table = require_table(schema, op.table)
    col = require_column(table, op.column)
    sh = _shadow(op, schema)
    finals = {id(x): sh.final_name(x.name) for x, _ in [*sh.indexes, *sh.constraints]}
    for con in table.constraints:  # a unique constraint is named as its index
        idx = next((i for i, _ in sh.indexes if con.kind == "unique" and i.name == con.name), None)
        con.name = finals.get(id(idx) if idx is not None else id(con), con.name)
    for idx in table.indexes:
        idx.name = finals.get(id(idx), idx.name)
    col.name = op.new_name
    for idx in table.indexes:
        idx.columns = [op.new_name if c == op.column else c for c in idx.columns]
        idx.include = [op.new_name if c == op.column else c for c in idx.include]
    for con in table.constraints:
        con.columns = [op.new_name if c == op.column else c for c in con.columns]
    table.primary_key = [op.new_name if c == op.column else c for c in table.primary_key]
    if schema.dependencies is not None:
        for dep in schema.dependencies.on(table.name, op.column):
            dep.columns = [op.new_name if c == op.column else c for c in dep.columns]
        for seq in schema.dependencies.sequences:
            if seq.owned_by == f"{table.name}.{op.column}":
                seq.owned_by = f"{table.name}.{op.new_name}"


def describe(op: RenameColumn) -> str:
    return f"rename column {op.table}.{op.column} to {op.new_name}"
